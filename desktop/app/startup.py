"""From a database URL to a signed-in command-center window."""
from __future__ import annotations

import atexit
import logging
import socket
import subprocess
import sys
import threading

from sqlalchemy import select

from db.auth.accounts import Account, demo_account
from db.core.engine import Database, open_database
from db.models import City
from db.reference.city import ensure_reference_data
from db.worktime.calendar_data import load_calendar
from desktop.core.context import AppContext, SignedInUser
from desktop.core.tasks import TaskRunner

log = logging.getLogger(__name__)
CAMERA_PORT = 8890  # the demo cameras' stream URLs point here (db/demo.py)


class StartupError(Exception):
    pass


def open_and_prepare(url: str, on_admin_created=None) -> tuple[Database, int]:
    """Open (and migrate) the database; a brand-new one gets its reference data and an
    administrator whose one-time password goes to ``on_admin_created``."""
    try:
        database = open_database(url)
        with database.read() as session:
            city_id = session.scalar(select(City.id).order_by(City.id).limit(1))
        if city_id is None:
            city_id = ensure_reference_data(database, on_admin_created=on_admin_created)
    except Exception as exc:  # shown to the user as is: the URL, the server, the file
        raise StartupError(f"无法打开数据库 / cannot open the database {url}: {exc}") from exc
    return database, city_id


def _show_admin_password(password: str) -> None:
    """A new database: the administrator's one-time password, shown once."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QMessageBox

    text = QCoreApplication.translate(
        "startup", "A new database was set up. Administrator account: admin, one-time "
        "password: %1\nWrite it down now; it is not shown again.").replace("%1", password)
    print(text)
    if QCoreApplication.instance() is not None and not _offscreen():
        QMessageBox.information(None, "CityOps", text)


def _offscreen() -> bool:
    import os

    return os.environ.get("QT_QPA_PLATFORM") == "offscreen"


def make_context(database: Database, city_id: int, account: Account, *, demo: bool) -> AppContext:
    with database.read() as session:
        calendar = load_calendar(session)
    user = SignedInUser(account.id, account.username, account.display_name, account.role,
                        account.department_id)
    return AppContext(database=database, user=user, calendar=calendar, city_id=city_id,
                      reads=TaskRunner("reads"), writes=TaskRunner("writes"), demo=demo)


def start_simulator(url: str) -> subprocess.Popen:
    """The demo's living city: the simulator in its own process, so it never touches the GUI
    thread (nor its GIL); it writes through the same db/ operations as a workstation."""
    return subprocess.Popen([sys.executable, "-m", "desktop", "simulate", "--db", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def camera_port_free(port: int = CAMERA_PORT, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on ``host:port`` (a camera server already there is fine too:
    the demo's cameras are served either way)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def start_camera_server(port: int = CAMERA_PORT, media_dir=None) -> subprocess.Popen | None:
    """The demo's cameras: the sample clips served as live streams at the demo cameras'
    addresses (``cityops cameras``), in their own process so that pacing nine streams never
    touches the GUI thread. None when there are no clips (the tiles then say "signal lost")
    or the port is taken (by an earlier camera server, say)."""
    from desktop.demo.stream_server import default_media_dir, find_clips

    folder = media_dir or default_media_dir()
    if not find_clips(folder):
        log.info("no sample clips in %s: demo cameras will show 'signal lost' "
                 "(scripts/make-sample-media.sh makes them)", folder)
        return None
    if not camera_port_free(port):
        log.info("port %d is taken: not starting the demo camera server", port)
        return None
    return subprocess.Popen([sys.executable, "-m", "desktop", "cameras", "--port", str(port),
                             "--media", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_with_application(process: subprocess.Popen) -> None:
    """SIGTERM ``process`` when the application quits; reaped on a thread (killed after
    10 s) so that closing never waits for it."""
    from PySide6.QtCore import QCoreApplication

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            threading.Thread(target=_reap, args=(process,), daemon=True).start()

    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(stop)
    atexit.register(stop)  # however the process ends


def _reap(process: subprocess.Popen) -> None:
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start(url: str, *, username: str | None = None, interactive: bool = True,
          simulator: bool = False, cameras: bool = True):
    """Open the database, sign in, build the window. Returns None if sign-in was cancelled.

    On a demo database with ``simulator`` set, the city simulator runs beside the window
    until the window closes; with ``cameras`` set, so does the camera stream server (when
    the sample clips exist and its port is free)."""
    from desktop.app.signin import SignInDialog
    from desktop.core.live import LiveFeed
    from desktop.window.main_window import MainWindow

    database, city_id = open_and_prepare(url, _show_admin_password)
    account = demo_account(database, username) if username else demo_account(database)
    demo = account is not None
    if account is None:
        if not interactive:
            raise StartupError("这不是演示数据库，需要登录 / not a demo database: sign in "
                               "interactively (no --screenshot)")
        dialog = SignInDialog(database, TaskRunner("signin"))
        if username:
            dialog.username.setText(username)
            dialog.password.setFocus()
        if not dialog.exec() or dialog.account is None:
            return None
        account = dialog.account
    ctx = make_context(database, city_id, account, demo=demo)
    feed = LiveFeed(database.url)
    window = MainWindow(ctx, feed)  # map page in map_page.default_cache_dir()
    feed.start()
    if demo and simulator:
        window.attach_simulator(start_simulator(database.url))
    if demo and cameras:
        camera_server = start_camera_server()
        if camera_server is not None:
            stop_with_application(camera_server)
    return window
