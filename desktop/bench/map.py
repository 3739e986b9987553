"""Section 3, the map under load: every open case on the map and all the staff moving once a
second (another process moves them: one transaction a second, through the change feed).

The map is fed exactly as the window feeds it (:class:`MapDriver` repeats
``MapLayers.load_all`` / ``refresh_staff``: the reads on the worker thread, the batch
to :class:`~desktop.map.view.MapView`), alone in this process, so that the GUI thread's busy
time (its CPU time, :func:`~desktop.bench.harness.gui_busy_ns`) is the map's.

Figures: page load; every marker on screen; JavaScript per tick (``applyBatch`` plus the canvas
redraws until the next tick, timed on the page); GUI-thread busy time per tick. Baseline: what
an application that rebuilds its folium page for each update pays: building the page with every
marker (Python, on its GUI thread) and loading it.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtWebEngineCore import QWebEnginePage
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QVBoxLayout, QWidget
from sqlalchemy import select

from db.bench.report import Figure, summary
from db.core.engine import open_database
from db.geo import map_data
from db.models import City
from db.worktime.calendar_data import load_calendar
from desktop.bench.harness import (
    JS_TIMING,
    gui_busy_ns,
    js,
    make_app,
    map_idle,
    must,
    pump,
    say,
    wait_js,
)
from desktop.core.live import LiveFeed
from desktop.core.tasks import TaskRunner
from desktop.map.layers import case_markers, map_layers
from desktop.map.page import build_map, build_map_page, render_page
from desktop.map.scheme import PAGE_URL
from desktop.map.view import LockedProfile, MapView, point_marker

SECTION = "3 map under load"


class MapDriver(QObject):
    """Feeds the map as ``MainWindow`` does (see the module docstring)."""

    def __init__(self, view: MapView, database, city_id: int, calendar) -> None:
        super().__init__()
        self.view, self.database, self.city_id, self.calendar = view, database, city_id, calendar
        self.reads = TaskRunner("reads", self)
        self.staff_since: dt.datetime | None = None
        self.case_points: dict = {}
        self.loaded = False

    def load_layers(self) -> None:
        database, city_id, calendar = self.database, self.city_id, self.calendar

        self.reads.run(lambda: map_layers(database, city_id, calendar), self._apply_layers)

    def _apply_layers(self, fetched) -> None:
        started, marked, batch = fetched
        self.staff_since = started
        self.case_points = {p.id: p for p, _, _ in marked}
        self.view.apply_batch(batch)
        self.loaded = True

    def on_changes(self, batch: dict) -> None:
        if "staff_position" in batch:
            self.refresh_staff()

    def refresh_staff(self) -> None:
        database, city_id, since = self.database, self.city_id, self.staff_since

        def fetch():
            started = dt.datetime.now(dt.UTC)
            with database.read() as s:
                points = map_data.staff_points(s, city_id, since=since)
            return started, [point_marker(p) for p in points]

        self.reads.run(fetch, self._apply_staff)

    def _apply_staff(self, fetched) -> None:
        started, markers = fetched
        self.staff_since = started
        if markers:
            self.view.apply_batch({"staff": {"upsert": markers}})


class _Ticks(QObject):
    """The mover's tick lines, on the GUI thread: marks the GUI thread's CPU time at each."""

    sig_line = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.marks = [gui_busy_ns()]
        self.sig_line.connect(self.on_line)

    @Slot(str)
    def on_line(self, line: str) -> None:
        if line.startswith("tick"):
            self.marks.append(gui_busy_ns())

    def follow(self, stream) -> threading.Thread:
        def run() -> None:
            for line in stream:
                self.sig_line.emit(line.strip())

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def folium_rebuild(base, marked, staff, out_dir: Path, host: QWidget) -> dict:
    """The baseline: build the folium page with every marker in it, write it, load it."""
    import folium

    t0 = time.perf_counter()
    fmap = build_map(base)
    for _p, m, _status in marked:
        folium.CircleMarker([m["lat"], m["lon"]], radius=6.5, weight=1.5, color="#0a0e14",
                            fill=True, fill_color="#3fb950", fill_opacity=1,
                            tooltip=m["number"]).add_to(fmap)
    for p in staff:
        folium.CircleMarker([p.lat, p.lon], radius=2.2, stroke=False, fill=True,
                            fill_color="#39c5cf", fill_opacity=0.55, tooltip=p.name).add_to(fmap)
    html = render_page(fmap)  # with its security policy, as the real page
    path = out_dir / "folium_rebuild.html"
    path.write_text(html, encoding="utf-8")
    build_ms = (time.perf_counter() - t0) * 1000
    # Served as the real page is: the app's scheme, on a locked profile of its own.
    view = QWebEngineView(host)
    profile = LockedProfile(path, None, host)
    page = QWebEnginePage(profile, view)
    view.setPage(page)
    host.layout().addWidget(view)
    done = []
    page.loadFinished.connect(done.append)
    t1 = time.perf_counter()
    view.setUrl(QUrl(PAGE_URL))
    must(lambda: bool(done), "the rebuilt folium page to load", 600)
    load_ms = (time.perf_counter() - t1) * 1000
    view.setParent(None)
    view.deleteLater()
    profile.deleteLater()  # after the page (deleted with the view, first)
    return {"build_ms": round(build_ms, 1), "load_ms": round(load_ms, 1),
            "html_mb": round(len(html.encode()) / 1e6, 1), "loaded_ok": bool(done[0])}


def run(url: str, quick: bool) -> tuple[list[Figure], dict]:
    app = make_app()
    seconds = 6 if quick else 30
    database = open_database(url, migrate=False)
    tmp = Path(tempfile.mkdtemp(prefix="cityops-bench-map-"))
    with database.read() as s:
        city_id = s.scalar(select(City.id).order_by(City.id).limit(1))
        base = map_data.base_layers(s, city_id)
        calendar = load_calendar(s)
    page = build_map_page(base, tmp / "map")

    host = QWidget()
    QVBoxLayout(host).setContentsMargins(0, 0, 0, 0)
    host.resize(1600, 1000)
    host.show()
    t0 = time.perf_counter()
    view = MapView(page)
    host.layout().addWidget(view)
    must(lambda: view.ready, "the map page", 120)
    ready_ms = (time.perf_counter() - t0) * 1000
    js(view, JS_TIMING)
    driver = MapDriver(view, database, city_id, calendar)
    applied: list[dict] = []
    view.sig_batch_applied.connect(applied.append)
    t1 = time.perf_counter()
    driver.load_layers()
    must(lambda: driver.loaded and applied
         and applied[-1].get("cases", 0) == len(driver.case_points),
         "every marker on the page", 300)
    # on screen: the redraw that follows the batch
    wait_js(view, "window.__bench.some(function (e) { return e[0] === 'draw'; })",
            "the first redraw")
    markers_ms = (time.perf_counter() - t1) * 1000
    counts = applied[-1]
    say(f"  map: page ready in {ready_ms:.0f} ms; {counts.get('cases', 0):,} cases and "
        f"{counts.get('staff', 0):,} staff on screen {markers_ms:.0f} ms later")

    feed = LiveFeed(database.url)
    feed.sig_batch.connect(driver.on_changes)
    feed.start()
    must(lambda: feed.online, "the change feed")
    pump(1.0)
    idle0 = gui_busy_ns()
    pump(2.0)
    idle_ms_per_s = (gui_busy_ns() - idle0) / 1e6 / 2.0
    js(view, "(window.__bench.length = 0, true)")

    tick_busy = _ticks(url, seconds, driver, view)
    ticks = len(tick_busy)
    log = js(view, "window.__bench")
    per_tick_js = _js_per_tick(log)
    reload_ms, reload_before_ms = _full_reload(driver, view)
    # Again with the page told to do nothing with the batches: what is left is this
    # application's share (the feed, the reads, the batch sent), without QtWebEngine's own work
    # on this thread for a redrawn page (offscreen, its compositing runs here in software).
    js(view, "(window.cityops.applyBatch = function () { return window.cityops.stats(); }, true)")
    own_busy = _ticks(url, max(4, seconds // 3), driver, view)
    feed.stop()

    # -- baseline: rebuild the folium page with every marker -------------------------------
    with database.read() as s:
        staff = map_data.staff_points(s, city_id)
        marked = case_markers(map_data.case_points(s, city_id), calendar)
    say(f"  map: baseline, rebuilding the folium page with {len(marked) + len(staff):,} markers…")
    rebuild = folium_rebuild(base, marked, staff, tmp, host)

    n_markers = counts.get("cases", 0) + counts.get("staff", 0)
    gui = summary(tick_busy)
    own = summary(own_busy)
    jss = summary(per_tick_js)
    figures = [
        Figure(SECTION, "page load (ready)", round(ready_ms, 1), "ms",
               baseline=rebuild["load_ms"], baseline_label="folium page with every marker: load"),
        Figure(SECTION,
               f"{counts.get('cases', 0):,} cases + {counts.get('staff', 0):,} staff on screen",
               round(markers_ms, 1), "ms", baseline=rebuild["build_ms"] + rebuild["load_ms"],
               baseline_label="folium page with every marker: build + load"),
        Figure(SECTION, f"GUI thread to send every marker again ({n_markers:,})",
               round(reload_ms, 1), "ms", baseline=round(reload_before_ms, 1),
               baseline_label="merged, encoded and sent in one call on the GUI thread (before)"),
        Figure(SECTION, "JavaScript per tick, mean", jss["mean"], "ms",
               baseline=rebuild["load_ms"], baseline_label="folium rebuild: page load per update",
               target=16.0),
        Figure(SECTION, "JavaScript per tick, p95", jss["p95"], "ms",
               baseline=rebuild["load_ms"], baseline_label="folium rebuild: page load per update",
               target=16.0),
        Figure(SECTION, "GUI thread per tick, mean", gui["mean"], "ms",
               baseline=rebuild["build_ms"], baseline_label="folium rebuild: building the page",
               target=5.0),
        Figure(SECTION, "GUI thread per tick, p95", gui["p95"], "ms",
               baseline=rebuild["build_ms"], baseline_label="folium rebuild: building the page",
               target=5.0,
               note="all of it, QtWebEngine's compositing of the redrawn page included"),
        Figure(SECTION, "GUI thread per tick, page not redrawn, p95", own["p95"], "ms",
               baseline=rebuild["build_ms"], baseline_label="folium rebuild: building the page",
               target=5.0, note="this application's share: feed, reads, batch sent"),
    ]
    detail = {"ticks": ticks, "seconds": seconds, "markers": counts, "page_ready_ms": ready_ms,
              "markers_on_screen_ms": markers_ms, "js_per_tick": jss, "gui_per_tick": gui,
              "gui_per_tick_page_not_redrawn": own,
              "full_reload_gui_ms": round(reload_ms, 1),
              "full_reload_gui_ms_before": round(reload_before_ms, 1),
              "gui_idle_ms_per_s": round(idle_ms_per_s, 3), "rebuild": rebuild,
              "js_apply": summary([e[2] for e in log if e[0] == "apply"]),
              "js_draw": summary([e[2] for e in log if e[0] == "draw"])}
    view.setParent(None)
    view.deleteLater()
    host.close()
    database.dispose()
    app.processEvents()
    return figures, detail


def _full_reload(driver: MapDriver, view: MapView) -> tuple[float, float]:
    """GUI-thread CPU ms for sending every layer again (a reload after an outage): through
    :class:`MapView`, and the way it was done before (merged, encoded and sent in one call on
    the GUI thread), until the page has applied it."""
    import json

    from desktop.map.view import _PendingLayer

    box: list = []
    database, city_id, calendar = driver.database, driver.city_id, driver.calendar

    def fetch():
        with database.read() as s:
            marked = case_markers(map_data.case_points(s, city_id), calendar)
            staff = map_data.staff_points(s, city_id)
        return {"cases": {"reset": True, "upsert": [m for _, m, _ in marked]},
                "staff": {"reset": True, "upsert": [point_marker(p) for p in staff]}}

    driver.reads.run(fetch, box.append)
    must(lambda: bool(box), "the layers")
    batch = box[0]
    applied: list = []
    view.sig_batch_applied.connect(applied.append)
    t0 = gui_busy_ns()
    view.apply_batch(batch)
    must(lambda: bool(applied) and map_idle(view), "the reload on the page", 300)
    now_ms = (gui_busy_ns() - t0) / 1e6
    view.sig_batch_applied.disconnect(applied.append)
    pump(0.5)
    done: list = []
    t0 = gui_busy_ns()
    pending = {}
    for name, part in batch.items():
        pending.setdefault(name, _PendingLayer()).merge(part)
    payload = json.dumps({n: p.as_json_ready() for n, p in pending.items()}, ensure_ascii=False,
                         separators=(",", ":"), allow_nan=False)
    view.page.runJavaScript(f"(function(){{return JSON.stringify(window.cityops.applyBatch("
                            f"{payload}));}})()", 0, done.append)
    must(lambda: bool(done), "the reload the old way", 300)
    before_ms = (gui_busy_ns() - t0) / 1e6
    pump(0.5)
    return now_ms, before_ms


def _ticks(url: str, seconds: int, driver: MapDriver, view: MapView) -> list[float]:
    """Move the staff once a second for ``seconds``; the GUI thread's CPU ms for each tick
    (between one tick's commit and the next; the last runs until the page is done)."""
    mover = subprocess.Popen([sys.executable, "-m", "db.bench.traffic", "staff", "--db", url,
                              "--hz", "1", "--seconds", str(seconds)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ticks_seen = _Ticks()
    ticks_seen.follow(mover.stdout)
    must(lambda: mover.poll() is not None, "the staff mover", seconds + 120, poll_ms=100)
    pump(0.5)  # the last tick's feed wake-up
    must(lambda: driver.reads.pending == 0 and map_idle(view),
         "the last tick on the page", poll_ms=50)
    pump(0.3)  # and its redraw
    marks = ticks_seen.marks + [gui_busy_ns()]
    if mover.returncode != 0:
        raise RuntimeError(f"staff mover failed: {mover.stderr.read()[-2000:]}")
    return [(b - a) / 1e6 for a, b in zip(marks[1:], marks[2:])]


def _js_per_tick(log: list) -> list[float]:
    """Per staff batch: its applyBatch time plus the redraws until the next batch."""
    out: list[float] = []
    for kind, _t, ms in log:
        if kind == "apply":
            out.append(ms)
        elif out:
            out[-1] += ms
    return out
