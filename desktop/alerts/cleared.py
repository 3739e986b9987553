"""The alerts cleared today (Asia/Shanghai day), read-only: when, by whom, which alert, why.

The alert panel shows this list under its "Cleared today" toggle, so a shift leader can review
what the desk cleared and with what reason (:func:`db.alerts.lifecycle.cleared_alerts`). While
shown it follows the change feed (entity ``alert``): a clearing anywhere appears at once.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.alerts import lifecycle as alerts
from db.alerts.lifecycle import AlertRow
from db.core.entities import Entity
from db.worktime.clock import SHANGHAI
from desktop.alerts.severity import SEVERITY_ROLE, SeverityChipDelegate
from desktop.core import labels
from desktop.core.context import AppContext
from desktop.core.widgets import fixed_rows


def shanghai_day(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The Shanghai calendar day holding ``now``: its start and the next day's, aware UTC."""
    day = now.astimezone(SHANGHAI).date()
    start = dt.datetime.combine(day, dt.time(0, 0), SHANGHAI)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


class ClearedTodayView(QWidget):
    """See the module docstring. ``clock`` gives "now" (tests pass a fixed one)."""

    COLUMNS = 5
    SEVERITY_COLUMN = 2

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clearedToday")
        self._ctx = ctx
        self._clock = clock or ctx.clock.now  # "today" by the database's time
        self._loading = False
        self._load_again = False
        self.rows: list[AlertRow] = []
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.table = QTableWidget(0, self.COLUMNS)
        self.table.setHorizontalHeaderLabels([
            self.tr("Cleared at"), self.tr("Cleared by"), self.tr("Severity"), self.tr("Alert"),
            self.tr("Why")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        fixed_rows(self.table)
        self.table.setItemDelegateForColumn(self.SEVERITY_COLUMN, SeverityChipDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.COLUMNS - 1, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        ctx.changes.subscribe(Entity.ALERT, self._alerts_changed)

    @property
    def loading(self) -> bool:
        return self._loading

    def reload(self) -> None:
        """Read today's cleared alerts again."""
        if self._loading:
            self._load_again = True
            return
        self._loading = True
        database = self._ctx.database
        since, until = shanghai_day(self._clock())

        def work() -> list[AlertRow]:
            with database.read() as session:
                return alerts.cleared_alerts(session, since, until)

        self._ctx.reads.run(work, self._loaded, self._failed)

    def _alerts_changed(self, _ids, _origin: object | None = None) -> None:
        if self.isVisible():
            self.reload()

    def _loaded(self, rows: list[AlertRow]) -> None:
        self._loading = False
        if self._load_again:
            self._load_again = False
            self.reload()
            return
        self.rows = rows
        self.title.setText(self.tr("%1 alerts cleared today").replace("%1", str(len(rows))))
        self.table.setRowCount(len(rows))
        for i, a in enumerate(rows):
            cells = (
                a.cleared_at.astimezone(SHANGHAI).strftime("%H:%M:%S") if a.cleared_at else "",
                a.cleared_by or "?",
                labels.severity_name(a.severity),
                a.title,
                a.clear_note or self.tr("(no reason given)"),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)  # item text is always plain
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                if column == self.SEVERITY_COLUMN:
                    item.setData(SEVERITY_ROLE, a.severity)
                self.table.setItem(i, column, item)

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self._load_again = False
        self.title.setText(self.tr("The cleared alerts could not be read: %1")
                           .replace("%1", getattr(exc, "message", None) or str(exc)))

    def texts(self) -> list[list[str]]:
        """Each row's cells as shown (for tests and copying)."""
        return [[self.table.item(r, c).text() for c in range(self.COLUMNS)]
                for r in range(self.table.rowCount())]


__all__ = ["ClearedTodayView", "shanghai_day"]
