"""From a database URL to a signed-in command-center window, and from one signed-in window to
the next: :class:`Desk` closes the window of whoever signs out and opens one for whoever signs
in, in the same process."""
from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from sqlalchemy import select

from db.admin.passwords import shown_url
from db.admin.roles import refuse_privileged_workstation
from db.auth.accounts import Account, demo_account, demo_info
from db.core.engine import Database, open_database
from db.core.errors import CityOpsError, PrivilegedConnection, SchemaNotCurrent
from db.core.migrate import upgrade_to_head
from db.models import City
from db.reference.city import ADMIN_USERNAME, ensure_reference_data, has_admin
from db.worktime.calendar_data import load_calendar
from desktop.app.supervisor import (
    camera_server_supervisor,
    simulator_supervisor,
    stop_with_application,
)
from desktop.core.context import AppContext, SignedInUser
from desktop.core.tasks import TaskRunner

log = logging.getLogger(__name__)


class StartupError(Exception):
    """Start-up cannot go on. ``error``, when set, is the data layer's coded error, which the
    window words in the user's language (``desktop.core.errors.word``)."""

    def __init__(self, message: str, error: CityOpsError | None = None) -> None:
        super().__init__(message)
        self.error = error


def open_and_prepare(url: str, on_admin_created=None) -> tuple[Database, int]:
    """Open the database, refuse a superuser or owner connection on PostgreSQL outside demo
    mode, and upgrade the schema when this connection may (the application role only checks it
    is at head). A brand-new one gets its reference data. The administrator is created only
    when ``on_admin_created`` can show its one-time password (it is stored as a hash only): a
    database made by ``cityops db migrate`` gets it at the window's first start."""
    database = None
    try:
        database = open_database(url, migrate=False)
        refuse_privileged_workstation(database)
        upgrade_to_head(database.engine)
        with database.read() as session:
            city_id = session.scalar(select(City.id).order_by(City.id).limit(1))
            admin = has_admin(session)
        if city_id is None or (on_admin_created is not None and not admin):
            city_id = ensure_reference_data(database, on_admin_created=on_admin_created,
                                            with_admin=on_admin_created is not None)
    except (PrivilegedConnection, SchemaNotCurrent) as exc:
        if database is not None:
            database.dispose()
        raise StartupError(exc.message, exc) from exc
    except Exception as exc:  # shown to the user as is: the URL, the server, the file
        if database is not None:
            database.dispose()
        raise StartupError(f"无法打开数据库 / cannot open the database {shown_url(url)}: "
                           f"{exc}") from exc
    return database, city_id


def _show_admin_password(password: str) -> None:
    """A new database: the administrator's one-time password, in the first-run dialog and
    nowhere else (not on standard output, not in a log)."""
    from desktop.app.signin import FirstRunDialog

    FirstRunDialog(ADMIN_USERNAME, password).exec()


def make_context(database: Database, city_id: int, account: Account, *, demo: bool) -> AppContext:
    with database.read() as session:
        calendar = load_calendar(session)
    user = SignedInUser(account.id, account.username, account.display_name, account.role,
                        account.department_id)
    return AppContext(database=database, user=user, calendar=calendar, city_id=city_id,
                      reads=TaskRunner("reads"), writes=TaskRunner("writes"), demo=demo)


class Desk(QObject):
    """The sessions of one workstation process: the window of the account signed in and, after
    a sign-out or a switch of user, the sign-in dialog and then a window for whoever signs in.
    On demo data too, a sign-out shows the sign-in dialog (no automatic sign-in again).

    Outside demo mode the window locks itself after the city's idle time
    (:class:`~desktop.app.lock.LockScreen`); a shift handover (:meth:`handover`) keeps the
    window up until the incoming officer is signed in, then puts their window in its place.
    Sign-in failures are counted under ``workstation`` (this host's name).

    Signals: ``sig_window_opened(MainWindow)``."""

    sig_window_opened = Signal(object)

    def __init__(self, database: Database, city_id: int, *, simulator: bool = False,
                 map_dir=None, on_cancelled=None, workstation: str | None = None) -> None:
        from desktop.app.signin import workstation_name

        super().__init__()
        self.database = database
        self.city_id = city_id
        self.demo = demo_info(database) is not None
        self.simulator = simulator
        self.workstation = workstation if workstation is not None else workstation_name()
        self.window = None  # MainWindow of the account signed in
        self.sign_in = None  # SignInDialog shown after a sign-out
        self.handover_dialog = None  # HandoverDialog while a handover is under way
        self.locked_dialog = None  # LockedAccountsDialog while open
        self.cameras = None  # the demo camera server's ChildSupervisor (start() makes it)
        self._map_dir = map_dir
        self._on_cancelled = on_cancelled or QCoreApplication.quit
        self._sign_in_runner: TaskRunner | None = None
        self._incoming: Account | None = None

    def open_window(self, account: Account, *, show: bool = False):
        from desktop.core.live import LiveFeed
        from desktop.window.main_window import MainWindow

        # A database that gained a real account since the last window is no demo any more.
        self.demo = demo_info(self.database) is not None
        ctx = make_context(self.database, self.city_id, account, demo=self.demo)
        feed = LiveFeed(self.database.url)
        window = MainWindow(ctx, feed, self._map_dir)  # map page in map_page.default_cache_dir()
        window.sig_sign_out.connect(self.sign_out)
        window.sig_switch_user.connect(self.switch_user)
        window.sig_handover.connect(self.handover)
        window.sig_locked_accounts.connect(self.show_locked_accounts)
        self._guard(window)
        feed.start()
        if self.demo and self.simulator:
            supervisor = simulator_supervisor(self.database.url, window)
            supervisor.start()
            window.attach_simulator(supervisor)
        self.window = window
        window.desk = self  # the window's owner lives as long as a window does
        if show:
            window.resize(1600, 900)
            window.showMaximized()
        self.sig_window_opened.emit(window)
        return window

    def _guard(self, window) -> None:
        """The idle lock, outside demo mode (a demo has no real account to protect, and its
        wall runs unattended). ``window.lock_screen`` and ``window.idle`` are None on a demo."""
        from db.auth.signin import DEFAULT_IDLE_LOCK_MINUTES, idle_lock_minutes
        from db.core.errors import CityOpsError
        from desktop.app.idle import IdleWatcher
        from desktop.app.lock import LockScreen

        window.lock_screen = window.idle = None
        if self.demo:
            return
        try:
            with self.database.read() as session:
                minutes = idle_lock_minutes(session)  # a value broken by hand reads as the default
        except CityOpsError as exc:  # the database went away meanwhile: the desk still locks
            log.warning("idle lock: %s; using %s minutes", exc, DEFAULT_IDLE_LOCK_MINUTES)
            minutes = DEFAULT_IDLE_LOCK_MINUTES
        window.lock_screen = LockScreen(window, window.ctx, self.workstation)
        window.idle = IdleWatcher(minutes * 60, window, widget=window)
        window.idle.sig_idle.connect(window.lock_screen.lock)
        window.lock_screen.sig_unlocked.connect(window.idle.restart)
        window.lock_screen.sig_handover.connect(self.handover_from_lock)
        window.idle.restart()

    def handover(self, *, outgoing_present: bool = True) -> None:
        """Shift handover (交接班): the outgoing officer's summary and the incoming officer's
        sign-in, over the window, which stays until the incoming officer is signed in."""
        from desktop.app.handover import HandoverDialog

        if self.window is None or self.handover_dialog is not None or self.sign_in is not None:
            return
        dialog = HandoverDialog(self.window.ctx, self.workstation,
                                outgoing_present=outgoing_present, parent=self.window)
        dialog.sig_handed_over.connect(self._handed_over)
        dialog.finished.connect(self._handover_finished)
        self.handover_dialog = dialog
        dialog.open()

    def handover_from_lock(self) -> None:
        """The desk is locked and someone else takes over: the outgoing officer is not there
        to confirm, and the audit row says so."""
        self.handover(outgoing_present=False)

    def _handed_over(self, account: Account) -> None:
        self._incoming = account
        QTimer.singleShot(0, self._swap_window)  # out of the dialog's callback first

    def _swap_window(self) -> None:
        account, self._incoming = self._incoming, None
        old = self.window
        if account is None or old is None:
            return
        self.open_window(account, show=True)  # the new window first: the desk is never empty
        self._close_locked_dialog()
        old.close()
        old.deleteLater()

    def _handover_finished(self, _result: int) -> None:
        dialog, self.handover_dialog = self.handover_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def show_locked_accounts(self) -> None:
        from desktop.app.lockouts import LockedAccountsDialog

        if self.window is None:
            return
        if self.locked_dialog is not None:
            self.locked_dialog.raise_()
            return
        self.locked_dialog = LockedAccountsDialog(self.window.ctx, self.window)
        self.locked_dialog.finished.connect(self._locked_dialog_finished)
        self.locked_dialog.open()

    def _close_locked_dialog(self) -> None:
        """It belongs to the window that is closing (and to its officer's rights)."""
        if self.locked_dialog is not None:
            self.locked_dialog.reject()  # finished → _locked_dialog_finished

    def _locked_dialog_finished(self, _result: int) -> None:
        dialog, self.locked_dialog = self.locked_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def sign_out(self) -> None:
        """Close this session (feed, lanes, simulator: MainWindow.closeEvent) and ask who signs
        in next; the last account is prefilled."""
        self._end_session(prefill=True)

    def switch_user(self) -> None:
        """The same, for handing the desk to someone else: the account field starts empty."""
        self._end_session(prefill=False)

    def _end_session(self, *, prefill: bool) -> None:
        from desktop.app.signin import SignInDialog

        if self.window is None or self.sign_in is not None:
            return  # no session open, or already asking who signs in
        self._close_locked_dialog()
        window, self.window = self.window, None
        self._sign_in_runner = TaskRunner("signin")
        dialog = SignInDialog(self.database, self._sign_in_runner, workstation=self.workstation)
        if prefill:
            dialog.username.setText(window.ctx.user.username)
            dialog.password.setFocus()
        dialog.sig_signed_in.connect(self._signed_in)
        dialog.rejected.connect(self._cancelled)
        dialog.finished.connect(self._sign_in_finished)
        self.sign_in = dialog
        dialog.open()  # before the window closes: the application never has no window
        window.close()
        window.deleteLater()

    def _signed_in(self, account: Account) -> None:
        self.open_window(account, show=True)

    def _cancelled(self) -> None:
        self._on_cancelled()

    def _sign_in_finished(self, _result: int) -> None:
        dialog, self.sign_in = self.sign_in, None
        runner, self._sign_in_runner = self._sign_in_runner, None
        if dialog is not None:
            dialog.deleteLater()
        if runner is not None:
            runner.shutdown()


def start(url: str, *, username: str | None = None, interactive: bool = True,
          simulator: bool = False, cameras: bool = True, map_dir=None):
    """Open the database, sign in, build the window. Returns None if sign-in was cancelled.

    On a demo database with ``simulator`` set, the city simulator runs beside the window
    until the window closes; with ``cameras`` set, so does the camera stream server (when
    the sample clips exist and its port is free). A new database's administrator, with its
    one-time password in the first-run dialog, is made only here when ``interactive``.
    ``window.desk`` is the :class:`Desk` that handles sign-out and switch user (keep it:
    ``desk.window`` is the window of whoever is signed in now)."""
    from desktop.app.signin import SignInDialog

    created: list[str] = []

    def admin_created(password: str) -> None:
        created.append(ADMIN_USERNAME)
        _show_admin_password(password)

    database, city_id = open_and_prepare(url, admin_created if interactive else None)
    desk = Desk(database, city_id, simulator=simulator, map_dir=map_dir)
    account = demo_account(database, username) if username else demo_account(database)
    if account is None:
        if not interactive:
            raise StartupError("这不是演示数据库，需要登录 / not a demo database: sign in "
                               "interactively (no --screenshot)")
        runner = TaskRunner("signin")
        try:
            dialog = SignInDialog(database, runner)
            if username or created:
                dialog.username.setText(username or ADMIN_USERNAME)
                dialog.password.setFocus()
            if not dialog.exec() or dialog.account is None:
                return None
            account = dialog.account
        finally:
            runner.shutdown()
    window = desk.open_window(account)
    if desk.demo and cameras:  # restarted if it dies, like the simulator (not per window)
        desk.cameras = camera_server_supervisor()
        desk.cameras.start()
        stop_with_application(desk.cameras)
    return window
