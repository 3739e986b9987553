"""Translatable names for the domain's codes (states, steps, sources, urgency, roles, alerts).

Source strings are English; Chinese comes from ``resources/i18n/cityops_zh_CN.ts`` like every
other string of the UI. ``db/`` keeps its own Chinese labels for logs and messages.
"""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from db.auth.roles import Role
from db.cases.deadline import Countdown
from db.cases.workflow import Source, State, Step, Urgency
from db.worktime.clock import SHANGHAI

CONTEXT = "labels"


def _t(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


def unbroken(text: str) -> str:
    """``text`` that a wrapping label never splits: a WORD JOINER (U+2060, invisible) between
    every two characters, a no-break space for a space. For a short name inside a sentence
    (a state: "待结案" split as "待 / 结案" reads as another word)."""
    return "\u2060".join(text.replace(" ", "\u00a0"))


_STATE = {
    State.PENDING_ACCEPT: QT_TRANSLATE_NOOP("labels", "Awaiting acceptance"), State.PENDING_OPEN: QT_TRANSLATE_NOOP("labels", "Awaiting opening"),
    State.PENDING_DISPATCH: QT_TRANSLATE_NOOP("labels", "Awaiting dispatch"), State.HANDLING: QT_TRANSLATE_NOOP("labels", "Being handled"),
    State.EXTENSION_PENDING: QT_TRANSLATE_NOOP("labels", "Extension requested"), State.PARKED: QT_TRANSLATE_NOOP("labels", "Parked"),
    State.PENDING_CHECK: QT_TRANSLATE_NOOP("labels", "Awaiting check"), State.PENDING_CLOSE: QT_TRANSLATE_NOOP("labels", "Awaiting closing"),
    State.CLOSED: QT_TRANSLATE_NOOP("labels", "Closed"), State.VOID: QT_TRANSLATE_NOOP("labels", "Void"),
}
_STEP = {
    Step.ACCEPT: QT_TRANSLATE_NOOP("labels", "Accept"), Step.OPEN: QT_TRANSLATE_NOOP("labels", "Open case"), Step.DISPATCH: QT_TRANSLATE_NOOP("labels", "Dispatch"),
    Step.RETURN: QT_TRANSLATE_NOOP("labels", "Return"), Step.FEEDBACK: QT_TRANSLATE_NOOP("labels", "Report handled"),
    Step.REQUEST_EXTENSION: QT_TRANSLATE_NOOP("labels", "Request extension"), Step.APPROVE_EXTENSION: QT_TRANSLATE_NOOP("labels", "Approve extension"),
    Step.REJECT_EXTENSION: QT_TRANSLATE_NOOP("labels", "Reject extension"), Step.PARK: QT_TRANSLATE_NOOP("labels", "Park"), Step.UNPARK: QT_TRANSLATE_NOOP("labels", "Resume"),
    Step.VERIFY: QT_TRANSLATE_NOOP("labels", "Check passed"), Step.REWORK: QT_TRANSLATE_NOOP("labels", "Rework"), Step.CLOSE: QT_TRANSLATE_NOOP("labels", "Close case"),
    Step.FIX_ON_SPOT: QT_TRANSLATE_NOOP("labels", "Fixed on the spot"), Step.VOID: QT_TRANSLATE_NOOP("labels", "Void"),
}
_SOURCE = {
    Source.HOTLINE_12345: QT_TRANSLATE_NOOP("sources", "12345 hotline"), Source.TRANSFER_110: QT_TRANSLATE_NOOP("sources", "110 transfer"),
    Source.TRANSFER_119: QT_TRANSLATE_NOOP("sources", "119 transfer"), Source.INSPECTOR: QT_TRANSLATE_NOOP("sources", "Inspector"),
    Source.VIDEO: QT_TRANSLATE_NOOP("sources", "Video detection"), Source.SENSOR: QT_TRANSLATE_NOOP("sources", "Sensor"), Source.LEADER: QT_TRANSLATE_NOOP("sources", "Leader"),
    Source.ENTERPRISE: QT_TRANSLATE_NOOP("sources", "Enterprise line"), Source.WALK_IN: QT_TRANSLATE_NOOP("sources", "Walk-in"),
}
_URGENCY = {Urgency.NORMAL: QT_TRANSLATE_NOOP("labels", "Normal"), Urgency.URGENT: QT_TRANSLATE_NOOP("labels", "Urgent"), Urgency.EMERGENCY: QT_TRANSLATE_NOOP("labels", "Emergency")}
_ROLE = {
    Role.DUTY_OFFICER: QT_TRANSLATE_NOOP("roles", "Duty officer"), Role.DISPATCHER: QT_TRANSLATE_NOOP("roles", "Dispatcher"),
    Role.SHIFT_LEADER: QT_TRANSLATE_NOOP("roles", "Shift leader"), Role.LEADER: QT_TRANSLATE_NOOP("roles", "Leader"), Role.INSPECTOR: QT_TRANSLATE_NOOP("roles", "Inspector"),
    Role.FIELD_OFFICER: QT_TRANSLATE_NOOP("roles", "Field officer"), Role.DEPARTMENT_HANDLER: QT_TRANSLATE_NOOP("roles", "Department handler"),
    Role.ADMIN: QT_TRANSLATE_NOOP("roles", "Administrator"),
}
_DEADLINE = {"overdue": QT_TRANSLATE_NOOP("labels", "Overdue"), "due_soon": QT_TRANSLATE_NOOP("labels", "Due soon"), "on_track": QT_TRANSLATE_NOOP("labels", "On track"),
             "none": QT_TRANSLATE_NOOP("labels", "No deadline")}


_SEVERITY = {"critical": QT_TRANSLATE_NOOP("alerts", "Critical"), "major": QT_TRANSLATE_NOOP("alerts", "Major"),
             "minor": QT_TRANSLATE_NOOP("alerts", "Minor"), "warning": QT_TRANSLATE_NOOP("alerts", "Warning")}
_ALERT_STATE = {"active": QT_TRANSLATE_NOOP("alerts", "Active"),
                "acknowledged": QT_TRANSLATE_NOOP("alerts", "Acknowledged"),
                "cleared": QT_TRANSLATE_NOOP("alerts", "Cleared")}
_ALERT_SOURCE = {"sensor": QT_TRANSLATE_NOOP("alerts", "Sensor"), "camera": QT_TRANSLATE_NOOP("alerts", "Video analytics"),
                 "110": QT_TRANSLATE_NOOP("alerts", "110 transfer"), "119": QT_TRANSLATE_NOOP("alerts", "119 transfer")}


def severity_name(value: str) -> str:
    return QCoreApplication.translate("alerts", _SEVERITY.get(value, value))


def alert_state_name(value: str) -> str:
    return QCoreApplication.translate("alerts", _ALERT_STATE.get(value, value))


def alert_source_name(value: str) -> str:
    return QCoreApplication.translate("alerts", _ALERT_SOURCE.get(value, value))


def state_name(value: str) -> str:
    return _t(_STATE[State(value)])


def step_name(value: str) -> str:
    if value == "report":
        return QCoreApplication.translate("labels", "Reported")
    return _t(_STEP[Step(value)])


def source_name(value: str) -> str:
    return QCoreApplication.translate("sources", _SOURCE[Source(value)])


def urgency_name(value: str) -> str:
    return _t(_URGENCY[Urgency(value)])


def role_name(value: str) -> str:
    return QCoreApplication.translate("roles", _ROLE[Role(value)])


def deadline_name(value: str) -> str:
    return _t(_DEADLINE[value])


def countdown_text(clock: Countdown) -> str:
    """The time left of a running clock, short enough for a queue column, in the unit the
    class's limit is counted in: ``2.5 wd left`` (working days of the city's office day, to
    one decimal), ``2 wh 05 m left`` (working hours and minutes, floored to the minute),
    ``7 min over`` (calendar minutes, floored). Empty when the clock does not run."""
    left = clock.seconds_left
    if left is None:
        return ""
    # At or past the deadline the case is overdue even when no working time has passed since
    # (a deadline at 17:30 seen at 19:00): it never reads "0 left".
    over = left < 0 or clock.status == "overdue"
    magnitude = abs(left)
    if clock.unit == "work_days":
        days = f"{magnitude / clock.day_seconds:.1f}"
        text = (QCoreApplication.translate("labels", "%1 wd over") if over
                else QCoreApplication.translate("labels", "%1 wd left"))
        return text.replace("%1", days)
    if clock.unit == "work_hours":
        hours, rem = divmod(int(magnitude), 3600)
        text = (QCoreApplication.translate("labels", "%1 wh %2 m over") if over
                else QCoreApplication.translate("labels", "%1 wh %2 m left"))
        return text.replace("%1", str(hours)).replace("%2", f"{rem // 60:02d}")
    # minutes (emergencies), or a deadline whose limit is unknown: calendar time
    text = (QCoreApplication.translate("labels", "%1 min over") if over
            else QCoreApplication.translate("labels", "%1 min left"))
    return text.replace("%1", str(int(magnitude) // 60))


def due_text(clock: Countdown, now: dt.datetime) -> str:
    """When the deadline falls, Shanghai wall time: ``due today 16:35`` on ``now``'s local
    date (just ``due 09:42`` for a calendar-minute limit), else ``due 12-09 15:00``."""
    if clock.deadline_at is None:
        return ""
    local = clock.deadline_at.astimezone(SHANGHAI)
    if local.date() == now.astimezone(SHANGHAI).date():
        if clock.unit == "minutes":
            when, text = local.strftime("%H:%M"), QCoreApplication.translate("labels", "due %1")
        else:
            when = local.strftime("%H:%M")
            text = QCoreApplication.translate("labels", "due today %1")
    else:
        when, text = local.strftime("%m-%d %H:%M"), QCoreApplication.translate("labels", "due %1")
    return text.replace("%1", when)


def countdown_with_due(clock: Countdown, now: dt.datetime) -> str:
    """``2.5 wd left · due 12-09 15:00``: the time left and when the deadline falls."""
    text, due = countdown_text(clock), due_text(clock, now)
    return " · ".join(part for part in (text, due) if part)
