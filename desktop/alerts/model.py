"""The active alerts as a table model: most severe first, then newest; alerts of one event
under one line.

The model holds every uncleared alert (a control room has tens to a few hundred at once, so a
plain list is right here, unlike the million-row case queue). It never reads the database
itself: the panel loads :func:`db.alerts.lifecycle.active_alerts` once and then hands it the rows the
change feed names (:meth:`AlertModel.merge`). The order is by when an alarm *began*, so a
repeating alarm keeps its place; a row only moves when it escalates or is acknowledged. A row
older than the one held (a slow read that raced an action) is ignored.

Alerts of one event (same type, close in place and start: :mod:`db.alerts.grouping`, with the
shared radius and window of :meth:`AlertModel.set_grouping`) show as one *group line*
("▸ 3 × 燃气浓度超切断值 · 东城街道 · 紧急", the worst severity), placed where its worst member
would be; expanded (:meth:`AlertModel.set_expanded`) its members follow it, indented. The lines
are a :class:`Entry` list worked out afresh from the alerts after every change and brought to
the view with the fewest inserts, moves (``beginMoveRows``, so the selection follows its alert
or group) and removals; an alert's line keeps its key whether alone or a member.

Critical alerts that nobody has acknowledged *blink* (the panel flips :attr:`blink_phase`), and
so does a group line holding one.
"""
from __future__ import annotations

import bisect
import datetime as dt
import enum
import html
from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP, QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QColor, QFont

from db.alerts.grouping import DEFAULT_RADIUS_M, DEFAULT_WINDOW, AlertGroup, alert_order, group_alerts
from db.alerts.lifecycle import AlertRow
from db.worktime.clock import SHANGHAI
from desktop.alerts.severity import SEVERITY_ROLE
from desktop.core import labels, theme


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
    The same order as :func:`db.alerts.lifecycle.active_alerts` (:func:`alert_order`)."""
    return alert_order(row)


def _freshness(row: AlertRow) -> tuple:
    return (row.version, row.repeat_count, row.last_at)


def needs_attention(row: AlertRow) -> bool:
    """A critical alert nobody has acknowledged yet: it blinks and it sounds."""
    return row.severity == "critical" and row.state == "active"


@dataclass(frozen=True)
class Entry:
    """One line of the list: a group of alerts (``group``) or one alert (``alert``), a member
    of an expanded group indented (``member``). An alert's line has the same key whether it
    stands alone or in a group, so its selection survives a group forming or dissolving."""

    key: str  # "a:<alert id>" or "g:<group key>"
    alert: AlertRow | None = None
    group: AlertGroup | None = None
    member: bool = False
    expanded: bool = False


class AlertModel(QAbstractTableModel):
    """Uncleared alerts in :func:`sort_key` order, those of one event under one group line;
    see the module docstring."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[AlertRow] = []  # every alert, in sort_key order
        self._keys: list[tuple] = []  # sort_key of each alert: placing one is a bisect
        self._ids: list[int] = []
        self._entries: list[Entry] = []  # the lines shown
        self._entry_keys: list[str] = []  # key of each line: finding one is a C-speed index
        self._groups: dict[int, AlertGroup] = {}  # alert id -> its group of two or more
        self.expanded: set[str] = set()  # group keys shown with their members
        self.radius_m = DEFAULT_RADIUS_M
        self.window = DEFAULT_WINDOW
        self.removing: int | str | None = None  # the alert id / group key being removed
        self.blink_phase = False
        self._bold = QFont()
        self._bold.setBold(True)

    # -- contents ------------------------------------------------------------------------
    @property
    def alerts(self) -> list[AlertRow]:
        """Every alert held, shown or folded into a group, in :func:`sort_key` order."""
        return list(self._rows)

    def alert(self, row: int) -> AlertRow | None:
        """The alert on line ``row`` (None for a group line or no line)."""
        return self._entries[row].alert if 0 <= row < len(self._entries) else None

    def group(self, row: int) -> AlertGroup | None:
        """The group on line ``row`` (None for an alert's line)."""
        return self._entries[row].group if 0 <= row < len(self._entries) else None

    def entry(self, row: int) -> Entry | None:
        return self._entries[row] if 0 <= row < len(self._entries) else None

    def find(self, alert_id: int) -> AlertRow | None:
        """The alert held with this id, shown or not."""
        try:
            return self._rows[self._ids.index(alert_id)]
        except ValueError:
            return None

    def group_of(self, alert_id: int) -> AlertGroup | None:
        """The group of two or more this alert is in, if any."""
        return self._groups.get(alert_id)

    def row_of(self, alert_id: int) -> int:
        """The line showing this alert (-1 if none: not held, or folded in its group)."""
        return self._line(f"a:{alert_id}")

    def row_of_group(self, key: str) -> int:
        return self._line(f"g:{key}")

    def _line(self, key: str) -> int:
        try:
            return self._entry_keys.index(key)
        except ValueError:
            return -1

    def set_grouping(self, radius_m: float, window: dt.timedelta) -> None:
        """The shared settings (:func:`db.alerts.grouping.grouping_settings`)."""
        if (radius_m, window) != (self.radius_m, self.window):
            self.radius_m, self.window = radius_m, window
            self._sync()

    def set_expanded(self, key: str, expanded: bool) -> None:
        """Show or fold the members of group ``key``."""
        if expanded == (key in self.expanded):
            return
        if expanded:
            self.expanded.add(key)
        else:
            self.expanded.discard(key)
        self._sync()

    def set_alerts(self, rows: Iterable[AlertRow]) -> None:
        held = {r.id: r for r in self._rows}
        fresh = [r if r.id not in held or _freshness(r) >= _freshness(held[r.id]) else held[r.id]
                 for r in rows]
        self._rows = sorted((r for r in fresh if r.state != "cleared"), key=sort_key)
        self._keys = [sort_key(r) for r in self._rows]
        self._ids = [r.id for r in self._rows]
        self._sync()

    def merge(self, rows: Iterable[AlertRow], gone: Iterable[int] = ()) -> list[AlertRow]:
        """Apply changed alerts (insert, update, move, or drop when cleared); ids in ``gone``
        are dropped. The lines follow with the fewest inserts, moves and removals, so the
        selection stays on its alert or group. Returns the rows that are new to the model."""
        new: list[AlertRow] = []
        for alert_id in gone:
            self._drop(alert_id)
        for r in rows:
            old = self.find(r.id)
            if old is not None and _freshness(r) < _freshness(old):
                continue  # an older read than what is on screen
            self._drop(r.id)
            if r.state == "cleared":
                continue
            if old is None:
                new.append(r)
            key = sort_key(r)
            at = bisect.bisect_right(self._keys, key)
            self._rows.insert(at, r)
            self._keys.insert(at, key)
            self._ids.insert(at, r.id)
        self._sync()
        return new

    def _drop(self, alert_id: int) -> None:
        try:
            at = self._ids.index(alert_id)
        except ValueError:
            return
        for column in (self._rows, self._keys, self._ids):
            del column[at]

    def _sync(self) -> None:
        """Work out the lines from the alerts and bring the view's lines to them."""
        entries: list[Entry] = []
        self._groups = {}
        live: set[str] = set()
        for g in group_alerts(self._rows, self.radius_m, self.window):
            if g.count == 1:
                entries.append(Entry(f"a:{g.members[0].id}", alert=g.members[0]))
                continue
            live.add(g.key)
            opened = g.key in self.expanded
            entries.append(Entry(f"g:{g.key}", group=g, expanded=opened))
            for m in g.members:
                self._groups[m.id] = g
                if opened:
                    entries.append(Entry(f"a:{m.id}", alert=m, member=True))
        self.expanded &= live
        self._apply(entries)

    def _apply(self, entries: list[Entry]) -> None:
        wanted = {e.key for e in entries}
        for at in range(len(self._entries) - 1, -1, -1):
            if self._entry_keys[at] not in wanted:
                self._remove(at)
        for at, e in enumerate(entries):
            if at < len(self._entry_keys) and self._entry_keys[at] == e.key:
                if self._entries[at] != e:
                    self._entries[at] = e
                    self.dataChanged.emit(self.index(at, 0), self.index(at, len(Col) - 1))
                continue
            found = self._line_after(e.key, at + 1)
            if found >= 0:  # a line moving up to here; the lines between shift down
                self.beginMoveRows(QModelIndex(), found, found, QModelIndex(), at)
                del self._entries[found], self._entry_keys[found]
                self._entries.insert(at, e)
                self._entry_keys.insert(at, e.key)
                self.endMoveRows()
                self.dataChanged.emit(self.index(at, 0), self.index(at, len(Col) - 1))
            else:
                self.beginInsertRows(QModelIndex(), at, at)
                self._entries.insert(at, e)
                self._entry_keys.insert(at, e.key)
                self.endInsertRows()

    def _line_after(self, key: str, start: int) -> int:
        try:
            return self._entry_keys.index(key, start)
        except ValueError:
            return -1

    def _remove(self, at: int) -> None:
        e = self._entries[at]
        self.removing = e.alert.id if e.alert is not None else e.group.key
        self.beginRemoveRows(QModelIndex(), at, at)
        del self._entries[at], self._entry_keys[at]
        self.endRemoveRows()
        self.removing = None

    def attention_count(self) -> int:
        return sum(1 for r in self._rows if needs_attention(r))

    def _attention(self, e: Entry) -> bool:
        if e.group is not None:
            return any(needs_attention(m) for m in e.group.members)
        return needs_attention(e.alert)

    def flip_blink(self) -> None:
        """Blink the critical unacknowledged lines, and a group holding one (panel's timer)."""
        self.blink_phase = not self.blink_phase
        for i, e in enumerate(self._entries):
            if self._attention(e):
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(Col) - 1),
                                      [Qt.ItemDataRole.BackgroundRole])

    # -- Qt model ------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt name
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt name
        return 0 if parent.isValid() else len(Col)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(HEADERS[Col(section)])
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        e = self._entries[index.row()]
        if e.group is not None:
            return self._group_data(e, Col(index.column()), role)
        r = e.alert
        col = Col(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            text = self._text(r, col)
            return f"    {text}" if e.member and col == Col.TITLE else text
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
        if role == SEVERITY_ROLE and col == Col.SEVERITY:
            return r.severity
        return None

    def _group_data(self, e: Entry, col: Col, role: int):
        g = e.group
        waiting = sum(1 for m in g.members if m.state == "active")
        if role == Qt.ItemDataRole.DisplayRole:
            return self._group_text(g, col, e.expanded, waiting)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == Col.SEVERITY:
                return QColor(theme.SEVERITY_COLORS.get(g.severity, theme.TEXT))
            return None if waiting else QColor(theme.TEXT_DIM)
        if role == Qt.ItemDataRole.BackgroundRole:
            return QColor("#5c1414") if self.blink_phase and self._attention(e) else None
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if col == Col.SEVERITY or waiting else None
        if role == Qt.ItemDataRole.ToolTipRole and col == Col.TITLE:
            return plain_tooltip("\n".join(" ".join(m.title.split()) for m in g.members))
        if role == Qt.ItemDataRole.UserRole:
            return g.key
        if role == SEVERITY_ROLE and col == Col.SEVERITY:
            return g.severity
        return None

    def _group_text(self, g: AlertGroup, col: Col, expanded: bool, waiting: int) -> str:
        if col == Col.SEVERITY:
            return labels.severity_name(g.severity)
        if col == Col.TITLE:
            # "▸ 3 × 燃气浓度超切断值 · 东城街道 · 紧急": the arrow says it opens (Right / Enter).
            parts = [f"{g.count} × {' '.join(g.members[0].title.split())}"]
            if g.town_name:
                parts.append(g.town_name)
            parts.append(labels.severity_name(g.severity))
            return f"{'▾' if expanded else '▸'} {' · '.join(parts)}"
        if col == Col.PLACE:
            return g.town_name or ""
        if col == Col.COUNT:
            total = sum(m.repeat_count for m in g.members)
            return f"×{total}" if total > 1 else ""
        if col == Col.LAST:
            return _short_time(g.last_at)
        if col == Col.STATE:
            if waiting:
                return self.tr("%1 of %2 unacknowledged").replace("%1", str(waiting)) \
                    .replace("%2", str(g.count))
            return labels.alert_state_name("acknowledged")
        if col == Col.CASE:
            return " ".join(sorted({m.case_no for m in g.members if m.case_no}))
        return ""

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


__all__ = ["AlertModel", "Col", "Entry", "needs_attention", "plain_tooltip", "sort_key"]
