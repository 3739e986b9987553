"""Section 2, the queue at a million cases: first paint, sort by deadline, filter by town and
state, frames while scrolling, memory, and a live change placed into the list.

The queue panel is the window's own (:class:`~desktop.queue.panel.QueuePanel`), shown offscreen.
"Painted" means the rows in view hold their data and the view has been painted with them (a
synchronous repaint after the last row arrived).

Baselines, measured in the same run: the eager table (:func:`db.bench.queue.eager_rows`: the
same query with every column, every row kept) for paint, sort, filter and memory; scrolling
over a model that holds every row in memory for the frame time; asking for the whole id list
again (what the queue did before) for a live change.
"""
from __future__ import annotations

import random
import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, Slot
from PySide6.QtWidgets import QHeaderView, QTableView
from sqlalchemy import func, select

from db.auth.roles import Role
from db.bench.queue import eager_rows
from db.bench.report import Figure, summary
from db.cases import workflow as wf
from db.cases.queries import QueueFilter, QueueSort
from db.models import Case, Town
from desktop.bench.harness import bench_context, make_app, must, pump, say, self_rss_mb
from desktop.queue.model import Col
from desktop.queue.panel import ALL, QueuePanel

SECTION = "2 queue"


def _visible_rows(table) -> range:
    top = table.rowAt(0)
    if top < 0:
        return range(0)
    bottom = table.rowAt(table.viewport().height() - 1)
    bottom = table.model().rowCount() - 1 if bottom < 0 else bottom
    return range(top, bottom + 1)


def _painted(panel) -> bool:
    model = panel.model
    if not model.loaded or model._ids_running:  # noqa: SLF001 - the benchmark looks inside
        return False
    cached = model.cached_ids()
    return all(model.case_id_at(r) in cached for r in _visible_rows(panel.table))


def _time_to_paint(panel, action, what: str, timeout: float = 300.0) -> float:
    """ms from ``action()`` until the rows in view are painted with their data."""
    t0 = time.perf_counter()
    action()
    must(lambda: _painted(panel), what, timeout)
    panel.table.viewport().repaint()
    return (time.perf_counter() - t0) * 1000


class MemoryModel(QAbstractTableModel):
    """The scrolling baseline: every row already in memory."""

    def __init__(self, rows) -> None:
        super().__init__()
        self._rows = rows

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(Col)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        row = self._rows[index.row()]
        return (row.number, row.class_name, row.town_name, row.source, row.state, row.urgency,
                row.assignee_name, str(row.deadline_at or ""))[index.column()]


def _scroll(table, jumps: list[int], wait_rows) -> tuple[list[float], list[float]]:
    """Frame times (ms) jumping to each row in ``jumps``; and, with ``wait_rows``, how long
    each jump took until its rows held data."""
    frames, fills = [], []
    bar = table.verticalScrollBar()
    for row in jumps:
        t0 = time.perf_counter()
        bar.setValue(row)
        table.viewport().repaint()
        frames.append((time.perf_counter() - t0) * 1000)
        if wait_rows is not None:
            must(wait_rows, "rows after a jump", 60)
            table.viewport().repaint()
            fills.append((time.perf_counter() - t0) * 1000)
        pump(0.01)
    return frames, fills


def _eager_paint(host, database, flt: QueueFilter, sort: QueueSort,
                 row_height: int) -> tuple[float, QTableView]:
    """The eager table's first paint: every row read, a model over them, a view painted."""
    t0 = time.perf_counter()
    with database.read() as s:
        rows = eager_rows(s, flt, sort)
    table = QTableView()
    table.setModel(MemoryModel(rows))
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setDefaultSectionSize(row_height)
    table.verticalHeader().setVisible(False)
    host.layout().addWidget(table)
    table.show()
    table.viewport().repaint()
    return (time.perf_counter() - t0) * 1000, table


def _drop(table: QTableView) -> None:
    table.setParent(None)
    table.deleteLater()
    pump(0.05)


def run(url: str, quick: bool) -> tuple[list[Figure], dict]:
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    app = make_app()
    database, ctx = bench_context(url)
    with database.read() as s:
        total = s.scalar(select(func.count()).select_from(Case))
        town_id, town_name = s.execute(
            select(Town.id, Town.name).join(Case, Case.town_id == Town.id)
            .group_by(Town.id, Town.name).order_by(func.count().desc()).limit(1)).one()
    rng = random.Random(3)
    host = QWidget()
    QVBoxLayout(host).setContentsMargins(0, 0, 0, 0)
    host.resize(1000, 1000)
    host.show()
    pump(0.2)
    rss0 = self_rss_mb()
    times: dict[str, float] = {}

    panel_box: list[QueuePanel] = []

    def create() -> None:
        panel_box.append(QueuePanel(ctx))
        host.layout().addWidget(panel_box[0])

    times["paint_open"] = _time_to_paint(_Lazy(panel_box), create, "the queue's first paint")
    panel = panel_box[0]
    model = panel.model
    open_count = model.rowCount()
    times["paint_all"] = _time_to_paint(panel, lambda: panel.state_combo.setCurrentIndex(
        panel.state_combo.findData(ALL)), "every case painted")
    all_count = model.rowCount()
    rss_ids = self_rss_mb()
    say(f"  queue: {open_count:,} open cases painted in {times['paint_open']:.0f} ms, "
        f"all {all_count:,} in {times['paint_all']:.0f} ms")
    times["sort_deadline"] = _time_to_paint(
        panel, lambda: panel.table.sortByColumn(Col.TIME_LEFT, Qt.SortOrder.DescendingOrder),
        "the sort by deadline")
    times["filter_town_state"] = _time_to_paint(panel, lambda: (
        panel.town_combo.setCurrentIndex(panel.town_combo.findData(town_id)),
        panel.state_combo.setCurrentIndex(panel.state_combo.findData(wf.State.CLOSED.value))),
        "the town and state filter")
    filtered_count = model.rowCount()
    # back to every case, earliest deadline first, for scrolling and live changes
    def every_case() -> None:
        panel.town_combo.setCurrentIndex(0)
        panel.state_combo.setCurrentIndex(panel.state_combo.findData(ALL))
        panel.table.sortByColumn(Col.TIME_LEFT, Qt.SortOrder.AscendingOrder)

    _time_to_paint(panel, every_case, "every case again")
    say(f"  queue: sort {times['sort_deadline']:.0f} ms, filter {town_name} + closed "
        f"({filtered_count:,}) {times['filter_town_state']:.0f} ms")

    # -- scrolling: page jumps all over the list ---------------------------------------------
    n_jumps = 20 if quick else 60
    page = max(1, len(_visible_rows(panel.table)))
    jumps = [rng.randrange(0, max(1, all_count - page)) for _ in range(n_jumps)]
    frames, fills = _scroll(panel.table, jumps, lambda: _painted(panel))
    rss_scrolled = self_rss_mb()

    # -- a live change at a million: placed, against asking for the whole list -------------
    n_changes = 5 if quick else 20
    placed = _live_changes(database, ctx, model, n_changes, rng)
    model.PLACE_LIMIT = 0  # what the queue did before: every change asks for the whole list
    requery = _live_changes(database, ctx, model, max(2, n_changes // 4), rng)
    model.PLACE_LIMIT = type(model).PLACE_LIMIT
    say(f"  queue: a live change placed in {summary(placed)['p50']} ms (p50); asking for "
        f"the whole list took {summary(requery)['p50']} ms")

    # -- baselines: the eager table ----------------------------------------------------------
    panel.hide()
    row_height = panel.table.verticalHeader().defaultSectionSize()
    eager: dict[str, float] = {}
    flt_open = QueueFilter(city_id=ctx.city_id)
    flt_all = QueueFilter(states=frozenset(), city_id=ctx.city_id)
    flt_town = QueueFilter(states=frozenset({wf.State.CLOSED.value}), town_ids=frozenset({town_id}),
                           city_id=ctx.city_id)
    for key, flt, sort in (("paint_open", flt_open, QueueSort()),
                           ("sort_deadline", flt_all, QueueSort("deadline_at", True)),
                           ("filter_town_state", flt_town, QueueSort("deadline_at", True))):
        eager[key], table = _eager_paint(host, database, flt, sort, row_height)
        _drop(table)
    rss_before_eager = self_rss_mb()
    eager["paint_all"], table = _eager_paint(host, database, flt_all, QueueSort(), row_height)
    rss_eager = self_rss_mb()
    say(f"  queue: the eager table painted {table.model().rowCount():,} rows in "
        f"{eager['paint_all']:.0f} ms")
    base_frames, _ = _scroll(table, jumps, None)

    f, bf, fi = summary(frames), summary(base_frames), summary(fills)
    p, r = summary(placed), summary(requery)
    lazy_mb = rss_ids - rss0
    eager_mb = rss_eager - rss_before_eager
    figures = [
        Figure(SECTION, f"first paint, {open_count:,} open cases", round(times["paint_open"], 1),
               "ms",
               baseline=round(eager["paint_open"], 1),
               baseline_label="eager table: read every row, then paint"),
        Figure(SECTION, f"first paint, all {all_count:,} cases", round(times["paint_all"], 1), "ms",
               baseline=round(eager["paint_all"], 1),
               baseline_label="eager table: read every row, then paint"),
        Figure(SECTION, "sort by deadline", round(times["sort_deadline"], 1), "ms",
               baseline=round(eager["sort_deadline"], 1),
               baseline_label="eager table: query again, then paint"),
        Figure(SECTION, f"filter town + state ({filtered_count:,})",
               round(times["filter_town_state"], 1), "ms",
               baseline=round(eager["filter_town_state"], 1),
               baseline_label="eager table: query again, then paint"),
        Figure(SECTION, "frame while scrolling, p95", f["p95"], "ms", baseline=bf["p95"],
               baseline_label="every row in memory", target=16.0),
        Figure(SECTION, "rows filled after a jump, p95", fi["p95"], "ms", baseline=bf["p95"],
               baseline_label="every row in memory (no wait)"),
        Figure(SECTION, f"memory for {all_count:,} cases", round(lazy_mb, 1), "MB",
               baseline=round(eager_mb, 1), baseline_label="eager table's rows"),
        Figure(SECTION, "live change at all cases, p50", p["p50"], "ms", baseline=r["p50"],
               baseline_label="ask for the whole id list again (before)"),
        Figure(SECTION, "live change at all cases, p95", p["p95"], "ms", baseline=r["p95"],
               baseline_label="ask for the whole id list again (before)"),
    ]
    detail = {"cases": total, "open": open_count, "all": all_count, "filtered": filtered_count,
              "town": town_name, "times_ms": times, "eager_ms": eager, "frames": f,
              "base_frames": bf, "fills": fi, "placed": p, "requery": r,
              "rss_mb": {"start": rss0, "ids": rss_ids, "scrolled": rss_scrolled,
                         "before_eager": rss_before_eager, "eager": rss_eager}}
    panel.model.stop()
    host.close()
    app.processEvents()
    database.dispose()
    return figures, detail


class _Lazy:
    """A stand-in for the panel until it exists (the first paint is timed from creation)."""

    def __init__(self, box: list) -> None:
        self._box = box

    def __getattr__(self, name):
        return getattr(self._box[0], name)


def _live_changes(database, ctx, model, n: int, rng: random.Random) -> list[float]:
    """Another workstation takes a step on a case; ms until the queue has placed it."""
    out = []
    with database.read() as s:
        candidates = list(s.execute(select(Case.id, Case.version).where(
            Case.state == wf.State.HANDLING.value).order_by(Case.id).limit(5000)))
    handler = _account(database, Role.SHIFT_LEADER)
    for cid, version in rng.sample(candidates, min(n, len(candidates))):
        # parked: the case leaves its place among the deadlines for the end of the list
        wf.park(database, handler, cid, version, opinion="基准测试：挂账")
        flag = _Flag()
        model.sig_loaded.connect(flag.set)
        t0 = time.perf_counter()
        model.apply_changes([cid])
        must(lambda: flag.hit, "the change in the queue", 120)
        out.append((time.perf_counter() - t0) * 1000)
        model.sig_loaded.disconnect(flag.set)
        pump(0.02)
    return out


class _Flag(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.hit = False

    @Slot()
    def set(self) -> None:
        self.hit = True


def _account(database, role: Role) -> int:
    from db.models import UserAccount

    with database.read() as s:
        return s.scalar(select(UserAccount.id).where(UserAccount.role == role.value,
                                                     UserAccount.active.is_(True))
                        .order_by(UserAccount.id).limit(1))
