"""The map's state, apart from any window: which case points are shown with which deadline
colour, and the live layers (staff, cameras, sensors, black spots).

:class:`MapLayers` reads on ``ctx.reads``, builds marker dicts there (never on the GUI thread),
and sends batches to a *sink*: anything with ``apply_batch(batch)``, the real
:class:`~desktop.map.view.MapView` in the window, a recorder in a test. It subscribes itself to
the change router: cases re-read and re-coloured when they change, staff moved when positions
arrive, every colour rechecked when the calendar changes or once a minute (deadlines pass
without any write).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer

from db.auth.scope import SYSTEM, Actor
from db.core.entities import Entity
from db.geo import map_data
from desktop.core.context import AppContext
from desktop.map.view import case_marker, case_status, point_marker

STATUS_REFRESH_MS = 60_000  # marker colours follow the clock (on track → due soon → overdue)


class MapSink(Protocol):
    def apply_batch(self, batch: dict) -> None: ...


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def case_markers(points, calendar, clock: Callable[[], dt.datetime] = _utcnow) -> list[tuple]:
    """``(point, marker dict, deadline status)`` for each case point, at this moment by
    ``clock`` (the window's: the database's time, :mod:`desktop.core.servertime`). Pure
    Python: runs on the worker thread."""
    now = clock()
    out = []
    for p in points:
        status = case_status(calendar, now, p)
        out.append((p, case_marker(p, status), status))
    return out


def map_layers(database, city_id: int, calendar, actor: Actor = SYSTEM,
               clock: Callable[[], dt.datetime] = _utcnow) -> tuple:
    """Every map layer read and turned into marker dicts, for a worker thread (seconds at
    20,000 cases): ``(read at, [(case point, marker, status)], batch for apply_batch)``. The
    cases are those within ``actor``'s scope (the signed-in officer's, in the window)."""
    started = clock()
    with database.read() as s:
        cases = map_data.case_points(s, city_id, actor=actor)
        others = {
            "staff": map_data.staff_points(s, city_id),
            "cameras": map_data.camera_points(s, city_id),
            "sensors": map_data.sensor_points(s, city_id),
            "black_spots": map_data.black_spot_points(s, city_id),
        }
    marked = case_markers(cases, calendar, clock)
    batch = {"cases": {"reset": True, "upsert": [m for _, m, _ in marked]}}
    for name, points in others.items():
        batch[name] = {"reset": True, "upsert": [point_marker(p) for p in points]}
    return started, marked, batch


class MapLayers(QObject):
    """The map's points and colours, kept in step with the database (see the module docstring).

    ``points`` and ``statuses`` are the case points sent and the deadline status each was
    coloured with; a test reads them, and the window never keeps a copy."""

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._sink: MapSink | None = None
        self.points: dict[int, Any] = {}
        self.statuses: dict[int, str] = {}
        self._staff_since: dt.datetime | None = None
        ctx.changes.subscribe(Entity.CASE, self.refresh_cases)
        ctx.changes.subscribe(Entity.STAFF_POSITION, self.refresh_staff)
        self._timer = QTimer(self, interval=STATUS_REFRESH_MS)
        self._timer.timeout.connect(self.recolour)
        self._timer.start()

    def attach(self, sink: MapSink | None) -> None:
        """Send to ``sink`` from now on (None: the map is gone; changes are not sent)."""
        self._sink = sink

    # -- everything ----------------------------------------------------------------------
    def load_all(self, *_signal_args) -> None:
        """Read and send every layer (the page is new, or reloaded after a renderer crash)."""
        database, city_id, calendar = self._ctx.database, self._ctx.city_id, self._ctx.calendar
        user_id = self._ctx.user.id  # the officer's cases only (db.auth.scope)
        clock = self._ctx.clock.now
        self._ctx.reads.run(lambda: map_layers(database, city_id, calendar, user_id, clock),
                            self._apply_all)

    def _apply_all(self, fetched) -> None:
        started, marked, batch = fetched
        if self._sink is None:
            return
        self._staff_since = started
        self.points = {p.id: p for p, _, _ in marked}
        self.statuses = {p.id: status for p, _, status in marked}
        self._sink.apply_batch(batch)

    # -- cases ---------------------------------------------------------------------------
    def refresh_cases(self, case_ids, _origin: object | None = None) -> None:
        """Re-read these cases: moved, recoloured, or gone from the map (closed, void)."""
        case_ids = {i for i in case_ids if i is not None}
        if self._sink is None or not case_ids:
            return
        database, city_id, calendar = self._ctx.database, self._ctx.city_id, self._ctx.calendar
        user_id, clock = self._ctx.user.id, self._ctx.clock.now

        def fetch():
            with database.read() as s:
                return case_markers(map_data.case_points(s, city_id, ids=case_ids,
                                                         actor=user_id), calendar, clock)

        def apply(marked) -> None:
            found = {p.id for p, _, _ in marked}
            gone = sorted(case_ids - found)
            for p, _, status in marked:
                self.points[p.id] = p
                self.statuses[p.id] = status
            for cid in gone:
                self.points.pop(cid, None)
                self.statuses.pop(cid, None)
            if self._sink is not None:
                self._sink.apply_batch(
                    {"cases": {"upsert": [m for _, m, _ in marked], "remove": gone}})

        self._ctx.reads.run(fetch, apply)

    def recolour(self, *_signal_args) -> None:
        """Deadlines pass without any write: move markers from on track to due soon to overdue.
        The statuses are recomputed on the worker; only the changed markers are sent."""
        if self._sink is None or not self.points:
            return
        points, previous = list(self.points.values()), dict(self.statuses)
        calendar, clock = self._ctx.calendar, self._ctx.clock.now

        def work():
            return [item for item in case_markers(points, calendar, clock)
                    if previous.get(item[0].id) != item[2]]

        self._ctx.reads.run(work, self._apply_recolour)

    def _apply_recolour(self, changed) -> None:
        # A point refreshed meanwhile has newer data: its own refresh sent its marker.
        fresh = [(p, m, st) for p, m, st in changed if self.points.get(p.id) is p]
        for p, _, status in fresh:
            self.statuses[p.id] = status
        if fresh and self._sink is not None:
            self._sink.apply_batch({"cases": {"upsert": [m for _, m, _ in fresh]}})

    # -- staff ---------------------------------------------------------------------------
    def refresh_staff(self, _ids=None, _origin: object | None = None) -> None:
        """People moved: send the positions newer than the last read."""
        if self._sink is None:
            return
        database, city_id, clock = self._ctx.database, self._ctx.city_id, self._ctx.clock.now
        since = self._staff_since

        def fetch():  # the marker dicts here too: 4,000 a second are not for the GUI thread
            started = clock()  # fixes are dated by the database's clock
            with database.read() as s:
                points = map_data.staff_points(s, city_id, since=since)
            return started, [point_marker(p) for p in points]

        def apply(fetched) -> None:
            started, markers = fetched
            self._staff_since = started
            if markers and self._sink is not None:
                self._sink.apply_batch({"staff": {"upsert": markers}})

        self._ctx.reads.run(fetch, apply)
