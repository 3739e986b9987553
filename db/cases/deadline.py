"""The department's deadline clock of a case: when it runs, and what it says now.

One rule for every screen and query:

* the clock **runs** while the case is in the department's hands and the department owes
  the work: :data:`RUNNING_STATES` (being handled, extension requested);
* it is **parked** (paused by a leader) in :data:`PARKED_STATES`;
* it is **handled** once the department has reported the work done and the case waits for
  the check or the closing (:data:`HANDLED_STATES`): no longer the department's delay;
* it does not exist in any other state (before dispatch, closed, void).

Only a running clock has a deadline status; the overdue filter and the deadline sort of
:mod:`db.cases.queries`, the queue, the map and the case detail all read :func:`countdown`
or these sets, so changing a set here changes them all.

The sets are read when called, never copied at import, so a test (or a later rule) that
replaces one here is followed everywhere.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from db.cases.workflow import State
from db.worktime.clock import WorkCalendar

#: States in which the department's deadline clock counts down.
RUNNING_STATES: frozenset[State] = frozenset({State.HANDLING, State.EXTENSION_PENDING})
#: States in which the clock is paused (挂账).
PARKED_STATES: frozenset[State] = frozenset({State.PARKED})
#: States in which the department reported the work done: its clock no longer runs.
HANDLED_STATES: frozenset[State] = frozenset({State.PENDING_CHECK, State.PENDING_CLOSE})

RUNNING, PARKED, HANDLED, NO_CLOCK = "running", "parked", "handled", "none"
STATUSES = ("overdue", "due_soon", "on_track", "none")


def clock_phase(state: str) -> str:
    """``running`` / ``parked`` / ``handled`` / ``none``: what the deadline clock does in
    ``state`` (a :class:`State` or its value)."""
    if state in RUNNING_STATES:  # State is a StrEnum: its values compare and hash as str
        return RUNNING
    if state in PARKED_STATES:
        return PARKED
    if state in HANDLED_STATES:
        return HANDLED
    return NO_CLOCK


def running_state_values() -> list[str]:
    """The values of :data:`RUNNING_STATES`, sorted: for SQL ``IN`` lists."""
    return sorted(State(s).value for s in RUNNING_STATES)


@dataclass(frozen=True)
class Countdown:
    """A case's deadline clock at one moment.

    ``seconds_left`` is in the limit's own time: working seconds for ``work_hours`` and
    ``work_days``, calendar seconds for ``minutes`` (and when the limit is unknown); negative
    when overdue; None unless the clock runs and there is a deadline. ``day_seconds`` is the
    length of the city's office day, so a screen can say working days.
    """

    phase: str  # running / parked / handled / none
    status: str  # overdue / due_soon / on_track / none
    seconds_left: float | None
    unit: str | None  # work_hours / work_days / minutes, or None when the limit is unknown
    deadline_at: dt.datetime | None
    day_seconds: int
    limit_amount: int | None = None

    @property
    def running(self) -> bool:
        """True when the clock counts down and there is a time left to show."""
        return self.seconds_left is not None

    @property
    def overdue(self) -> bool:
        return self.status == "overdue"

    @property
    def working_days_left(self) -> float | None:
        """``seconds_left`` in office days (only for working-time units)."""
        if self.seconds_left is None or self.unit not in ("work_days", "work_hours"):
            return None
        return self.seconds_left / self.day_seconds


def countdown(calendar: WorkCalendar, now: dt.datetime, state: str,
              deadline_at: dt.datetime | None, limit_amount: int | None,
              limit_unit: str | None) -> Countdown:
    """The deadline clock of a case in ``state`` at ``now``.

    ``limit_amount`` / ``limit_unit`` are the *effective* limit (an emergency's 30 minutes,
    see :func:`db.cases.workflow.effective_limit`); ``deadline_at`` an aware UTC time.
    """
    phase = clock_phase(state)
    day = int(calendar.day_seconds)
    if phase != RUNNING or deadline_at is None:
        return Countdown(phase, "none", None, limit_unit, deadline_at, day, limit_amount)
    if not limit_unit or not limit_amount:
        # A deadline without a known limit: only the wall clock can say where it stands.
        left = (deadline_at - now).total_seconds()
        return Countdown(phase, "overdue" if now >= deadline_at else "on_track", left, None,
                         deadline_at, day, limit_amount)
    left = calendar.remaining_seconds(now, deadline_at, limit_unit)
    status = calendar.status(now, deadline_at, limit_amount, limit_unit)
    return Countdown(phase, status, left, limit_unit, deadline_at, day, limit_amount)


__all__ = ["HANDLED", "HANDLED_STATES", "NO_CLOCK", "PARKED", "PARKED_STATES", "RUNNING",
           "RUNNING_STATES", "Countdown", "clock_phase", "countdown", "running_state_values"]
