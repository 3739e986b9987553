"""Who is signed in: a new database's one-time password (shown once, whole, copyable, never on
standard output; it must be changed at the first sign-in), sign-out and switch user (the window
closes cleanly, the sign-in dialog comes back, a window opens for the next account)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit
from sqlalchemy import select, update

from db.auth.accounts import authenticate
from db.auth.roles import Role
from db.core.engine import open_database
from db.core.errors import PermissionDenied
from db.demo.build import DEMO_SETTING
from db.models import AppSetting, AuditLog, UserAccount
from desktop.app.signin import ChangePasswordDialog, FirstRunDialog, SignInDialog
from desktop.app.startup import Desk, start
from desktop.window.main_window import MainWindow
from tests.conftest import TEST_PASSWORD


def when(condition, act) -> None:
    """Run ``act()`` once ``condition()`` holds, from the event loop: a dialog's exec() blocks
    the test until the dialog closes, so whatever answers it must be queued beforehand."""
    def poll() -> None:
        if condition():
            act()
        else:
            QTimer.singleShot(10, poll)
    QTimer.singleShot(0, poll)


def main_windows() -> list[MainWindow]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]


def test_a_new_database_shows_its_one_time_password_once_and_the_first_sign_in_changes_it(
        qtbot, tmp_path, capfd):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    seen: dict = {}

    def first_run() -> None:
        dialog = QApplication.activeModalWidget()
        seen["password"] = password = dialog.password.text()
        seen["field"] = (isinstance(dialog.password, QLineEdit), dialog.password.isReadOnly(),
                         dialog.username.text())
        # Whole in one unwrapped field, in no label (a word-wrapping label broke it at a hyphen).
        seen["in_labels"] = [lb.text() for lb in dialog.findChildren(QLabel) if password in lb.text()]
        dialog.copy_button.click()
        seen["clipboard"] = QGuiApplication.clipboard().text()
        when(lambda: isinstance(QApplication.activeModalWidget(), SignInDialog), sign_in)
        dialog.accept()

    def sign_in() -> None:
        dialog = QApplication.activeModalWidget()
        seen["prefilled"] = dialog.username.text()
        dialog.password.setText(seen["password"])
        when(lambda: dialog.change_dialog is not None and dialog.change_dialog.isVisible(),
             lambda: change(dialog))
        dialog.submit()

    def change(sign_in_dialog) -> None:
        dialog: ChangePasswordDialog = sign_in_dialog.change_dialog
        seen["windows_while_changing"] = main_windows()  # signed in only after the change
        dialog.new.setText("station-42!")
        dialog.repeat.setText("station-42?")
        dialog.submit()  # checked before any round trip
        seen["mismatch"] = (dialog.message.text(), dialog.tr("The two entries differ."))
        dialog.new.setText("station-42!")
        dialog.repeat.setText("station-42!")
        dialog.submit()

    when(lambda: isinstance(QApplication.activeModalWidget(), FirstRunDialog), first_run)
    window = start(url, map_dir=tmp_path / "map", cameras=False)
    try:
        assert window is not None and window.ctx.user.username == "admin"
        assert window.ctx.user.role == Role.ADMIN
        password = seen["password"]
        assert len(password) >= 12  # secrets.token_urlsafe(9): 12 characters
        assert seen["field"] == (True, True, "admin")
        assert seen["in_labels"] == [] and seen["clipboard"] == password
        assert seen["prefilled"] == "admin"
        assert seen["windows_while_changing"] == []
        shown, expected = seen["mismatch"]
        assert shown == expected
        out, err = capfd.readouterr()
        assert password not in out and password not in err  # shown in the dialog only
        database = window.ctx.database
        with database.read() as s:
            admin = s.scalar(select(UserAccount).where(UserAccount.username == "admin"))
            assert admin.must_change_password is False
            assert s.scalar(select(AuditLog.action).where(
                AuditLog.action == "auth.password_changed")) == "auth.password_changed"
    finally:
        if window is not None:
            window.close()
            window.deleteLater()
    # After a restart the one-time password is spent; the new one signs in unprompted.
    again = open_database(url)
    try:
        with pytest.raises(PermissionDenied):
            authenticate(again, "admin", password)
        assert not authenticate(again, "admin", "station-42!").must_change_password
    finally:
        again.dispose()


def _desk(env, tmp_path) -> Desk:
    cancelled: list[bool] = []
    desk = Desk(env.database, env.city_id, map_dir=tmp_path / "map",
                on_cancelled=lambda: cancelled.append(True))
    desk.cancelled = cancelled
    return desk


def _close(desk: Desk) -> None:
    if desk.sign_in is not None:
        desk.sign_in.reject()
    if desk.window is not None:
        desk.window.close()
        desk.window.deleteLater()


def _sign_in(qtbot, desk: Desk, username: str, password: str = TEST_PASSWORD) -> MainWindow:
    dialog = desk.sign_in
    dialog.username.setText(username)
    dialog.password.setText(password)
    with qtbot.waitSignal(desk.sig_window_opened, timeout=15_000) as opened:
        dialog.submit()
    return opened.args[0]


def test_sign_out_closes_the_window_cleanly_and_the_next_sign_in_opens_a_window_for_that_account(
        qtbot, sqlite_env, tmp_path):
    desk = _desk(sqlite_env, tmp_path)
    try:
        first = desk.open_window(authenticate(sqlite_env.database, "t_duty_officer", TEST_PASSWORD),
                                 show=True)
        assert first.sign_out_action.shortcut().toString() == "Ctrl+Shift+Q"
        feed, lanes = first.feed, first.ctx.lanes
        first.sign_out_action.trigger()
        # The window is gone, its feed thread stopped and its lanes shut; the sign-in dialog is
        # up, the last account prefilled.
        assert not first.isVisible() and desk.window is None
        assert not feed._thread.isRunning() and all(lane._closed for lane in lanes)
        assert isinstance(desk.sign_in, SignInDialog) and desk.sign_in.isVisible()
        assert desk.sign_in.username.text() == "t_duty_officer"
        assert main_windows() == []
        second = _sign_in(qtbot, desk, "t_shift_leader")
        assert desk.window is second and second.isVisible()
        assert (second.ctx.user.username, second.ctx.user.role) == ("t_shift_leader", Role.SHIFT_LEADER)
        assert main_windows() == [second]
        qtbot.waitUntil(lambda: desk.sign_in is None, timeout=5000)  # the dialog is done with
        assert desk.cancelled == []  # the process carries on
    finally:
        _close(desk)


def test_switch_user_asks_afresh_and_on_demo_data_never_signs_in_by_itself(
        qtbot, sqlite_env, tmp_path):
    with sqlite_env.database.write() as s:
        s.add(AppSetting(key=DEMO_SETTING, value_json="{}"))
        s.execute(update(UserAccount).values(demo=True))  # demo mode: no real account in it
    desk = _desk(sqlite_env, tmp_path)
    try:
        assert desk.demo
        first = desk.open_window(authenticate(sqlite_env.database, "t_duty_officer", TEST_PASSWORD),
                                 show=True)
        assert first.switch_user_action.shortcut().toString() == "Ctrl+Shift+L"
        first.switch_user_action.trigger()
        assert not first.isVisible() and desk.window is None and main_windows() == []
        assert desk.sign_in.isVisible() and desk.sign_in.username.text() == ""  # someone else
        second = _sign_in(qtbot, desk, "t_leader")
        assert second.ctx.user.username == "t_leader" and second.ctx.demo
    finally:
        _close(desk)


def test_a_flagged_account_gets_no_window_until_it_has_changed_its_password(
        qtbot, sqlite_env, tmp_path):
    with sqlite_env.database.write() as s:
        s.get(UserAccount, sqlite_env.users[Role.LEADER]).must_change_password = True
    desk = _desk(sqlite_env, tmp_path)
    try:
        desk.open_window(authenticate(sqlite_env.database, "t_duty_officer", TEST_PASSWORD),
                         show=True).sign_out_action.trigger()
        dialog = desk.sign_in
        opened: list = []
        desk.sig_window_opened.connect(opened.append)
        dialog.username.setText("t_leader")
        dialog.password.setText(TEST_PASSWORD)
        dialog.submit()
        qtbot.waitUntil(lambda: dialog.change_dialog is not None and dialog.change_dialog.isVisible(),
                        timeout=15_000)
        assert opened == [] and main_windows() == []
        dialog.change_dialog.reject()  # not now: still not signed in
        assert opened == [] and dialog.isVisible() and dialog.buttons.isEnabled()
        assert dialog.message.text() == dialog.tr("Choose a new password to finish signing in.")
        dialog.password.setText(TEST_PASSWORD)
        dialog.submit()
        qtbot.waitUntil(lambda: dialog.change_dialog is not None and dialog.change_dialog.isVisible(),
                        timeout=15_000)
        change = dialog.change_dialog
        change.new.setText(TEST_PASSWORD)  # "pass-1234": 9 characters, but the old one
        change.repeat.setText(TEST_PASSWORD)
        change.submit()
        assert change.message.text() == change.tr(
            "Choose a password other than the one-time password.")
        change.new.setText("leader-own-pw")
        change.repeat.setText("leader-own-pw")
        with qtbot.waitSignal(desk.sig_window_opened, timeout=15_000) as signed:
            change.submit()
        assert signed.args[0].ctx.user.username == "t_leader"
        with sqlite_env.database.read() as s:
            assert s.get(UserAccount, sqlite_env.users[Role.LEADER]).must_change_password is False
    finally:
        _close(desk)
