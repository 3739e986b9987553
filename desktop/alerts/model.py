"""The active alerts as a table model: most severe first, then newest.

The model holds every uncleared alert (a control room has tens to a few hundred at once, so a
plain list is right here, unlike the million-row case queue). It never reads the database
itself: the panel loads :func:`db.alerts.lifecycle.active_alerts` once and then hands it the rows the
change feed names (:meth:`AlertModel.merge`), which inserts, moves (``beginMoveRows``, so the
selection follows the alert), updates or drops each row in place. The order is by when an
alarm *began*, so a repeating alarm keeps its place; a row only moves when it escalates or is
acknowledged. A row older than the one held (a slow read that raced an action) is ignored.

Critical alerts that nobody has acknowledged *blink* (the panel flips :attr:`blink_phase`).
"""
from __future__ import annotations

import bisect
import datetime as dt
import enum
import html
from collections.abc import Iterable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QColor, QFont

from db.alerts.lifecycle import SEVERITIES, AlertRow
from db.worktime.clock import SHANGHAI
from desktop.core import labels, theme

_RANK = {s: i for i, s in enumerate(SEVERITIES)}


class Col(enum.IntEnum):
    SEVERITY = 0
    TITLE = 1
    PLACE = 2
    COUNT = 3
    LAST = 4
    STATE = 5
    CASE = 6


HEADERS = {
    Col.SEVERITY: QT_TRANSLATE_NOOP("AlertModel", "Level"),
    Col.TITLE: QT_TRANSLATE_NOOP("AlertModel", "Alert"),
    Col.PLACE: QT_TRANSLATE_NOOP("AlertModel", "Town"),
    Col.COUNT: QT_TRANSLATE_NOOP("AlertModel", "Repeats"),
    Col.LAST: QT_TRANSLATE_NOOP("AlertModel", "Last"),
    Col.STATE: QT_TRANSLATE_NOOP("AlertModel", "State"),
    Col.CASE: QT_TRANSLATE_NOOP("AlertModel", "Case"),
}


def sort_key(row: AlertRow) -> tuple:
    """Severity; then unacknowledged before acknowledged; then the newest alarm first by when it
    began (not its latest repeat, which would reshuffle the list every few seconds); then id.
    The same order as :func:`db.alerts.lifecycle.active_alerts`."""
    return (_RANK.get(row.severity, len(SEVERITIES)), 0 if row.state == "active" else 1,
            -row.first_at.timestamp(), -row.id)


def _freshness(row: AlertRow) -> tuple:
    return (row.version, row.repeat_count, row.last_at)


def needs_attention(row: AlertRow) -> bool:
    """A critical alert nobody has acknowledged yet: it blinks and it sounds."""
    return row.severity == "critical" and row.state == "active"


class AlertModel(QAbstractTableModel):
    """Uncleared alerts in :func:`sort_key` order; see the module docstring."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[AlertRow] = []
        self._keys: list[tuple] = []  # sort_key of each row: placing a row is a bisect
        self._ids: list[int] = []  # id of each row: finding one is a C-speed list.index
        self.removing: int | None = None  # the alert id being removed, while Qt is told
        self.blink_phase = False
        self._bold = QFont()
        self._bold.setBold(True)

    # -- contents ------------------------------------------------------------------------
    @property
    def alerts(self) -> list[AlertRow]:
        return list(self._rows)

    def alert(self, row: int) -> AlertRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, alert_id: int) -> int:
        try:
            return self._ids.index(alert_id)
        except ValueError:
            return -1

    def set_alerts(self, rows: Iterable[AlertRow]) -> None:
        held = {r.id: r for r in self._rows}
        fresh = [r if r.id not in held or _freshness(r) >= _freshness(held[r.id]) else held[r.id]
                 for r in rows]
        self.beginResetModel()
        self._rows = sorted((r for r in fresh if r.state != "cleared"), key=sort_key)
        self._keys = [sort_key(r) for r in self._rows]
        self._ids = [r.id for r in self._rows]
        self.endResetModel()

    def merge(self, rows: Iterable[AlertRow], gone: Iterable[int] = ()) -> list[AlertRow]:
        """Apply changed alerts one by one (insert, update in place, move, or drop when
        cleared); ids in ``gone`` are dropped. Returns the rows that are new to the model."""
        new: list[AlertRow] = []
        for alert_id in gone:
            self._remove(self.row_of(alert_id))
        for r in rows:
            at = self.row_of(r.id)
            if at >= 0 and _freshness(r) < _freshness(self._rows[at]):
                continue  # an older read than what is on screen
            if r.state == "cleared":
                self._remove(at)
            elif at < 0:
                new.append(r)
                self._insert(r)
            else:
                self._place(at, r)
        return new

    def _place(self, at: int, r: AlertRow) -> None:
        """Update row ``at`` with ``r``, moving it if its place in the order changed."""
        key, old = sort_key(r), self._keys[at]
        # Where it goes among the *other* rows (keys are unique: they end with the id).
        if key < old:
            to = bisect.bisect_right(self._keys, key, 0, at)
        else:
            to = bisect.bisect_right(self._keys, key, at + 1) - 1
        if to != at:
            # Qt's destination is a row of the list *before* the move.
            self.beginMoveRows(QModelIndex(), at, at, QModelIndex(), to if to < at else to + 1)
            for column in (self._rows, self._keys, self._ids):
                del column[at]
            self._rows.insert(to, r)
            self._keys.insert(to, key)
            self._ids.insert(to, r.id)
            self.endMoveRows()
        else:
            self._rows[at], self._keys[at] = r, key
        self.dataChanged.emit(self.index(to, 0), self.index(to, len(Col) - 1))

    def _remove(self, at: int) -> None:
        if at < 0:
            return
        self.removing = self._rows[at].id
        self.beginRemoveRows(QModelIndex(), at, at)
        for column in (self._rows, self._keys, self._ids):
            del column[at]
        self.endRemoveRows()
        self.removing = None

    def _insert(self, r: AlertRow) -> None:
        key = sort_key(r)
        at = bisect.bisect_right(self._keys, key)
        self.beginInsertRows(QModelIndex(), at, at)
        self._rows.insert(at, r)
        self._keys.insert(at, key)
        self._ids.insert(at, r.id)
        self.endInsertRows()

    def attention_count(self) -> int:
        return sum(1 for r in self._rows if needs_attention(r))

    def flip_blink(self) -> None:
        """Blink the critical unacknowledged rows (called by the panel's timer)."""
        self.blink_phase = not self.blink_phase
        for i, r in enumerate(self._rows):
            if needs_attention(r):
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(Col) - 1),
                                      [Qt.ItemDataRole.BackgroundRole])

    # -- Qt model ------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt name
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt name
        return 0 if parent.isValid() else len(Col)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(HEADERS[Col(section)])
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        col = Col(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(r, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == Col.SEVERITY:
                return QColor(theme.SEVERITY_COLORS.get(r.severity, theme.TEXT))
            if r.state == "acknowledged":
                return QColor(theme.TEXT_DIM)
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            if needs_attention(r) and self.blink_phase:
                return QColor("#5c1414")
            return None
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if col == Col.SEVERITY or r.state == "active" else None
        if role == Qt.ItemDataRole.ToolTipRole and col == Col.TITLE:
            # Qt renders a tooltip as rich text whenever it *looks* like markup: escape it.
            return plain_tooltip(f"{r.title}\n{r.detail}".strip())
        if role == Qt.ItemDataRole.UserRole:
            return r.id
        return None

    def _text(self, r: AlertRow, col: Col) -> str:
        if col == Col.SEVERITY:
            return labels.severity_name(r.severity)
        if col == Col.TITLE:
            # One line: a hostile title must not break the row (Qt shows text literally here).
            return " ".join(r.title.split())
        if col == Col.PLACE:
            return r.town_name or ""
        if col == Col.COUNT:
            return f"×{r.repeat_count}" if r.repeat_count > 1 else ""
        if col == Col.LAST:
            return _short_time(r.last_at)
        if col == Col.STATE:
            if r.state == "acknowledged" and r.acknowledged_by:
                return self.tr("%1 (%2)").replace("%1", labels.alert_state_name(r.state)) \
                    .replace("%2", r.acknowledged_by)
            return labels.alert_state_name(r.state)
        if col == Col.CASE:
            return r.case_no or ""
        return ""


def plain_tooltip(text: str) -> str:
    """``text`` as a tooltip that shows literally (alarm text comes from devices and callers)."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"


def _short_time(at: dt.datetime) -> str:
    local = at.astimezone(SHANGHAI)
    today = dt.datetime.now(SHANGHAI).date()
    return local.strftime("%H:%M:%S") if local.date() == today else local.strftime("%m-%d %H:%M")


__all__ = ["AlertModel", "Col", "needs_attention", "plain_tooltip", "sort_key"]
