"""The command-center window: the map in the middle, the case queue, the case detail, the
video/alert area, and a status bar with the connection, the Beijing-time clock and the user.

Data flow (one way): the change feed → :class:`~desktop.core.live.LiveFeed` batches → the queue model,
the detail and the map re-read only what changed, off the GUI thread.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from db.auth.roles import Role
from db.auth.signin import UNLOCKERS
from db.core import jobs
from db.core.entities import Entity
from db.devices import cameras
from db.geo import map_data
from db.worktime.clock import SHANGHAI
from desktop.alerts.panel import AlertPanel
from desktop.cases.detail import CaseDetailPanel
from desktop.core import labels, theme
from desktop.core.context import AppContext
from desktop.core.live import LiveFeed
from desktop.map.layers import MapLayers
from desktop.map.page import build_map_page, configured_tile_url
from desktop.map.view import MapView
from desktop.queue.panel import QueuePanel
from desktop.settings.dialog import CitySettingsDialog
from desktop.video.wall import VideoWall
from desktop.window.clock_warning import ClockWarning

log = logging.getLogger(__name__)
CAMERA_FOLLOW_MS = 400  # the selection must rest this long before the video wall follows it
LAYOUT_VERSION = 4  # 4: queue 450 over alerts 550 (3: the alert dock holds a list over a detail+trend splitter)


def screen_class(width: int) -> str:
    """Layouts are kept per kind of screen: a 4K wall differs from a desk monitor."""
    return "4k" if width >= 3000 else "hd"


class MainWindow(QMainWindow):
    """Wires the panels' signals together.

    Signals: ``sig_sign_out``, ``sig_switch_user`` and ``sig_handover``, asked for by the user;
    whoever opened the window (desktop/app/startup.py) closes it and shows the sign-in dialog
    (the handover dialog). ``sig_locked_accounts``: a shift leader or an administrator asks for
    the accounts locked by failed sign-ins.
    """

    sig_sign_out = Signal()
    sig_switch_user = Signal()
    sig_handover = Signal()
    sig_locked_accounts = Signal()

    def __init__(self, ctx: AppContext, feed: LiveFeed | None = None,
                 map_dir: Path | None = None, *, sound: bool = True) -> None:
        super().__init__()
        self.ctx = ctx
        self.feed = feed
        self._map_dir = map_dir
        self._simulator = None  # the demo simulator's ChildSupervisor, stopped with the window
        self.map_layers = MapLayers(ctx, self)  # the map's points and colours (no widget)
        self.setObjectName("MainWindow")
        self.setWindowTitle(self.tr("CityOps City Management Command Center"))

        # -- central area: banners over the map ------------------------------------------
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.demo_banner = self._banner(theme.BANNER_DEMO)
        self.outage_banner = self._banner(theme.BANNER_ALERT)
        layout.addWidget(self.demo_banner)
        layout.addWidget(self.outage_banner)
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
        for w in (self.db_label, self.clock_label):
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
        self.alert_panel.sig_alert_selected.connect(self._on_alert_selected)
        self.alert_panel.sig_open_case.connect(self._open_alert_case)
        self.alert_panel.sig_attention_changed.connect(self._on_attention_changed)
        # Changes reach each panel through its own subscriptions (ctx.changes); the window
        # only hands the feed's batches over and keeps what is the whole screen's.
        ctx.changes.subscribe(Entity.ALL, self._reload_everything)
        ctx.changes.subscribe(Entity.CALENDAR, self._calendar_changed)
        self.job_label = QLabel()  # a failed scheduled job, for the administrator
        self.job_label.setTextFormat(Qt.TextFormat.PlainText)
        self.job_label.setStyleSheet(f"color: {theme.DEADLINE_COLORS['overdue']}; font-weight: bold;")
        self.job_label.hide()
        self.statusBar().addWidget(self.job_label)
        if ctx.user.role == Role.ADMIN:
            ctx.changes.subscribe(Entity.JOB_RUN, self._jobs_changed)
            self._jobs_changed()  # a job that failed before this window opened
        if feed is not None:
            feed.sig_batch.connect(self._on_feed_batch)
            feed.sig_online_changed.connect(self._set_online)
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
        next_pane = QAction(self.tr("Next pane"), self)
        next_pane.setShortcut(QKeySequence("F6"))
        next_pane.triggered.connect(self.focus_next_pane)
        self.addAction(next_pane)
        previous_pane = QAction(self.tr("Previous pane"), self)
        previous_pane.setShortcut(QKeySequence("Shift+F6"))
        previous_pane.triggered.connect(self.focus_previous_pane)
        self.addAction(previous_pane)
        # -- the session: sign out, or hand the desk to someone else ----------------------------
        self.sign_out_action = QAction(self.tr("Sign out"), self)
        self.sign_out_action.setShortcut(QKeySequence("Ctrl+Shift+Q"))
        self.sign_out_action.triggered.connect(self.sig_sign_out)
        self.switch_user_action = QAction(self.tr("Switch user"), self)
        self.switch_user_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.switch_user_action.triggered.connect(self.sig_switch_user)
        self.handover_action = QAction(self.tr("Shift handover"), self)
        self.handover_action.setShortcut(QKeySequence("Ctrl+Shift+H"))
        self.handover_action.triggered.connect(self.sig_handover)
        session_actions = [self.handover_action, self.switch_user_action, self.sign_out_action]
        self.locked_accounts_action: QAction | None = None
        if ctx.user.role in UNLOCKERS:  # who may lift a lock after failed sign-ins
            self.locked_accounts_action = QAction(self.tr("Locked accounts"), self)
            self.locked_accounts_action.triggered.connect(self.sig_locked_accounts)
            session_actions.insert(0, self.locked_accounts_action)
        self.settings_action: QAction | None = None
        self.settings_dialog: CitySettingsDialog | None = None
        if ctx.user.role == Role.ADMIN:  # the database refuses anyone else (db.settings.change)
            self.settings_action = QAction(self.tr("City settings"), self)
            self.settings_action.setShortcut(QKeySequence("Ctrl+Shift+,"))
            self.settings_action.triggered.connect(self.open_settings)
            session_actions.insert(0, self.settings_action)
        # Who is signed in, as a button whose menu holds the session's actions (their keys work
        # anywhere): one place, and a status bar that fits a 1280 px desk whatever the role.
        self.user_button = QToolButton()
        self.user_button.setObjectName("sessionButton")
        self.user_button.setText(self.tr("%1 · %2").replace("%1", ctx.user.display_name)
                                 .replace("%2", labels.role_name(ctx.user.role)) + " ▾")
        self.user_button.setToolTip(self.tr("Your session: hand over the shift, switch user, sign out"))
        self.user_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.user_button.setAutoRaise(True)
        self.session_menu = QMenu(self.user_button)
        for action in session_actions:
            if action is self.handover_action and not self.session_menu.isEmpty():
                self.session_menu.addSeparator()  # the administrator's tools above the session's
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{action.text()} ({keys})" if keys else action.text())
            self.addAction(action)
            self.session_menu.addAction(action)
        self.user_button.setMenu(self.session_menu)
        self.statusBar().insertPermanentWidget(1, self.user_button)  # after the connection
        # The demo's simulator died and is being restarted (after the line above: its index
        # counts the normal widgets too).
        self.simulator_label = QLabel()
        self.simulator_label.setTextFormat(Qt.TextFormat.PlainText)
        self.simulator_label.hide()
        self.statusBar().addWidget(self.simulator_label)
        # This computer's clock against the server's: measured every minute, warned when off
        # (added after the permanent widgets, whose insertion index counts the normal ones).
        self.clock_warning = ClockWarning(ctx)
        self.statusBar().addWidget(self.clock_warning)

        self.restore_layout()
        self._load_map()

    def open_settings(self, *_signal_args) -> CitySettingsDialog:
        """The administrator's city settings (one dialog, raised again when already open)."""
        if self.settings_dialog is None:
            self.settings_dialog = CitySettingsDialog(self.ctx, self)
        self.settings_dialog.show()
        self.settings_dialog.raise_()
        self.settings_dialog.activateWindow()
        return self.settings_dialog

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
        self.resizeDocks([self.queue_dock, self.detail_dock], [720 * scale, 560 * scale],
                         Qt.Orientation.Horizontal)
        # The alerts get a little more than half: eight rows over the selected alert's actions,
        # detail and trend, while the queue keeps eight of its own.
        self.resizeDocks([self.queue_dock, self.alerts_dock], [450 * scale, 550 * scale],
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

    def _install_map(self, page_path: Path) -> None:
        self.map_view = MapView(page_path, tile_url=configured_tile_url())
        self._map_layout.replaceWidget(self.map_placeholder, self.map_view)
        self.map_placeholder.hide()
        self.map_view.sig_case_clicked.connect(self._on_map_case_clicked)
        self.map_view.sig_camera_clicked.connect(self._on_map_camera_clicked)
        self.map_view.sig_cameras_near.connect(self._on_map_cameras_near)
        # After a renderer crash the page reloads empty and says ready again: send everything.
        self.map_layers.attach(self.map_view)
        self.map_view.sig_ready.connect(self.map_layers.load_all)

    # -- panes -----------------------------------------------------------------------------
    def panes(self) -> list[QWidget]:
        """The panes F6 walks, in order: queue, alerts, map, detail, video wall (those shown).
        Focusing a pane lands on its focus proxy (the queue's and the alerts' lists, the map's
        page) or on the pane itself."""
        return [p for p in (self.queue, self.alert_panel, self.map_view, self.detail,
                            self.video_wall) if p is not None and p.isVisible()]

    def focus_next_pane(self, *_signal_args) -> None:
        self._focus_pane(1)

    def focus_previous_pane(self, *_signal_args) -> None:
        self._focus_pane(-1)

    def _focus_pane(self, step: int) -> None:
        panes = self.panes()
        if not panes:
            return
        focus = QApplication.focusWidget()
        at = next((i for i, p in enumerate(panes)
                   if focus is not None and (focus is p or p.isAncestorOf(focus))), None)
        target = panes[(at + step) % len(panes)] if at is not None else panes[0 if step > 0 else -1]
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)

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
                return number, cameras.cameras_near_case(s, city_id, case_id, n=n)

        self.ctx.reads.run(fetch, self._show_cameras)

    def _on_alert_selected(self, alert) -> None:
        if self.map_view is not None:
            if alert.lat is not None and alert.lon is not None:
                self.map_view.show_place(alert.lat, alert.lon)
            if alert.case_id is not None:  # and ring its case (no case: the ring stays put)
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
                        else cameras.cameras_around(s, city_id, lat, lon, n=n))
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
                self.tr("No camera within %1 km").replace("%1", f"{cameras.FARTHEST_KM:g}"))
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

    def _on_map_cameras_near(self, lat: float, lon: float) -> None:
        """Right-click on the map, "Play the nearest cameras": the wall shows that place."""
        self._camera_timer.stop()  # the officer's choice wins over a selection settling
        database, city_id, n = self.ctx.database, self.ctx.city_id, self.video_wall.layout_size
        number = self._camera_request()

        def fetch():
            with database.read() as s:
                return number, cameras.cameras_around(s, city_id, lat, lon, n=n)

        self.ctx.reads.run(fetch, self._show_cameras)
        self.video_dock.show()
        self.video_dock.raise_()

    # -- alerts ----------------------------------------------------------------------------
    def go_to_alerts(self) -> None:
        self.alerts_dock.show()
        self.alerts_dock.raise_()
        self.alert_panel.select_most_urgent()

    def _open_alert_case(self, case_id: int) -> None:
        self.queue.select_case(case_id)
        self._open_case(case_id)

    def _on_attention_changed(self, count: int) -> None:
        """Critical alarms waiting: the alert panel shows them in red; the title says so too,
        so the taskbar tells a desk working in another program (the 12345 system)."""
        title = self.tr("CityOps City Management Command Center")
        if count:
            title = self.tr("(%1 critical) %2").replace("%1", str(count)).replace("%2", title)
        self.setWindowTitle(title)

    def _on_map_case_clicked(self, case_id: int) -> None:
        self.queue.select_case(case_id)  # emits sig_case_selected → detail and map highlight

    def _open_case(self, case_id: int) -> None:
        self.detail.show_case(case_id)
        self.detail_dock.raise_()
        self.detail.setFocus()

    # -- live ------------------------------------------------------------------------------
    def _on_feed_batch(self, batch: dict) -> None:
        self.ctx.changes.dispatch(batch)

    def _reload_everything(self, _ids=None, _origin=None) -> None:
        self.ctx.database.invalidate()
        self.reload_all()

    def _calendar_changed(self, _ids=None, _origin=None) -> None:
        self._reload_reference()

    def _jobs_changed(self, _ids=None, _origin=None) -> None:
        """A scheduled job ran somewhere: an administrator sees any that failed last time."""
        database = self.ctx.database
        self.ctx.reads.run(lambda: [j for j in jobs.status(database) if j.outcome == "failed"],
                           self._show_failed_jobs)

    def _show_failed_jobs(self, failed) -> None:
        if not failed:
            self.job_label.hide()
            return
        first = failed[0]
        self.job_label.setText(
            self.tr("Scheduled job %1 failed: %2").replace("%1", first.name)
            .replace("%2", (first.error or "").splitlines()[0] if first.error else "?"))
        self.job_label.setToolTip("\n\n".join(f"{j.name}: {j.error or ''}" for j in failed))
        self.job_label.show()

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
            self.map_layers.recolour()

        reads.run(fetch, apply)

    def reload_all(self) -> None:
        self._reload_reference()
        self.queue.model.refresh()
        self.detail.reload()
        self.alert_panel.reload()
        if self.map_view is not None:
            self.map_layers.load_all()

    def _set_online(self, online: bool, since: dt.datetime | None) -> None:
        was_offline = not self.ctx.online
        self.ctx.online = online
        if online:
            self.outage_banner.hide()
            self.db_label.setText(self.tr("● Database connected"))
            self.db_label.setStyleSheet(f"color: {theme.DEADLINE_COLORS['on_track']};")
            if was_offline:
                self.reload_all()  # the feed delivers what was missed; this also re-reads views
                self.ctx.operations.settle_unknown()  # writes whose link dropped mid-commit
        else:
            local = (since or dt.datetime.now(dt.UTC)).astimezone(SHANGHAI)
            self.outage_banner.setText(
                self.tr("Database connection lost since %1. Showing the last known state; "
                        "case actions are refused until the connection is back.")
                .replace("%1", local.strftime("%H:%M:%S")))
            self.outage_banner.show()
            self.db_label.setText(self.tr("● Database unreachable"))
            self.db_label.setStyleSheet(f"color: {theme.DEADLINE_COLORS['overdue']};")

    def _tick_clock(self) -> None:
        now = self.ctx.clock.now().astimezone(SHANGHAI)  # the database server's time
        self.clock_label.setText(self.tr("Beijing time %1").replace("%1", now.strftime("%Y-%m-%d %H:%M:%S")))

    def attach_simulator(self, supervisor) -> None:
        """Show that the demo city is simulated (and, in the status bar, when its process died
        and is being restarted: a desktop.app.supervisor.ChildSupervisor), and stop it with the
        window."""
        self._simulator = supervisor
        self.demo_banner.setText(self.demo_banner.text() + " " + self.tr(
            "A simulator is generating live traffic."))
        supervisor.sig_status.connect(self._show_simulator_status)
        self._show_simulator_status(supervisor.status)

    def _show_simulator_status(self, text: str) -> None:
        self.simulator_label.setText(text)
        self.simulator_label.setVisible(bool(text))

    def closeEvent(self, event) -> None:
        if self._simulator is not None:  # SIGTERM; the window never waits for it
            supervisor, self._simulator = self._simulator, None
            supervisor.stop()
        self.save_layout()
        self.alert_panel.shutdown()
        self.video_wall.stop_all()
        self.map_layers.attach(None)
        if self.map_view is not None:  # a page outliving its profile makes Qt complain
            self.map_view.setParent(None)
            self.map_view.deleteLater()
            self.map_view = None
        if self.feed is not None:
            self.feed.stop()
        for lane in self.ctx.lanes:
            lane.shutdown()
        super().closeEvent(event)
