"""Who is at the desk: the window locks itself after the city's idle time and only the signed-in
officer's password (or a handover) uncovers it; a shift handover puts the incoming officer's
window in place of the outgoing one's without the desk ever standing empty; a shift leader
unlocks an account locked by failed sign-ins; the sign-in dialog says how long to wait and who
lifts a lock; demo mode signs nobody in on a database with a real account."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import select, update

from db.auth.accounts import authenticate
from db.auth.handover import ShiftSummary
from db.auth.roles import Role
from db.auth.security import hash_password
from db.auth.signin import set_idle_lock_minutes, set_lockout_limit
from db.core.errors import PermissionDenied, SignInThrottled
from db.demo.build import DEMO_SETTING
from db.models import AppSetting, AuditLog, UserAccount
from desktop.app.handover import HandoverDialog
from desktop.app.idle import IdleWatcher
from desktop.app.lockouts import LockedAccountsDialog
from desktop.app.signin import SignInDialog, sign_in_problem
from desktop.app.startup import Desk, StartupError, start
from desktop.core import theme
from desktop.core.tasks import TaskRunner
from tests.conftest import TEST_PASSWORD

DESK = "desk-test"


def _desk(env, tmp_path) -> Desk:
    return Desk(env.database, env.city_id, map_dir=tmp_path / "map", on_cancelled=lambda: None,
                workstation=DESK)


def _close(desk: Desk) -> None:
    if desk.sign_in is not None:
        desk.sign_in.reject()
    if desk.window is not None:
        desk.window.close()
        desk.window.deleteLater()


def _open(desk: Desk, env, username: str):
    return desk.open_window(authenticate(env.database, username, TEST_PASSWORD), show=True)


def _audit(env, action: str) -> list[dict]:
    with env.database.read() as s:
        return [json.loads(d) for d in s.scalars(
            select(AuditLog.detail_json).where(AuditLog.action == action).order_by(AuditLog.id))]


# -- the idle lock ------------------------------------------------------------------------------

def test_input_postpones_the_lock_and_silence_brings_it(qapp, qtbot):
    """Deterministic: a hand-driven clock, real input events through the application filter."""
    now = [100.0]
    desk = QWidget()
    qtbot.addWidget(desk)
    watcher = IdleWatcher(10, clock=lambda: now[0], widget=desk)
    desk.show()  # its QWindow exists from here: the watcher filters it
    target = desk.windowHandle()
    fired: list[bool] = []
    watcher.sig_idle.connect(lambda: fired.append(True))
    try:
        watcher.restart()
        now[0] += 6
        QApplication.sendEvent(target, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_A,
                                                 Qt.KeyboardModifier.NoModifier, "a"))
        now[0] += 6  # 12 s since the start, 6 since the key press
        watcher.check()
        assert fired == [] and watcher.armed
        QApplication.sendEvent(target, QEvent(QEvent.Type.Paint))  # not input: ignored
        now[0] += 4.5  # 10.5 s since the key press
        watcher.check()
        assert fired == [True] and not watcher.armed
        watcher.check()  # fires once, until armed again
        assert fired == [True]
    finally:
        watcher.stop()
        watcher.deleteLater()


def test_an_idle_desk_locks_and_only_its_officers_password_uncovers_it(qtbot, sqlite_env, tmp_path):
    env = sqlite_env
    with env.database.write() as s:
        set_idle_lock_minutes(s, 0.01)  # 0.6 s, shortened for the test (the city's default: 15 min)
    desk = _desk(env, tmp_path)
    try:
        window = _open(desk, env, "t_duty_officer")
        lock = window.lock_screen
        qtbot.waitUntil(lambda: lock.locked, timeout=10_000)
        assert lock.geometry() == window.rect() and lock.isVisible()
        # Opaque: nothing of the window shows through (corners and the middle of each side).
        image = window.grab().toImage()
        w, h = image.width() - 1, image.height() - 1
        assert {image.pixelColor(x, y).name() for x, y in ((2, 2), (w - 2, 2), (2, h - 2),
                (w - 2, h - 2), (w // 2, 2), (w // 2, h - 2))} == {theme.BACKGROUND}
        # Nothing behind the cover is reachable, not even by Tab or a shortcut.
        assert not window.centralWidget().isEnabled() and not window.queue_dock.isEnabled()
        assert not window.statusBar().isEnabled()
        signed_out: list[bool] = []
        window.sig_sign_out.connect(lambda: signed_out.append(True))
        # Every action of the window is off, so no shortcut reaches one (F9, Ctrl+Shift+Q …).
        assert not any(a.isEnabled() for a in (window.sign_out_action, window.handover_action,
                                                *window.actions()))
        window.sign_out_action.trigger()  # a disabled action does nothing
        assert signed_out == []
        lock.password.setText("not-the-password")
        lock.submit()
        qtbot.waitUntil(lambda: lock.unlock_button.isEnabled(), timeout=15_000)
        assert lock.locked and lock.message.text() == sign_in_problem(
            PermissionDenied("", code="bad_credentials"))
        lock.password.setText(TEST_PASSWORD)
        with qtbot.waitSignal(lock.sig_unlocked, timeout=15_000):
            lock.submit()
        assert not lock.isVisible() and window.centralWidget().isEnabled()
        assert window.queue_dock.isEnabled() and window.statusBar().isEnabled()
        assert signed_out == []
        assert window.sign_out_action.isEnabled() and window.handover_action.isEnabled()
        assert [d["purpose"] for d in _audit(env, "auth.login")][-1] == "unlock"
        assert _audit(env, "auth.failed")[-1]["workstation"] == DESK
        # And it locks again after the next idle spell.
        qtbot.waitUntil(lambda: lock.locked, timeout=10_000)
    finally:
        _close(desk)


# -- shift handover -----------------------------------------------------------------------------

def test_a_shift_handover_puts_the_incoming_officers_window_in_place(qtbot, sqlite_env, tmp_path):
    env = sqlite_env
    desk = _desk(env, tmp_path)
    try:
        old = _open(desk, env, "t_duty_officer")
        assert old.handover_action.shortcut().toString() == "Ctrl+Shift+H"
        old.handover_action.trigger()
        dialog = desk.handover_dialog
        assert isinstance(dialog, HandoverDialog) and dialog.isVisible()
        qtbot.waitUntil(lambda: dialog.summary is not None, timeout=10_000)
        assert dialog.summary == ShiftSummary(0, 0, 0, 0)
        dialog.note.setText("雨情：东城低洼处需关注")
        dialog.username.setText("t_shift_leader")
        dialog.password.setText("wrong")
        dialog.submit()
        qtbot.waitUntil(lambda: dialog.ok_button.isEnabled(), timeout=15_000)
        assert desk.window is old and old.isVisible()  # a failed sign-in hands nothing over
        seen: dict = {}
        desk.sig_window_opened.connect(lambda w: seen.update(new=w, old_visible=old.isVisible()))
        dialog.password.setText(TEST_PASSWORD)
        with qtbot.waitSignal(desk.sig_window_opened, timeout=15_000):
            dialog.submit()
        new = seen["new"]
        assert seen["old_visible"]  # the outgoing window was still up: the desk never stood empty
        assert desk.window is new and new.ctx.user.username == "t_shift_leader"
        qtbot.waitUntil(lambda: not old.isVisible(), timeout=5000)
        handovers = _audit(env, "auth.handover")
        assert [(h["from_username"], h["to_username"], h["note"], h["outgoing_present"],
                 h["workstation"]) for h in handovers] == [
            ("t_duty_officer", "t_shift_leader", "雨情：东城低洼处需关注", True, DESK)]
    finally:
        _close(desk)


def test_someone_else_takes_over_a_locked_desk_by_a_handover(qtbot, sqlite_env, tmp_path):
    env = sqlite_env
    desk = _desk(env, tmp_path)
    try:
        old = _open(desk, env, "t_duty_officer")
        old.lock_screen.lock()
        old.lock_screen.handover_button.click()
        dialog = desk.handover_dialog
        assert dialog is not None and not dialog.note.isEnabled()  # the outgoing one is away
        dialog.username.setText("t_dispatcher")
        dialog.password.setText(TEST_PASSWORD)
        with qtbot.waitSignal(desk.sig_window_opened, timeout=15_000) as opened:
            dialog.submit()
        assert opened.args[0].ctx.user.username == "t_dispatcher"
        assert [(h["from_username"], h["to_username"], h["outgoing_present"])
                for h in _audit(env, "auth.handover")] == [("t_duty_officer", "t_dispatcher", False)]
    finally:
        _close(desk)


# -- locked accounts ----------------------------------------------------------------------------

def test_a_shift_leader_unlocks_an_account_from_the_window(qtbot, sqlite_env, tmp_path):
    env = sqlite_env
    with env.database.write() as s:
        set_lockout_limit(s, 2)
    at = dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.UTC)
    for i in range(3):
        with pytest.raises(PermissionDenied):
            authenticate(env.database, "t_inspector", "guess", now=at + dt.timedelta(minutes=i))
    desk = _desk(env, tmp_path)
    try:
        duty = _open(desk, env, "t_duty_officer")
        assert duty.locked_accounts_action is None  # not a duty officer's to lift
        duty.close()
        duty.deleteLater()
        leader = _open(desk, env, "t_shift_leader")
        leader.locked_accounts_action.trigger()
        dialog = desk.locked_dialog
        assert isinstance(dialog, LockedAccountsDialog)
        qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=10_000)
        assert dialog.table.item(0, 0).text() == "t_inspector" and dialog.table.item(0, 3).text() == "2"
        dialog.table.selectRow(0)
        dialog.unlock_button.click()
        qtbot.waitUntil(lambda: dialog.table.rowCount() == 0 and bool(dialog._unlocked_name), timeout=10_000)
        assert dialog.message.text() == dialog.tr("%1 is unlocked.").replace("%1", "t_inspector")
        assert authenticate(env.database, "t_inspector", TEST_PASSWORD).role == Role.INSPECTOR
        assert _audit(env, "auth.unlocked")[0]["failures"] == 2
    finally:
        _close(desk)


# -- the sign-in dialog's words -----------------------------------------------------------------

def test_the_sign_in_dialog_says_who_lifts_a_lock_and_how_long_to_wait(qtbot, sqlite_env):
    with sqlite_env.database.write() as s:
        set_lockout_limit(s, 1)
    runner = TaskRunner("signin-test")
    dialog = SignInDialog(sqlite_env.database, runner, workstation=DESK)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    try:
        dialog.username.setText("t_leader")
        dialog.password.setText("wrong")
        dialog.submit()
        qtbot.waitUntil(lambda: ok.isEnabled(), timeout=15_000)
        dialog.password.setText(TEST_PASSWORD)  # locked now: the right one is refused unchecked
        dialog.submit()
        qtbot.waitUntil(lambda: "locked" in dialog.message.text() or "锁" in dialog.message.text(),
                        timeout=15_000)
        dialog._failed(SignInThrottled("请 1 秒后再试", seconds=1))
        assert "1" in dialog.message.text() and not ok.isEnabled()
        qtbot.waitUntil(lambda: ok.isEnabled(), timeout=5000)  # after the second
    finally:
        runner.shutdown()


# -- demo mode ----------------------------------------------------------------------------------

def test_demo_auto_sign_in_is_refused_once_a_real_account_exists(qtbot, sqlite_env, tmp_path):
    env = sqlite_env
    url = env.database.url
    with env.database.write() as s:
        s.add(AppSetting(key=DEMO_SETTING, value_json="{}"))
        s.execute(update(UserAccount).values(demo=True))  # as if the demo builder made them all
    window = start(url, username="t_duty_officer", interactive=False, cameras=False,
                   map_dir=tmp_path / "map")
    try:
        assert window.ctx.demo and window.ctx.user.username == "t_duty_officer"
        assert window.lock_screen is None  # a demo wall runs unattended
    finally:
        window.close()
        window.deleteLater()
    with env.database.write() as s:
        s.add(UserAccount(username="li.na", display_name="李娜", role=Role.DUTY_OFFICER.value,
                          password_hash=hash_password("a-real-one")))
    with pytest.raises(StartupError):  # a sign-in is needed now
        start(url, username="t_duty_officer", interactive=False, cameras=False,
              map_dir=tmp_path / "map")
