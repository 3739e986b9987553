"""The command-center window: the map in the middle, the case queue, the case detail, the
video/alert area, and a status bar with the connection, the Beijing-time clock and the user.

Data flow (one way): the change feed → :class:`~desktop.core.live.LiveFeed` batches → the queue model,
the detail and the map re-read only what changed, off the GUI thread.
"""
from __future__ import annotations

import datetime as dt
import logging
import subprocess
import threading
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QVBoxLayout, QWidget

from db.devices import cameras
from db.geo import map_data
from db.models import Case
from db.worktime.clock import SHANGHAI

from desktop.core import labels, theme
from desktop.alerts.panel import AlertPanel
from desktop.cases.detail import CaseDetailPanel
from desktop.core.context import AppContext
from desktop.core.live import LiveFeed
from desktop.map.page import build_map_page, configured_tile_url
from desktop.map.view import MapView, case_marker, case_status, point_marker
from desktop.queue.panel import QueuePanel
from desktop.video.wall import VideoWall

log = logging.getLogger(__name__)
CAMERA_FOLLOW_MS = 400  # the selection must rest this long before the video wall follows it
LAYOUT_VERSION = 2  # 2: alerts (left, under the queue) and video wall (right) docks
STATUS_REFRESH_MS = 60_000  # marker colours follow the clock (on track → due soon → overdue)


def _reap(process) -> None:
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def case_markers(points, calendar) -> list[tuple]:
    """``(point, marker dict, deadline status)`` for each case point, at this moment. Pure
    Python: runs on the worker thread."""
    now = dt.datetime.now(dt.timezone.utc)
    out = []
    for p in points:
        status = case_status(calendar, now, p)
        out.append((p, case_marker(p, status), status))
    return out


def map_layers(database, city_id: int, calendar) -> tuple:
    """Every map layer read and turned into marker dicts, for a worker thread (seconds at
    20,000 cases): ``(read at, [(case point, marker, status)], batch for MapView.apply_batch)``."""
    started = dt.datetime.now(dt.timezone.utc)
    with database.read() as s:
        cases = map_data.case_points(s, city_id)
        others = {
            "staff": map_data.staff_points(s, city_id),
            "cameras": map_data.camera_points(s, city_id),
            "sensors": map_data.sensor_points(s, city_id),
            "black_spots": map_data.black_spot_points(s, city_id),
        }
    marked = case_markers(cases, calendar)
    batch = {"cases": {"reset": True, "upsert": [m for _, m, _ in marked]}}
    for name, points in others.items():
        batch[name] = {"reset": True, "upsert": [point_marker(p) for p in points]}
    return started, marked, batch


def screen_class(width: int) -> str:
    """Layouts are kept per kind of screen: a 4K wall differs from a desk monitor."""
    return "4k" if width >= 3000 else "hd"


class MainWindow(QMainWindow):
    """Signals: none of its own; it wires the panels' signals together."""

    def __init__(self, ctx: AppContext, feed: LiveFeed | None = None,
                 map_dir: Path | None = None, *, sound: bool = True) -> None:
        super().__init__()
        self.ctx = ctx
        self.feed = feed
        self._map_dir = map_dir
        self._simulator = None  # the demo's simulator process, stopped with the window
        self._case_points: dict[int, map_data.CasePoint] = {}
        self._case_status: dict[int, str] = {}
        self._staff_since: dt.datetime | None = None
        self.setObjectName("MainWindow")
        self.setWindowTitle(self.tr("CityOps City Management Command Center"))

        # -- central area: banners over the map ------------------------------------------
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.demo_banner = self._banner(theme.BANNER_DEMO)
        self.outage_banner = self._banner(theme.BANNER_ALERT)
        self.critical_banner = self._banner(theme.BANNER_ALERT)
        layout.addWidget(self.demo_banner)
        layout.addWidget(self.outage_banner)
        layout.addWidget(self.critical_banner)
        self.map_placeholder = QLabel(self.tr("Loading map…"))
        self.map_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.map_placeholder.setProperty("dim", True)
        self._map_layout = layout
        layout.addWidget(self.map_placeholder, 1)
        self.map_view: MapView | None = None
        self.setCentralWidget(central)
        if ctx.demo:
            self.demo_banner.setText(
                self.tr("DEMO — signed in automatically as %1 (%2). Demo data, not real cases.")
                .replace("%1", ctx.user.display_name).replace("%2", labels.role_name(ctx.user.role)))
            self.demo_banner.show()

        # -- docks ---------------------------------------------------------------------------
        self.queue = QueuePanel(ctx)
        self.detail = CaseDetailPanel(ctx)
        self.alert_panel = AlertPanel(ctx, sound=sound)
        self.video_wall = VideoWall()
        self.queue_dock = self._dock("queue", self.tr("Case queue"), self.queue)
        self.detail_dock = self._dock("detail", self.tr("Case detail"), self.detail)
        self.alerts_dock = self._dock("alerts", self.tr("Alerts"), self.alert_panel)
        self.video_dock = self._dock("video", self.tr("Video wall"), self.video_wall)
        self._docks = (self.queue_dock, self.alerts_dock, self.detail_dock, self.video_dock)
        self._camera_target: tuple = ("case", None)
        self._camera_requests = 0
        self._camera_timer = QTimer(self, singleShot=True, interval=CAMERA_FOLLOW_MS)
        self._camera_timer.timeout.connect(self._cameras_to_target)

        # -- status bar ----------------------------------------------------------------------
        self.db_label = QLabel()
        self.clock_label = QLabel()
        self.user_label = QLabel(
            self.tr("%1 · %2").replace("%1", ctx.user.display_name)
            .replace("%2", labels.role_name(ctx.user.role)))
        for w in (self.db_label, self.user_label, self.clock_label):
            w.setTextFormat(Qt.TextFormat.PlainText)  # a display name is data, never markup
            self.statusBar().addPermanentWidget(w)
        self._set_online(True, None)
        self._clock = QTimer(self, interval=1000)
        self._clock.timeout.connect(self._tick_clock)
        self._clock.start()
        self._tick_clock()
        # Bound methods, not lambdas, as slots: PySide can corrupt the heap when a lambda's
        # owner dies while a worker thread runs Python.
        ctx.reads.sig_failed.connect(self._show_status_message)
        ctx.writes.sig_failed.connect(self._show_status_message)

        # -- wiring ----------------------------------------------------------------------------
        self.queue.sig_case_selected.connect(self._on_case_selected)
        self.queue.sig_open_case.connect(self._open_case)
        self.detail.sig_case_changed.connect(self._on_own_change)
        self.alert_panel.sig_alert_selected.connect(self._on_alert_selected)
        self.alert_panel.sig_open_case.connect(self._open_alert_case)
        self.alert_panel.sig_attention_changed.connect(self._on_attention_changed)
        if feed is not None:
            feed.sig_batch.connect(self._on_changes)
            feed.sig_online_changed.connect(self._set_online)
        self._status_timer = QTimer(self, interval=STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(self._recolour_cases)
        self._status_timer.start()
        refresh = QAction(self.tr("Refresh everything"), self)
        refresh.setShortcut(QKeySequence("Ctrl+F5"))  # F5 alone is the queue's own refresh
        refresh.triggered.connect(self.reload_all)
        self.addAction(refresh)
        focus_queue = QAction(self.tr("Go to the queue"), self)
        focus_queue.setShortcut(QKeySequence("Ctrl+L"))
        focus_queue.triggered.connect(self.queue.setFocus)
        self.addAction(focus_queue)
        to_alerts = QAction(self.tr("Go to the most urgent alert"), self)
        to_alerts.setShortcut(QKeySequence("F9"))
        to_alerts.triggered.connect(self.go_to_alerts)
        self.addAction(to_alerts)

        self.restore_layout()
        self._load_map()

    # -- building --------------------------------------------------------------------------
    def _banner(self, colour: str) -> QLabel:
        banner = QLabel()
        banner.setTextFormat(Qt.TextFormat.PlainText)
        banner.setStyleSheet(f"background: {colour}; color: white; font-weight: bold; padding: 8px;")
        banner.setWordWrap(True)
        banner.hide()
        return banner

    def _dock(self, name: str, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{name}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        return dock

    # -- layout ----------------------------------------------------------------------------
    def _settings(self) -> QSettings:
        settings = QSettings()
        settings.beginGroup(self.ctx.settings_scope)
        return settings

    def _layout_key(self) -> str:
        screen = self.screen().availableGeometry() if self.screen() else None
        width = screen.width() if screen else 1920
        return f"layout/v{LAYOUT_VERSION}/qt{qVersion()}/{screen_class(width)}"

    def default_layout(self, width: int | None = None) -> None:
        """The sound default: the two lists on the left (queue over alerts), the map in the
        centre, the case detail over the video wall on the right."""
        if width is None:
            width = self.screen().availableGeometry().width() if self.screen() else 1920
        scale = 2 if screen_class(width) == "4k" else 1
        for dock in self._docks:
            self.removeDockWidget(dock)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.queue_dock)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.alerts_dock)
        self.splitDockWidget(self.queue_dock, self.alerts_dock, Qt.Orientation.Vertical)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.detail_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.video_dock)
        self.splitDockWidget(self.detail_dock, self.video_dock, Qt.Orientation.Vertical)
        for dock in self._docks:
            dock.show()
        self.resizeDocks([self.queue_dock, self.detail_dock], [640 * scale, 560 * scale],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.queue_dock, self.alerts_dock], [560 * scale, 440 * scale],
                         Qt.Orientation.Vertical)
        self.resizeDocks([self.detail_dock, self.video_dock], [560 * scale, 440 * scale],
                         Qt.Orientation.Vertical)

    def _scale(self) -> float:
        screen = self.screen()
        return 2.0 if screen and screen_class(screen.availableGeometry().width()) == "4k" else 1.0

    def restore_layout(self) -> bool:
        settings = self._settings()
        state = settings.value(self._layout_key() + "/state")
        geometry = settings.value(self._layout_key() + "/geometry")
        if isinstance(geometry, (QByteArray, bytes)):
            self.restoreGeometry(QByteArray(geometry))
        if isinstance(state, (QByteArray, bytes)) and self.restoreState(QByteArray(state), LAYOUT_VERSION):
            return True
        self.default_layout()
        return False

    def save_layout(self) -> None:
        settings = self._settings()
        settings.setValue(self._layout_key() + "/state", self.saveState(LAYOUT_VERSION))
        settings.setValue(self._layout_key() + "/geometry", self.saveGeometry())
        settings.sync()

    # -- the map ---------------------------------------------------------------------------
    def _load_map(self) -> None:
        database, city_id = self.ctx.database, self.ctx.city_id  # plain values only: the
        map_dir = self._map_dir  # worker must never hold a QObject (it could free it there)
        tile_url = configured_tile_url()
        scale = self._scale()

        def build():
            with database.read() as session:
                base = map_data.base_layers(session, city_id)
            return build_map_page(base, map_dir, tile_url=tile_url, scale=scale)

        self.ctx.reads.run(build, self._install_map, self._map_failed)

    def _map_failed(self, exc: BaseException) -> None:
        self.map_placeholder.setText(self.tr("The map could not be built: %1").replace("%1", str(exc)))

    def _show_status_message(self, message: str) -> None:
        self.statusBar().showMessage(message, 10_000)

    def _on_own_change(self, case_id: int) -> None:
        """This window's own step: refresh at once rather than wait for the feed's echo."""
        self._on_changes({"case": {case_id}})

    def _install_map(self, page_path: Path) -> None:
        self.map_view = MapView(page_path, tile_url=configured_tile_url())
        self._map_layout.replaceWidget(self.map_placeholder, self.map_view)
        self.map_placeholder.hide()
        self.map_view.sig_case_clicked.connect(self._on_map_case_clicked)
        self.map_view.sig_camera_clicked.connect(self._on_map_camera_clicked)
        # After a renderer crash the page reloads empty and says ready again: send everything.
        self.map_view.sig_ready.connect(self._load_map_layers)

    def _load_map_layers(self) -> None:
        database, city_id, reads = self.ctx.database, self.ctx.city_id, self.ctx.reads
        calendar = self.ctx.calendar

        reads.run(lambda: map_layers(database, city_id, calendar), self._apply_layers)

    def _apply_layers(self, fetched) -> None:
        started, marked, batch = fetched
        if self.map_view is None:
            return
        self._staff_since = started
        self._case_points = {p.id: p for p, _, _ in marked}
        self._case_status = {p.id: status for p, _, status in marked}
        self.map_view.apply_batch(batch)

    def _recolour_cases(self) -> None:
        """Deadlines pass without any write: move markers from on track to due soon to overdue.
        The statuses are recomputed on the worker; only the changed markers are sent."""
        if self.map_view is None or not self._case_points:
            return
        points, previous = list(self._case_points.values()), dict(self._case_status)
        calendar = self.ctx.calendar

        def work():
            return [item for item in case_markers(points, calendar)
                    if previous.get(item[0].id) != item[2]]

        self.ctx.reads.run(work, self._apply_recolour)

    def _apply_recolour(self, changed) -> None:
        # A point refreshed meanwhile has newer data: its own refresh sent its marker.
        fresh = [(p, m, st) for p, m, st in changed if self._case_points.get(p.id) is p]
        for p, _, status in fresh:
            self._case_status[p.id] = status
        if fresh and self.map_view is not None:
            self.map_view.apply_batch({"cases": {"upsert": [m for _, m, _ in fresh]}})

    # -- selection, both ways --------------------------------------------------------------
    def _on_case_selected(self, case_id: int) -> None:
        self.detail.show_case(case_id)
        if self.map_view is not None:
            self.map_view.select_case(case_id)
        self._follow_with_cameras(("case", case_id))

    # -- cameras: the scene of what is selected ----------------------------------------------
    def _follow_with_cameras(self, what: tuple) -> None:
        """Point the video wall at what was selected, once the selection settles: an officer
        arrowing down the queue must not restart four streams per key press."""
        self._camera_target = what
        self._camera_timer.start()

    def _cameras_to_target(self) -> None:
        kind, target = self._camera_target
        if kind == "case":
            self._show_cameras_near_case(target)
        else:
            self._show_cameras_near_alert(target)

    def _camera_request(self) -> int:
        """A number for the wall's next answer: an older answer arriving late is dropped."""
        self._camera_requests += 1
        return self._camera_requests

    def _show_cameras_near_case(self, case_id: int) -> None:
        database, city_id, n = self.ctx.database, self.ctx.city_id, self.video_wall.layout_size
        number = self._camera_request()

        def fetch():
            with database.read() as s:
                case = s.get(Case, case_id)
                if case is None or case.lat is None or case.lon is None:
                    return number, None
                return number, cameras.nearest_cameras(s, city_id, case.lat, case.lon, n=n)

        self.ctx.reads.run(fetch, self._show_cameras)

    def _on_alert_selected(self, alert) -> None:
        if self.map_view is not None and alert.case_id is not None:
            self.map_view.select_case(alert.case_id)
        self._follow_with_cameras(("alert", alert))

    def _show_cameras_near_alert(self, alert) -> None:
        number = self._camera_request()
        if alert.lat is None or alert.lon is None:
            if alert.camera_id is None:
                self._show_cameras((number, None))
                return
        database, city_id, n = self.ctx.database, self.ctx.city_id, self.video_wall.layout_size
        lat, lon, own = alert.lat, alert.lon, alert.camera_id

        def fetch():
            with database.read() as s:
                near = ([] if lat is None or lon is None
                        else cameras.nearest_cameras(s, city_id, lat, lon, n=n))
                if own is not None:  # the camera that saw it first, then its neighbours
                    near = cameras.camera_info(s, [own]) + [c for c in near if c.id != own]
                return number, near[:n]

        self.ctx.reads.run(fetch, self._show_cameras)

    def _show_cameras(self, fetched) -> None:
        number, found = fetched
        if number != self._camera_requests:
            return  # the officer has moved on to something else
        if found is None:
            self.video_wall.show_nothing(self.tr("No location, so no cameras to show"))
        elif not found:
            self.video_wall.show_nothing(
                self.tr("No camera within %1 km").replace("%1", f"{cameras.NEAR_KM:g}"))
        else:
            self.video_wall.show_cameras(found)

    def _on_map_camera_clicked(self, camera_id: int) -> None:
        self._camera_timer.stop()  # the click wins over a selection still settling
        number = self._camera_request()
        database = self.ctx.database

        def fetch():
            with database.read() as s:
                return cameras.camera_info(s, [camera_id])

        def play(found) -> None:
            if found and number == self._camera_requests:
                self.video_wall.play_camera(found[0])
                self.video_dock.show()
                self.video_dock.raise_()

        self.ctx.reads.run(fetch, play)

    # -- alerts ----------------------------------------------------------------------------
    def go_to_alerts(self) -> None:
        self.alerts_dock.show()
        self.alerts_dock.raise_()
        self.alert_panel.select_most_urgent()

    def _open_alert_case(self, case_id: int) -> None:
        self.queue.select_case(case_id)
        self._open_case(case_id)

    def _on_attention_changed(self, count: int) -> None:
        if count:
            self.critical_banner.setText(
                self.tr("%1 critical alerts await acknowledgement. Press F9 to go to them.")
                .replace("%1", str(count)))
            self.critical_banner.show()
        else:
            self.critical_banner.hide()

    def _on_map_case_clicked(self, case_id: int) -> None:
        self.queue.select_case(case_id)  # emits sig_case_selected → detail and map highlight

    def _open_case(self, case_id: int) -> None:
        self.detail.show_case(case_id)
        self.detail_dock.raise_()
        self.detail.setFocus()

    # -- live ------------------------------------------------------------------------------
    def _on_changes(self, batch: dict) -> None:
        if "*" in batch:
            self.ctx.database.invalidate()
            self.reload_all()
            return
        case_ids = {i for i in batch.get("case", set()) if i is not None}
        if case_ids:
            self.queue.model.apply_changes(case_ids)
            self.detail.apply_changes(case_ids)
            self._refresh_case_points(case_ids)
        alert_ids = batch.get("alert")
        if alert_ids:
            self.alert_panel.apply_changes(alert_ids)
            if {a.id for a in self.detail.linked_alerts} & set(alert_ids):
                self.detail.reload()  # its "linked alerts" show their state
        if batch.get("sensor"):
            self.alert_panel.refresh_sensors(batch["sensor"])
        if "staff_position" in batch and self.map_view is not None:
            self._refresh_staff()
        if batch.keys() & {"calendar", "app_setting", "grid"}:
            self._reload_reference()

    def _refresh_staff(self) -> None:
        database, city_id, reads = self.ctx.database, self.ctx.city_id, self.ctx.reads
        since = self._staff_since

        def fetch():  # the marker dicts here too: 4,000 a second are not for the GUI thread
            started = dt.datetime.now(dt.timezone.utc)
            with database.read() as s:
                points = map_data.staff_points(s, city_id, since=since)
            return started, [point_marker(p) for p in points]

        def apply(fetched) -> None:
            started, markers = fetched
            self._staff_since = started
            if markers and self.map_view is not None:
                self.map_view.apply_batch({"staff": {"upsert": markers}})

        reads.run(fetch, apply)

    def _reload_reference(self) -> None:
        """Another workstation changed the calendar, office hours or grids: every deadline this
        window computes from now on uses the new ones."""
        database, reads = self.ctx.database, self.ctx.reads
        database.invalidate()

        def fetch():
            from db.worktime.calendar_data import load_calendar

            with database.read() as s:
                return load_calendar(s)

        def apply(calendar) -> None:
            self.ctx.calendar = calendar
            self._recolour_cases()

        reads.run(fetch, apply)

    def _refresh_case_points(self, case_ids: set[int]) -> None:
        if self.map_view is None:
            return
        database, city_id, reads = self.ctx.database, self.ctx.city_id, self.ctx.reads
        calendar = self.ctx.calendar

        def fetch():
            with database.read() as s:
                return case_markers(map_data.case_points(s, city_id, ids=case_ids), calendar)

        def apply(marked) -> None:
            found = {p.id for p, _, _ in marked}
            gone = sorted(case_ids - found)  # closed, void, or moved to another city
            for p, _, status in marked:
                self._case_points[p.id] = p
                self._case_status[p.id] = status
            for cid in gone:
                self._case_points.pop(cid, None)
                self._case_status.pop(cid, None)
            if self.map_view is not None:
                self.map_view.apply_batch(
                    {"cases": {"upsert": [m for _, m, _ in marked], "remove": gone}})

        reads.run(fetch, apply)

    def reload_all(self) -> None:
        self._reload_reference()
        self.queue.model.refresh()
        self.detail.reload()
        self.alert_panel.reload()
        if self.map_view is not None:
            self._load_map_layers()

    def _set_online(self, online: bool, since: dt.datetime | None) -> None:
        was_offline = not self.ctx.online
        self.ctx.online = online
        if online:
            self.outage_banner.hide()
            self.db_label.setText(self.tr("● Database connected"))
            self.db_label.setStyleSheet(f"color: {theme.DEADLINE_COLORS['on_track']};")
            if was_offline:
                self.reload_all()  # the feed delivers what was missed; this also re-reads views
        else:
            local = (since or dt.datetime.now(dt.timezone.utc)).astimezone(SHANGHAI)
            self.outage_banner.setText(
                self.tr("Database connection lost since %1. Showing the last known state; "
                        "case actions are refused until the connection is back.")
                .replace("%1", local.strftime("%H:%M:%S")))
            self.outage_banner.show()
            self.db_label.setText(self.tr("● Database unreachable"))
            self.db_label.setStyleSheet(f"color: {theme.DEADLINE_COLORS['overdue']};")

    def _tick_clock(self) -> None:
        now = dt.datetime.now(SHANGHAI)
        self.clock_label.setText(self.tr("Beijing time %1").replace("%1", now.strftime("%Y-%m-%d %H:%M:%S")))

    def attach_simulator(self, process) -> None:
        """Show that the demo city is simulated, and stop the simulator with the window."""
        self._simulator = process
        self.demo_banner.setText(self.demo_banner.text() + " " + self.tr(
            "A simulator is generating live traffic."))

    def closeEvent(self, event) -> None:
        if self._simulator is not None:
            # SIGTERM: it finishes the transaction under way and exits. Reaped on a thread so
            # a closing window never waits for it; killed if it does not go within 10 s.
            process, self._simulator = self._simulator, None
            process.terminate()
            threading.Thread(target=_reap, args=(process,), daemon=True).start()
        self.save_layout()
        self.alert_panel.shutdown()
        self.video_wall.stop_all()
        if self.map_view is not None:  # a page outliving its profile makes Qt complain
            self.map_view.setParent(None)
            self.map_view.deleteLater()
            self.map_view = None
        if self.feed is not None:
            self.feed.stop()
        self.ctx.reads.shutdown()
        self.ctx.writes.shutdown()
        super().closeEvent(event)
