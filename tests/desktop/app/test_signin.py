"""The sign-in dialog: wrong passwords say so plainly; a right one yields the account."""
from __future__ import annotations

from db.auth.roles import Role
from desktop.app.signin import SignInDialog
from desktop.core.tasks import TaskRunner
from tests.conftest import TEST_PASSWORD


def test_wrong_then_right_password(qtbot, sqlite_env):
    runner = TaskRunner("signin-test")
    dialog = SignInDialog(sqlite_env.database, runner)
    qtbot.addWidget(dialog)
    try:
        dialog.submit()
        assert dialog.message.text() == dialog.tr("Enter your account and password.")
        dialog.username.setText("t_shift_leader")
        dialog.password.setText("not-it")
        dialog.submit()
        qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=10_000)
        assert dialog.message.text() == dialog.tr("Wrong account or password.")
        assert dialog.password.text() == ""  # never left in the field after a failure
        dialog.password.setText(TEST_PASSWORD)
        with qtbot.waitSignal(dialog.sig_signed_in, timeout=10_000) as signed:
            dialog.submit()
        account = signed.args[0]
        assert account.role == Role.SHIFT_LEADER and dialog.account == account
    finally:
        runner.shutdown()
