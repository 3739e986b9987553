"""The command-center window as a whole: live updates from another process, selection in step
between map and queue, the outage banner and catch-up, layouts, translation, screenshots."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, Qt
from PySide6.QtGui import QImage
from sqlalchemy.engine import make_url

from db.auth.roles import Role
from db.cases.workflow import State
from db.core.engine import open_database
from desktop.core import i18n
from desktop.core.live import LiveFeed
from desktop.window.main_window import LAYOUT_VERSION, MainWindow
from tests.conftest import Env
from tests.desktop.conftest import make_ctx
from tests.helpers import CENTRE, case_in_state, report
from tests.tcp_proxy import TcpProxy

REPORT_SCRIPT = """
import sys
from db.core.engine import open_database
from db.cases.workflow import report_case
db = open_database(sys.argv[1], migrate=False)
r = report_case(db, int(sys.argv[2]), source="hotline_12345", lat=23.02, lon=113.75,
                description="另一工作站登记的案件")
print(r.case_id)
"""


def js(qtbot, view, expression: str):
    """Evaluate ``expression`` in the map page and return its JSON value."""
    with qtbot.waitCallback(timeout=5000) as cb:
        view.eval_json(expression, cb)
    return cb.args[0]


def open_window(qtbot, env, tmp_path, role=Role.DUTY_OFFICER, *, feed=True) -> MainWindow:
    ctx = make_ctx(env, role)
    live = LiveFeed(env.database.url) if feed else None
    window = MainWindow(ctx, live, tmp_path / "map")
    qtbot.addWidget(window)
    window.resize(1600, 900)
    window.show()
    if live is not None:
        live.start()
    qtbot.waitUntil(lambda: window.map_view is not None and window.map_view.ready, timeout=30_000)
    qtbot.waitUntil(lambda: window.queue.model.rowCount() > 0 or not window.ctx.reads.pending,
                    timeout=10_000)
    return window


def close(window: MainWindow) -> None:
    window.close()


def test_a_case_from_another_process_shows_within_a_second(qtbot, env, tmp_path):
    report(env)
    window = open_window(qtbot, env, tmp_path)
    try:
        out = subprocess.run([sys.executable, "-c", REPORT_SCRIPT, env.database.url,
                              str(env.users[Role.DUTY_OFFICER])],
                             capture_output=True, text=True, timeout=120, check=True)
        case_id = int(out.stdout.strip())
        committed = time.monotonic()
        qtbot.waitUntil(lambda: window.queue.model.row_of(case_id) is not None, timeout=1000)
        qtbot.waitUntil(lambda: js(qtbot, window.map_view, f"cityops.hasCase({case_id})"),
                        timeout=1000)
        assert time.monotonic() - committed < 1.5  # both checks within the second (+ JS round trip)
    finally:
        close(window)


def test_marker_click_and_row_selection_stay_in_step(qtbot, sqlite_env, tmp_path):
    first = report(sqlite_env, description="第一件")
    second = report(sqlite_env, description="第二件", lat=CENTRE[0] + 0.02)
    window = open_window(qtbot, sqlite_env, tmp_path, feed=False)
    try:
        qtbot.waitUntil(lambda: js(qtbot, window.map_view, "cityops.stats()")["cases"] == 2,
                        timeout=5000)
        with qtbot.waitSignal(window.queue.sig_case_selected, timeout=5000) as sig:
            window.map_view.run_js(f"cityops._fireCaseClick({second.case_id})")
        assert sig.args == [second.case_id]
        qtbot.waitUntil(lambda: window.detail.case_id == second.case_id, timeout=5000)
        window.queue.select_case(first.case_id)
        qtbot.waitUntil(lambda: js(qtbot, window.map_view, "cityops.selectedCase()") == first.case_id,
                        timeout=5000)
        assert window.detail.case_id == first.case_id
    finally:
        close(window)


@pytest.mark.postgres
def test_outage_banner_refusal_and_catch_up(qtbot, pg_env, tmp_path):
    proxy = TcpProxy()
    proxy.start()
    url = make_url(pg_env.database.url).set(port=proxy.port).render_as_string(hide_password=False)
    via_proxy = Env(open_database(url, migrate=False), pg_env.users, pg_env.city_id, "postgresql")
    before = report(pg_env)
    window = open_window(qtbot, via_proxy, tmp_path)
    try:
        qtbot.waitUntil(lambda: window.queue.model.row_of(before.case_id) is not None, timeout=5000)
        assert window.outage_banner.isHidden()
        window.queue.select_case(before.case_id)
        qtbot.waitUntil(lambda: window.detail.current_case_id == before.case_id, timeout=5000)
        proxy.stop()
        qtbot.waitUntil(lambda: window.outage_banner.isVisible(), timeout=10_000)
        assert not window.ctx.online
        assert window.queue.model.row_of(before.case_id) is not None  # last known state kept
        with qtbot.waitSignal(window.detail.sig_step_finished, timeout=10_000) as finished:
            window.detail.run_step("void", opinion="重复上报")
        assert finished.args[1] == "offline"  # refused, said so, nothing lost
        assert window.detail.message_label.text()
        missed = report(pg_env, description="断线期间登记")  # straight to the server
        proxy.start()
        qtbot.waitUntil(lambda: window.outage_banner.isHidden(), timeout=15_000)
        qtbot.waitUntil(lambda: window.queue.model.row_of(missed.case_id) is not None,
                        timeout=5000)
        assert window.ctx.online
    finally:
        close(window)
        via_proxy.database.dispose()
        proxy.stop()


@pytest.mark.postgres
def test_a_silent_link_shows_the_banner_and_recovers(qtbot, pg_env, tmp_path):
    """Packets dropped without a reset: nothing fails, everything just waits. The feed's
    heartbeat notices within seconds; when the link moves again the window catches up."""
    proxy = TcpProxy()
    proxy.start()
    url = make_url(pg_env.database.url).set(port=proxy.port).render_as_string(hide_password=False)
    via_proxy = Env(open_database(url, migrate=False), pg_env.users, pg_env.city_id, "postgresql")
    window = open_window(qtbot, via_proxy, tmp_path)
    try:
        proxy.freeze()
        qtbot.waitUntil(lambda: window.outage_banner.isVisible(), timeout=15_000)
        missed = report(pg_env, description="静默断线期间登记")
        proxy.thaw()
        qtbot.waitUntil(lambda: window.outage_banner.isHidden(), timeout=20_000)
        qtbot.waitUntil(lambda: window.queue.model.row_of(missed.case_id) is not None,
                        timeout=10_000)
    finally:
        proxy.thaw()
        close(window)
        via_proxy.database.dispose()
        proxy.stop()


def test_layout_is_saved_restored_and_versioned(qtbot, sqlite_env, tmp_path):
    window = open_window(qtbot, sqlite_env, tmp_path, feed=False)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.queue_dock)
    close(window)
    again = open_window(qtbot, sqlite_env, tmp_path, feed=False)
    try:
        assert again.dockWidgetArea(again.queue_dock) == Qt.DockWidgetArea.RightDockWidgetArea
        key = again._layout_key() + "/state"
        assert f"v{LAYOUT_VERSION}" in key
    finally:
        close(again)
    settings = QSettings()
    settings.beginGroup(again.ctx.settings_scope)
    settings.setValue(key, b"not a layout")
    settings.sync()
    third = open_window(qtbot, sqlite_env, tmp_path, feed=False)
    try:  # a state Qt cannot read falls back to the default layout
        assert third.dockWidgetArea(third.queue_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    finally:
        close(third)
        QSettings().remove(third.ctx.settings_scope)


def test_chinese_is_the_default_and_english_the_second_language(qtbot, qapp, sqlite_env, tmp_path):
    try:
        assert i18n.install(qapp, "zh_CN")
        assert QCoreApplication.translate("labels", "Closed") == "已结案"
        window = open_window(qtbot, sqlite_env, tmp_path, feed=False)
        assert "指挥中心" in window.windowTitle()
        assert window.queue_dock.windowTitle() == "案件队列"
        close(window)
    finally:
        assert not i18n.install(qapp, "en")
    assert QCoreApplication.translate("labels", "Closed") == "Closed"


def test_demo_mode_says_so_on_screen(qtbot, sqlite_env, tmp_path):
    ctx = make_ctx(sqlite_env, Role.DUTY_OFFICER)
    ctx.demo = True
    window = MainWindow(ctx, None, tmp_path / "map")
    qtbot.addWidget(window)
    window.show()
    assert window.demo_banner.isVisible() and ctx.user.display_name in window.demo_banner.text()
    close(window)


def test_the_screenshot_command_renders_the_demo_window(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CITYOPS_DB": ""}
    build = subprocess.run([sys.executable, "-m", "desktop", "demo", "--db", db_url, "--cases", "300"],
                           capture_output=True, text=True, timeout=300, env=env)
    assert build.returncode == 0, build.stderr
    out = tmp_path / "shot.png"
    shot = subprocess.run([sys.executable, "-m", "desktop", "--db", db_url, "--screenshot", str(out),
                           "--after", "4", "--size", "1280x720"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert shot.returncode == 0, shot.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 720)
    # Not a blank window: the dark theme plus text and markers give many distinct colours.
    colours = {image.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 720, 16)}
    assert len(colours) > 20


def test_the_role_decides_the_buttons_in_the_window(qtbot, sqlite_env, tmp_path):
    case = case_in_state(sqlite_env, State.HANDLING)
    window = open_window(qtbot, sqlite_env, tmp_path, Role.DEPARTMENT_HANDLER, feed=False)
    try:
        window.queue.select_case(case.case_id)
        qtbot.waitUntil(lambda: window.detail.current_case_id == case.case_id
                        and bool(window.detail.visible_steps()), timeout=5000)
        assert sorted(window.detail.visible_steps()) == sorted(["return", "feedback", "request_extension"])
    finally:
        close(window)



def test_demo_window_runs_the_simulator_beside_it_and_stops_it(qtbot, tmp_path):
    from db.demo.build import build_demo
    from desktop.app.supervisor import simulator_supervisor

    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    database = open_database(url)
    build_demo(database, cases=200, days=10)
    ctx = make_ctx(Env(database, {Role.DUTY_OFFICER: 1}, 1, "sqlite"), Role.DUTY_OFFICER)
    ctx.demo = True
    window = MainWindow(ctx, None, tmp_path / "map")
    qtbot.addWidget(window)
    supervisor = simulator_supervisor(url, window)
    supervisor.start()
    process = supervisor.process
    window.attach_simulator(supervisor)
    window.show()
    assert "模拟" in window.demo_banner.text() or "simulator" in window.demo_banner.text()
    time.sleep(2)
    assert process.poll() is None  # running beside the window
    window.close()
    process.wait(15)  # stopped with it (reaped off the GUI thread)
    assert process.returncode == 0  # a clean SIGTERM exit, not a kill
    database.dispose()


def test_marker_colours_are_rechecked_off_the_gui_thread(qtbot, sqlite_env, tmp_path):
    """The minute check recomputes deadline statuses on the worker and sends only changes."""
    handling = case_in_state(sqlite_env, State.HANDLING)
    window = open_window(qtbot, sqlite_env, tmp_path, feed=False)
    try:
        layers = window.map_layers
        qtbot.waitUntil(lambda: handling.case_id in layers.statuses, timeout=5000)
        real = layers.statuses[handling.case_id]
        assert real in ("on_track", "due_soon", "overdue")
        layers.statuses[handling.case_id] = "stale"  # as if time had moved the deadline
        sent = window.map_view.batches_sent
        layers.recolour()
        qtbot.waitUntil(lambda: layers.statuses[handling.case_id] == real, timeout=5000)
        qtbot.waitUntil(lambda: window.map_view.batches_sent > sent, timeout=5000)
    finally:
        close(window)
