"""Translatable names for the domain's codes (states, steps, sources, urgency, roles).

Source strings are English; Chinese comes from ``resources/i18n/cityops_zh_CN.ts`` like every
other string of the UI. ``db/`` keeps its own Chinese labels for logs and messages.
"""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from db.roles import Role
from db.workflow import Source, State, Step, Urgency

CONTEXT = "labels"


def N(text: str) -> str:  # noqa: N802 - marks a literal for lupdate, translated later
    return QT_TRANSLATE_NOOP("labels", text)


def _t(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


_STATE = {
    State.PENDING_ACCEPT: N("Awaiting acceptance"), State.PENDING_OPEN: N("Awaiting opening"),
    State.PENDING_DISPATCH: N("Awaiting dispatch"), State.HANDLING: N("Being handled"),
    State.EXTENSION_PENDING: N("Extension requested"), State.PARKED: N("Parked"),
    State.PENDING_CHECK: N("Awaiting check"), State.PENDING_CLOSE: N("Awaiting closing"),
    State.CLOSED: N("Closed"), State.VOID: N("Void"),
}
_STEP = {
    Step.ACCEPT: N("Accept"), Step.OPEN: N("Open case"), Step.DISPATCH: N("Dispatch"),
    Step.RETURN: N("Return"), Step.FEEDBACK: N("Report handled"),
    Step.REQUEST_EXTENSION: N("Request extension"), Step.APPROVE_EXTENSION: N("Approve extension"),
    Step.REJECT_EXTENSION: N("Reject extension"), Step.PARK: N("Park"), Step.UNPARK: N("Resume"),
    Step.VERIFY: N("Check passed"), Step.REWORK: N("Rework"), Step.CLOSE: N("Close case"),
    Step.FIX_ON_SPOT: N("Fixed on the spot"), Step.VOID: N("Void"),
}
_SOURCE = {
    Source.HOTLINE_12345: N("12345 hotline"), Source.TRANSFER_110: N("110 transfer"),
    Source.TRANSFER_119: N("119 transfer"), Source.INSPECTOR: N("Inspector"),
    Source.VIDEO: N("Video detection"), Source.SENSOR: N("Sensor"), Source.LEADER: N("Leader"),
    Source.ENTERPRISE: N("Enterprise line"), Source.WALK_IN: N("Walk-in"),
}
_URGENCY = {Urgency.NORMAL: N("Normal"), Urgency.URGENT: N("Urgent"), Urgency.EMERGENCY: N("Emergency")}
_ROLE = {
    Role.DUTY_OFFICER: N("Duty officer"), Role.DISPATCHER: N("Dispatcher"),
    Role.SHIFT_LEADER: N("Shift leader"), Role.LEADER: N("Leader"), Role.INSPECTOR: N("Inspector"),
    Role.FIELD_OFFICER: N("Field officer"), Role.DEPARTMENT_HANDLER: N("Department handler"),
    Role.ADMIN: N("Administrator"),
}
_DEADLINE = {"overdue": N("Overdue"), "due_soon": N("Due soon"), "on_track": N("On track"),
             "none": N("No deadline")}


def state_name(value: str) -> str:
    return _t(_STATE[State(value)])


def step_name(value: str) -> str:
    if value == "report":
        return _t("Reported")
    return _t(_STEP[Step(value)])


def source_name(value: str) -> str:
    return _t(_SOURCE[Source(value)])


def urgency_name(value: str) -> str:
    return _t(_URGENCY[Urgency(value)])


def role_name(value: str) -> str:
    return _t(_ROLE[Role(value)])


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
        return _t("%1%2d %3h").replace("%1", sign).replace("%2", str(days)).replace("%3", str(hours))
    return _t("%1%2h %3m").replace("%1", sign).replace("%2", str(hours)).replace("%3", f"{minutes:02d}")


