"""The status bar's warning that this computer's clock is off the database server's.

Every minute (and once at the start) the read lane measures the offset
(:func:`db.core.dbclock.measure_offset`: the server's ``clock_timestamp()`` minus this machine's
UTC, the round trip halved out) and keeps it in the window's context (``ctx.clock``), which
every countdown reads as "now" (:mod:`desktop.core.servertime`). Beyond
:data:`db.core.dbclock.SKEW_WARNING` the officer is told: countdowns are right, but the
computer's own clock (its taskbar, other programs) is not.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

from db.core.dbclock import measure_offset
from desktop.core import theme
from desktop.core.context import AppContext

log = logging.getLogger(__name__)


class ClockWarning(QLabel):
    """Hidden while this computer's clock agrees with the server's (within a few seconds)."""

    CHECK_MS = 60_000

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clockWarning")
        self._ctx = ctx
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setStyleSheet(f"color: {theme.DEADLINE_COLORS['overdue']}; font-weight: bold;")
        self.hide()
        self._timer = QTimer(self, interval=self.CHECK_MS)
        self._timer.timeout.connect(self.measure)
        self._timer.start()
        self.measure()

    def measure(self) -> None:
        """Measure the offset on the read lane (never on the GUI thread)."""
        database = self._ctx.database

        def work() -> tuple[float, float]:
            return measure_offset(database)

        self._ctx.reads.run(work, self._measured, self._not_measured)

    def _measured(self, result: tuple[float, float]) -> None:
        self.show_offset(result[0])

    def _not_measured(self, exc: BaseException) -> None:
        # The database is unreachable: the outage banner says so; keep the last offset.
        log.debug("clock offset not measured: %s", exc)

    def show_offset(self, seconds: float) -> None:
        """Keep ``seconds`` (the server's clock minus this computer's) and warn when skewed."""
        clock = self._ctx.clock
        clock.set_offset(seconds)
        if not clock.skewed:
            self.hide()
            return
        amount = f"{abs(seconds):.0f}"
        if seconds > 0:
            text = self.tr("This computer's clock is %1 s behind the database server's; "
                           "deadlines and countdowns use the server's time.")
        else:
            text = self.tr("This computer's clock is %1 s ahead of the database server's; "
                           "deadlines and countdowns use the server's time.")
        self.setText(text.replace("%1", amount))
        self.show()


__all__ = ["ClockWarning"]
