"""The case queue as a lazy table model (after Anki's browser ``table/model.py``).

The model holds only the ordered list of case ids and a bounded cache of rows. The id list comes
from :func:`db.cases.queries.queue_ids` (filtered and sorted by the database); a row is fetched with
:func:`db.cases.queries.case_rows` the first time a view asks for it, together with its neighbours, in
one batched read. Everything touching the database runs on ``ctx.reads``, never on the GUI
thread, so the queue opens at once even with a million cases.

The id list is a numpy array (8 bytes a case: a million ids take 8 MB, not the ~100 MB of a
Python list and a position dict); positions are found by a vectorised scan (~1 ms at a million).

Updates from other workstations arrive as :meth:`CaseQueueModel.apply_changes`: the changed rows
are re-read and *placed*: taken out of the list and, if they still match the filter, put back
where the sort puts them, found by binary search over the list the screen has, asking the
database only for the sort keys of ~20 probed ids (:func:`place_changed`). At a million cases
that takes milliseconds where asking for the whole list again took seconds. The whole list is
asked for again only for a new filter or sort, a refresh, the overdue filter's clock, a big
burst of changes (more than :attr:`CaseQueueModel.PLACE_LIMIT`) or a text sort column.

A new id list is installed as a *layout change* whose persistent indexes are remapped by case
id, so the view's selection and current row stay on their cases (the panel keeps the scroll
anchored, see :mod:`desktop.queue.panel`); rows that merely changed emit ``dataChanged`` in place.

Signals
-------
sig_loaded()
    An id list has been installed (after the first load, a filter, a sort, a refresh or a change).
sig_rows_fetched()
    A batch of rows has arrived in the cache.
sig_load_failed(str)
    The id list could not be read (the message is for the user).
"""
from __future__ import annotations

import datetime as dt
import enum
import functools
import html
import logging
import time
from collections.abc import Callable, Iterable

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont

from db.auth.scope import Actor, actor_scope
from db.cases import deadline, queries
from db.cases.deadline import Countdown
from db.cases.queries import CaseRow, QueueFilter, QueueSort
from db.core.backoff import Backoff
from db.core.entities import Entity
from desktop.core import labels, theme
from desktop.core.context import AppContext

log = logging.getLogger(__name__)
UTC = dt.UTC


class Col(enum.IntEnum):
    NUMBER = 0
    CLASS = 1
    TOWN = 2
    SOURCE = 3
    STATE = 4
    URGENCY = 5
    ASSIGNEE = 6
    TIME_LEFT = 7


#: Which :data:`db.cases.queries.SORT_COLUMNS` key each column sorts by (in the database).
SORT_KEYS: dict[Col, str] = {
    Col.NUMBER: "number", Col.CLASS: "class", Col.TOWN: "town", Col.SOURCE: "source",
    Col.STATE: "state_rank", Col.URGENCY: "urgency_rank", Col.ASSIGNEE: "assignee",
    Col.TIME_LEFT: "deadline_at",
}
CASE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
DEADLINE_STATUS_ROLE = Qt.ItemDataRole.UserRole + 2
OVERDUE_BACKGROUND = "#3a1216"  # a dark red wash behind the countdown of an overdue case


class CaseQueueModel(QAbstractTableModel):
    """Case ids in database order, rows fetched lazily; see the module docstring."""

    sig_loaded = Signal()
    sig_rows_fetched = Signal()
    sig_load_failed = Signal(str)

    PLACEHOLDER = "…"
    NEIGHBOURHOOD = 100  # rows fetched either side of the one a view asked for
    CACHE_LIMIT = 5000  # rows kept; beyond it rows far from the last request are dropped
    FETCH_BACKOFF_S = 2.0  # after a failed row fetch, wait up to this before asking again ...
    FETCH_BACKOFF_CAP_S = 30.0  # ... doubling, with jitter, up to this while it keeps failing
    TICK_MS = 1000
    OVERDUE_RECHECK_MS = 30_000  # the "overdue" filter follows the clock this closely
    PLACE_LIMIT = 2000  # more changed cases than this at once: ask for the whole list again

    def __init__(self, ctx: AppContext, parent: QObject | None = None, *,
                 flt: QueueFilter | None = None, sort: QueueSort | None = None,
                 clock: Callable[[], dt.datetime] | None = None, autoload: bool = True) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._filter = flt if flt is not None else QueueFilter(city_id=ctx.city_id)
        self._sort = sort or QueueSort()
        self._clock = clock or ctx.clock.now  # the database's time (desktop.core.servertime)
        self._ids: np.ndarray = _NO_IDS  # replaced, never changed in place: workers read it
        self._changing: frozenset[int] = frozenset()  # ids being re-placed (layout change)
        ctx.changes.subscribe(Entity.CASE, self.apply_changes)
        self._resort = False  # the next id list answers a new sort order
        #: During a layout change: True when it brings changes (the view should stay where it
        #: is), False for a new sort order (nothing to stay on).
        self.anchor_scroll = False
        self._cache: dict[int, CaseRow | None] = {}  # None: asked for, not in the database
        self._wanted: set[int] = set()
        self._fetching: set[int] = set()
        self._fetch_backoff_until = 0.0
        self._fetch_backoff = Backoff(self.FETCH_BACKOFF_S, self.FETCH_BACKOFF_CAP_S)
        self._anchor_row = 0
        self._loaded = False
        # id-list queries: one at a time; requests meanwhile are folded into one more run.
        self._generation = 0  # bumps when the filter or sort changes: older lists are dropped
        self._reset_pending = False
        self._ids_running = False
        self._ids_again = False
        self._refetch_cached = False
        self._changed_pending: set[int] = set()
        self._now = self._clock()
        self._tick_cache: dict[int, tuple[str, str, Countdown]] = {}

        # Signals are connected to bound methods only, never to lambdas: PySide 6.11/6.12 can
        # corrupt the heap when a lambda slot is released while a worker thread runs Python.
        self._fetch_timer = _timer(self, 0, single=True)
        self._fetch_timer.timeout.connect(self._fetch_wanted)
        self._changes_timer = _timer(self, 0, single=True)
        self._changes_timer.timeout.connect(self._changes_due)
        self._tick_timer = _timer(self, self.TICK_MS)
        self._tick_timer.timeout.connect(self._tick)
        self._tick_timer.start()
        # Who is overdue changes with the clock, not only with writes: while that filter is
        # on, the id list is asked for again now and then (selection and scroll are kept).
        self._overdue_timer = _timer(self, self.OVERDUE_RECHECK_MS)
        self._overdue_timer.timeout.connect(self._request_ids)
        if autoload:
            self._request_ids(reset=True)

    # -- public API ----------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        """True once the first id list has arrived."""
        return self._loaded

    @property
    def queue_filter(self) -> QueueFilter:
        return self._filter

    @property
    def queue_sort(self) -> QueueSort:
        return self._sort

    def case_ids(self) -> list[int]:
        """The ids in display order (a copy)."""
        return self._ids.tolist()

    def cached_ids(self) -> set[int]:
        """Ids whose row is in the cache (tests check the model stays lazy)."""
        return {cid for cid, row in self._cache.items() if row is not None}

    def case_id_at(self, row: int) -> int | None:
        return int(self._ids[row]) if 0 <= row < len(self._ids) else None

    def row_of(self, case_id: int) -> int | None:
        hits = np.flatnonzero(self._ids == int(case_id))
        return int(hits[0]) if len(hits) else None

    def rows_of(self, case_ids: Iterable[int]) -> dict[int, int]:
        """``{case id: row}`` for those of ``case_ids`` in the list (one scan for them all)."""
        wanted = np.fromiter((int(c) for c in case_ids), dtype=np.int64)
        if not len(wanted) or not len(self._ids):
            return {}
        rows = np.flatnonzero(np.isin(self._ids, wanted))
        return dict(zip(self._ids[rows].tolist(), rows.tolist()))

    def changing_ids(self) -> frozenset[int]:
        """During a layout change: the cases being re-placed (the panel anchors the scroll on a
        case that is not among them)."""
        return self._changing

    def row_data(self, case_id: int) -> CaseRow | None:
        """The cached row of ``case_id`` (None when not fetched yet)."""
        return self._cache.get(case_id)

    def set_filter(self, flt: QueueFilter) -> None:
        """Show the cases matching ``flt``; the database filters, the model resets."""
        if flt == self._filter and self._loaded:
            return
        self._filter = flt
        self._generation += 1
        if flt.overdue_only:
            self._overdue_timer.start()
        else:
            self._overdue_timer.stop()
        self._request_ids(reset=True)

    def set_sort(self, sort: QueueSort) -> None:
        """Order by ``sort`` in the database; selection and scroll position are kept."""
        if sort == self._sort:
            return
        self._sort = sort
        self._generation += 1
        self._resort = True
        self._request_ids()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = SORT_KEYS.get(Col(column)) if 0 <= column < len(Col) else None
        if key is None:
            return
        self.set_sort(QueueSort(key, descending=order == Qt.SortOrder.DescendingOrder))

    def refresh(self) -> None:
        """Query the id list again and re-read every cached row."""
        self._refetch_cached = True
        self._request_ids()

    def apply_changes(self, case_ids: Iterable[int], _origin: object | None = None) -> None:
        """Cases changed (subscribed to ``Entity.CASE``): re-read those rows and place them
        (coalesced).

        Rows still in their place update in place; otherwise the new id list is installed as
        a layout change, so the selection (by case id) and the scroll position survive.
        ``sig_loaded`` follows when done.
        """
        self._changed_pending.update(int(c) for c in case_ids if c is not None)
        if not self._changes_timer.isActive():
            self._changes_timer.start()

    def deadline_status(self, case_id: int) -> str | None:
        """``overdue`` / ``due_soon`` / ``on_track`` / ``none`` for a cached row, else None."""
        row = self._cache.get(case_id)
        return None if row is None else self._time_left(row)[1]

    def stop(self) -> None:
        """Stop the timers (the owner is closing)."""
        self._tick_timer.stop()
        self._overdue_timer.stop()

    # -- Qt model ------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(Col)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Col):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._headers()[section]
        if role == Qt.ItemDataRole.ToolTipRole and section == Col.TIME_LEFT:
            return self.tr("Time left before the deadline, counted in the unit of the class's "
                           "time limit: working days, working hours or minutes")
        return None

    def _headers(self) -> list[str]:
        return [self.tr("Number"), self.tr("Class"), self.tr("Town"), self.tr("Source"),
                self.tr("State"), self.tr("Urgency"), self.tr("Assignee"), self.tr("Time left")]

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if not 0 <= r < len(self._ids):
            return None
        cid = int(self._ids[r])
        if role == CASE_ID_ROLE:
            return cid
        if cid not in self._cache:
            self._want(r)
            if role == Qt.ItemDataRole.DisplayRole and c == Col.NUMBER:
                return self.PLACEHOLDER
            if role == Qt.ItemDataRole.ForegroundRole:
                return QColor(theme.TEXT_DIM)
            return None
        row = self._cache[cid]
        if row is None:
            return self.PLACEHOLDER if role == Qt.ItemDataRole.DisplayRole and c == 0 else None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, c)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(row, c)
        if role == Qt.ItemDataRole.BackgroundRole and c == Col.TIME_LEFT:
            if self._time_left(row)[1] == "overdue":
                return QColor(OVERDUE_BACKGROUND)
            return None
        if role == Qt.ItemDataRole.FontRole:
            if (c == Col.TIME_LEFT and self._time_left(row)[1] == "overdue") or \
                    (c == Col.URGENCY and row.urgency != "normal"):
                font = QFont()
                font.setBold(True)
                return font
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and c == Col.TIME_LEFT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, c)
        if role == DEADLINE_STATUS_ROLE:
            return self._time_left(row)[1]
        return None

    # -- cell contents -------------------------------------------------------------------
    def _display(self, row: CaseRow, c: int) -> str:
        if c == Col.NUMBER:
            return row.number
        if c == Col.CLASS:
            return row.class_name or self.tr("Unclassified")
        if c == Col.TOWN:
            return row.town_name or "—"
        if c == Col.SOURCE:
            return labels.source_name(row.source)
        if c == Col.STATE:
            return labels.state_name(row.state)
        if c == Col.URGENCY:
            return labels.urgency_name(row.urgency)
        if c == Col.ASSIGNEE:
            return row.assignee_name or "—"
        if c == Col.TIME_LEFT:
            return self._time_left(row)[0]
        return ""

    def _foreground(self, row: CaseRow, c: int) -> QColor | None:
        if c == Col.TIME_LEFT:
            status = self._time_left(row)[1]
            return QColor(theme.DEADLINE_COLORS[status])
        if c == Col.URGENCY:  # only urgent and emergency cases should catch the eye
            return QColor(theme.URGENCY_COLORS.get(row.urgency, theme.TEXT)
                          if row.urgency != "normal" else theme.TEXT_DIM)
        if (c == Col.CLASS and not row.class_name) or (c == Col.TOWN and not row.town_name) \
                or (c == Col.ASSIGNEE and not row.assignee_name):
            return QColor(theme.TEXT_DIM)
        return None

    def _tooltip(self, row: CaseRow, c: int) -> str | None:
        if c == Col.TIME_LEFT and row.deadline_at is not None:
            text, status, clock = self._time_left(row)
            due = labels.due_text(clock, self._now)
            tip = f"{labels.deadline_name(status)} · {text} · {due}" if clock.running else due
            if row.deadline_estimated:
                tip += "\n" + self.tr("Estimated: the official calendar for that year is missing")
            return tip
        if c == Col.NUMBER and row.title:
            # A tooltip that looks like markup is rendered as rich text: escape case text.
            return html.escape(row.title)
        return None

    def _time_left(self, row: CaseRow) -> tuple[str, str, Countdown]:
        """(text, deadline status, countdown) at this tick's time; cached until the next.

        Whether the clock runs and what it says comes from :func:`db.cases.deadline.countdown`,
        the rule the overdue filter, the map and the case detail share."""
        hit = self._tick_cache.get(row.id)
        if hit is not None:
            return hit
        clock = deadline.countdown(self._ctx.calendar, self._now, row.state, row.deadline_at,
                                   row.limit_amount, row.limit_unit)
        if clock.phase == deadline.PARKED:
            text = self.tr("Parked")
        elif clock.phase == deadline.HANDLED:
            text = self.tr("Handled")
        elif clock.running:
            text = labels.countdown_text(clock)
        else:
            text = ""
        out = (text, clock.status, clock)
        self._tick_cache[row.id] = out
        return out

    def _tick(self) -> None:
        self._now = self._clock()
        self._tick_cache.clear()
        if len(self._ids):
            self.dataChanged.emit(
                self.index(0, Col.TIME_LEFT), self.index(len(self._ids) - 1, Col.TIME_LEFT),
                [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole,
                 Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.FontRole])

    # -- lazy rows -----------------------------------------------------------------------
    def _want(self, row: int) -> None:
        cid = int(self._ids[row])
        if cid in self._wanted or cid in self._fetching:
            return
        if time.monotonic() < self._fetch_backoff_until:
            return
        self._anchor_row = row
        lo, hi = max(0, row - self.NEIGHBOURHOOD), min(len(self._ids), row + self.NEIGHBOURHOOD + 1)
        cache, fetching = self._cache, self._fetching
        self._wanted.update(i for i in self._ids[lo:hi].tolist()
                            if i not in cache and i not in fetching)
        if not self._fetch_timer.isActive():
            self._fetch_timer.start()

    def _fetch_wanted(self) -> None:
        if not self._wanted:
            return
        ids = sorted(self._wanted)
        self._wanted.clear()
        self._fetching.update(ids)
        database, user_id = self._ctx.database, self._ctx.user.id

        def work() -> dict[int, CaseRow]:
            with database.read() as session:
                return queries.case_rows(session, ids, actor=user_id)

        self._ctx.reads.run(work, lambda rows: self._rows_arrived(ids, rows),
                            lambda exc: self._rows_failed(ids, exc))

    def _rows_arrived(self, ids: list[int], rows: dict[int, CaseRow]) -> None:
        self._fetch_backoff.reset()
        for cid in ids:
            self._fetching.discard(cid)
            self._cache[cid] = rows.get(cid)
            self._tick_cache.pop(cid, None)
        self._prune_cache()
        self._emit_rows_changed(ids)
        self.sig_rows_fetched.emit()

    def _rows_failed(self, ids: list[int], exc: BaseException) -> None:
        log.warning("queue rows could not be read: %s", exc)
        self._fetching.difference_update(ids)
        self._fetch_backoff_until = time.monotonic() + self._fetch_backoff.next_delay()

    def _prune_cache(self) -> None:
        if len(self._cache) <= self.CACHE_LIMIT:
            return
        keep_span = self.CACHE_LIMIT // 4
        lo = max(0, self._anchor_row - keep_span)
        keep = set(self._ids[lo:self._anchor_row + keep_span].tolist())
        self._cache = {cid: row for cid, row in self._cache.items() if cid in keep}

    def _emit_rows_changed(self, ids: Iterable[int]) -> None:
        rows = sorted(self.rows_of(ids).values())
        if not rows:
            return
        # One signal per run of consecutive rows: a lazy batch is one run, changes are few.
        start = prev = rows[0]
        last_col = len(Col) - 1
        for r in rows[1:] + [None]:
            if r is not None and r == prev + 1:
                prev = r
                continue
            self.dataChanged.emit(self.index(start, 0), self.index(prev, last_col))
            if r is not None:
                start = prev = r

    # -- the id list ---------------------------------------------------------------------
    def _changes_due(self) -> None:
        self._request_changes()

    def _request_changes(self) -> None:
        """Place the pending changed cases into the list (or ask for the whole list)."""
        if self._ids_running:
            return  # _ids_arrived takes the pending changes along
        if not self._loaded or self._reset_pending or len(self._changed_pending) > self.PLACE_LIMIT:
            self._request_ids()
            return
        self._ids_running = True
        flt, sort, generation = self._filter, self._sort, self._generation
        changed = sorted(self._changed_pending)
        self._changed_pending.clear()
        old_ids = self._ids
        database, now, user_id = self._ctx.database, self._clock(), self._ctx.user.id

        def work():
            with database.read() as session:
                scope = actor_scope(session, user_id)  # the signed-in officer's cases only
                ids = place_changed(session, old_ids, changed, flt, sort, now, actor=scope)
                if ids is None:
                    ids = np.array(queries.queue_ids(session, flt, sort, now, actor=scope),
                                   dtype=np.int64)
                rows = queries.case_rows(session, changed, actor=scope)
            return ids, not np.array_equal(ids, old_ids), rows

        self._ctx.reads.run(work, lambda result: self._ids_arrived(generation, changed, result),
                            lambda exc: self._ids_failed(changed, exc))

    def _request_ids(self, reset: bool = False) -> None:
        """Ask for the whole id list (and re-read the changed rows)."""
        self._reset_pending |= reset
        if self._ids_running:
            self._ids_again = True
            return
        self._ids_running = True
        self._ids_again = False
        flt, sort, generation = self._filter, self._sort, self._generation
        refetch = set(self._changed_pending)
        self._changed_pending.clear()
        if self._refetch_cached:
            refetch |= {cid for cid, row in self._cache.items() if row is not None}
            self._refetch_cached = False
        refetch_ids = sorted(refetch)
        old_ids = self._ids
        database, user_id = self._ctx.database, self._ctx.user.id
        resort, self._resort = self._resort, False

        def work():
            with database.read() as session:
                scope = actor_scope(session, user_id)  # the signed-in officer's cases only
                ids = np.array(queries.queue_ids(session, flt, sort, actor=scope), dtype=np.int64)
                rows = queries.case_rows(session, refetch_ids, actor=scope) if refetch_ids else {}
            return ids, not np.array_equal(ids, old_ids), rows

        self._ctx.reads.run(
            work, lambda result: self._ids_arrived(generation, refetch_ids, result, resort),
            lambda exc: self._ids_failed(refetch_ids, exc, resort))

    def _ids_arrived(self, generation: int, refetched: list[int], result,
                     resort: bool = False) -> None:
        self._ids_running = False
        ids, changed, rows = result
        for cid in refetched:
            self._cache[cid] = rows.get(cid)
            self._tick_cache.pop(cid, None)
        if generation == self._generation:
            if self._reset_pending or not self._loaded:
                self._install_reset(ids)
            elif changed:
                self._install_layout(ids, refetched, anchor=not resort)
            self._emit_rows_changed(refetched)
            self._loaded = True
            self.sig_loaded.emit()
        else:
            self._ids_again = True  # the filter or sort changed meanwhile: ask again
        if self._ids_again:
            self._request_ids()
        elif self._changed_pending:
            self._request_changes()

    def _ids_failed(self, refetched: list[int], exc: BaseException, resort: bool = False) -> None:
        self._ids_running = False
        self._resort |= resort
        self._changed_pending.update(refetched)  # not lost: re-read with the next request
        log.warning("queue ids could not be read: %s", exc)
        self.sig_load_failed.emit(getattr(exc, "message", None) or str(exc))
        if self._ids_again:
            self._request_ids()

    def _install_reset(self, ids: np.ndarray) -> None:
        self.beginResetModel()
        self._ids = ids
        self._wanted.clear()
        self._reset_pending = False
        self.endResetModel()

    def _install_layout(self, ids: np.ndarray, changing: Iterable[int] = (), *,
                        anchor: bool = True) -> None:
        """Swap in a new id list keeping every persistent index on its case."""
        self._changing = frozenset(changing)
        self.anchor_scroll = anchor
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_ids = self._ids
        old_case_ids = [int(old_ids[i.row()]) if 0 <= i.row() < len(old_ids) else None
                        for i in old]
        self._ids = ids
        rows = self.rows_of(c for c in old_case_ids if c is not None)
        new = []
        for index, cid in zip(old, old_case_ids):
            r = rows.get(cid) if cid is not None else None
            new.append(self.index(r, index.column()) if r is not None else QModelIndex())
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()
        self._changing = frozenset()
        self.anchor_scroll = False


_NO_IDS = np.empty(0, dtype=np.int64)


def place_changed(session, ids: np.ndarray, changed: list[int], flt: QueueFilter,
                  sort: QueueSort, now: dt.datetime, *, actor: Actor) -> np.ndarray | None:
    """``ids`` with the ``changed`` cases taken out and those that still match ``flt`` put
    back where ``sort`` puts them; None when this sort cannot be placed so (a text column, or
    a listed case has gone): ask for the whole list then.

    Binary search over the list as it is, all changed cases at once: each round asks the
    database for the sort keys of the probed ids, ~log2(n) small queries in all. Runs on a
    worker thread; ``ids`` is only read.
    """
    if sort.column not in queries.PLACEABLE_SORTS:
        return None
    desc = sort.descending
    scope = actor_scope(session, actor)  # a changed case that left the scope leaves the list
    keys = queries.sort_keys(session, sort, changed, flt=flt, now=now, actor=scope)
    base = ids[~np.isin(ids, np.array(changed, dtype=np.int64))] if len(ids) else ids
    order = functools.cmp_to_key(lambda a, b: -1 if queries.key_before(a, b, desc) else 1)
    items = sorted(keys.values(), key=order)
    lo, hi = [0] * len(items), [len(base)] * len(items)
    while True:
        mids = {i: (lo[i] + hi[i]) // 2 for i in range(len(items)) if lo[i] < hi[i]}
        if not mids:
            break
        probed = queries.sort_keys(session, sort, {int(base[m]) for m in mids.values()},
                                   actor=scope)
        for i, m in mids.items():
            key = probed.get(int(base[m]))
            if key is None:
                return None
            if queries.key_before(key, items[i], desc):
                lo[i] = m + 1
            else:
                hi[i] = m
    if not items:
        return base
    return np.insert(base, lo, np.array([key[3] for key in items], dtype=np.int64))


def _timer(parent: QObject, interval_ms: int, *, single: bool = False) -> QTimer:
    timer = QTimer(parent)
    timer.setInterval(interval_ms)
    timer.setSingleShot(single)
    return timer


__all__ = ["CASE_ID_ROLE", "DEADLINE_STATUS_ROLE", "CaseQueueModel", "Col",
           "SORT_KEYS", "place_changed"]
