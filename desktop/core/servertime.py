"""The database server's time, as this workstation knows it: the one "now" of every countdown.

Deadlines, history and alarm times are the database's clock (:mod:`db.core.dbclock`). A
workstation whose own clock is off would colour a case overdue two minutes early or late, so
everything that compares a time of the database with "now" (the queue's and the detail's
countdowns, the map's deadline colours, today's cleared alerts, the status bar's clock) asks
:meth:`ServerClock.now`: this machine's UTC plus the offset last measured
(:func:`db.core.dbclock.measure_offset`, on the read lane, never on the GUI thread). Until the
first measurement the offset is zero (this machine's clock).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from db.core.dbclock import SKEW_WARNING


class ServerClock:
    """This machine's UTC plus the measured offset to the database server's clock.

    ``offset`` is written on the GUI thread and read by workers (one float, replaced whole)."""

    def __init__(self, local: Callable[[], dt.datetime] | None = None) -> None:
        self._local = local or (lambda: dt.datetime.now(dt.UTC))
        self.offset = 0.0  # seconds: the server's clock minus this machine's
        self.measured = False

    def now(self) -> dt.datetime:
        """The server's time now, aware UTC."""
        return self._local() + dt.timedelta(seconds=self.offset)

    def set_offset(self, seconds: float) -> None:
        self.offset = float(seconds)
        self.measured = True

    @property
    def skewed(self) -> bool:
        """This machine's clock is off the server's by more than :data:`SKEW_WARNING`."""
        return abs(self.offset) > SKEW_WARNING.total_seconds()


__all__ = ["ServerClock"]
