"""Translatable names for the domain's codes (states, steps, sources, urgency, roles, alerts).

Source strings are English; Chinese comes from ``resources/i18n/cityops_zh_CN.ts`` like every
other string of the UI. ``db/`` keeps its own Chinese labels for logs and messages.
"""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from db.auth.roles import Role
from db.cases.workflow import Source, State, Step, Urgency

CONTEXT = "labels"


def _t(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


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


def format_duration(seconds: float) -> str:
    """``2h 05m`` / ``-0h 40m`` (overdue) / ``3d 4h``: short enough for a queue column."""
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    days, rem = divmod(s, 86400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    if days:
        text = QCoreApplication.translate("labels", "%1%2d %3h")
        return text.replace("%1", sign).replace("%2", str(days)).replace("%3", str(hours))
    text = QCoreApplication.translate("labels", "%1%2h %3m")
    return text.replace("%1", sign).replace("%2", str(hours)).replace("%3", f"{minutes:02d}")


