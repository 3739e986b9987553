"""Signing in. The password check (argon2, a database round trip) runs off the GUI thread; the
dialog stays responsive and says plainly when the database cannot be reached. An account
signing in with a one-time password chooses a new one before it is signed in
(:class:`ChangePasswordDialog`); a new database's one-time password is shown once, whole and
copyable (:class:`FirstRunDialog`)."""
from __future__ import annotations

import socket

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from db.auth.accounts import PASSWORD_MIN_LENGTH, Account, authenticate, change_password
from db.core.engine import Database
from db.core.errors import CityOpsError, SignInThrottled
from desktop.core.errors import word
from desktop.core.tasks import TaskRunner


def workstation_name() -> str:
    """The name this desk's sign-in failures are counted under (db.auth.signin): the host name."""
    try:
        return socket.gethostname() or "?"
    except OSError:
        return "?"


def sign_in_problem(exc: BaseException) -> str:
    """Why a sign-in (or an unlock, a handover) failed, in the officer's words: a wrong
    password never says which half was wrong; a wait says how long; a lock says who lifts it."""
    if isinstance(exc, CityOpsError):
        if exc.code == "bad_credentials":
            return QCoreApplication.translate("SignInDialog", "Wrong account or password.")
        return word(exc)
    return QCoreApplication.translate("SignInDialog", "The database cannot be reached: %1").replace(
        "%1", str(exc))


def hold_after(exc: BaseException, button) -> None:
    """After a refusal to wait, ``button`` stays disabled for the seconds to wait."""
    if isinstance(exc, SignInThrottled):
        button.setEnabled(False)
        QTimer.singleShot(int(exc.params.get("seconds", 1)) * 1000, button,
                          lambda: button.setEnabled(True))


def password_field(placeholder: str = "") -> QLineEdit:
    """A masked password entry (every dialog that asks for one: sign-in, lock, handover)."""
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


def problem_label() -> QLabel:
    """The red line under a credentials form: plain text (a refusal may quote what was typed)."""
    label = QLabel("")
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet("color: #ff7b72;")
    label.setWordWrap(True)
    return label


class SignInDialog(QDialog):
    """Asks for account and password. ``account`` holds the result after ``accepted``.
    Failures are counted under ``workstation`` (default: this host's name)."""

    sig_signed_in = Signal(object)  # Account

    def __init__(self, database: Database, runner: TaskRunner, parent=None, *,
                 workstation: str | None = None) -> None:
        super().__init__(parent)
        self._workstation = workstation if workstation is not None else workstation_name()
        self.setWindowTitle(self.tr("CityOps — Sign in"))
        self.setMinimumWidth(420)
        self.account: Account | None = None
        self.change_dialog: ChangePasswordDialog | None = None  # while a new password is chosen
        self._database = database
        self._runner = runner
        self._typed = ""  # the password being checked, for a one-time password's change
        title = QLabel(self.tr("City Management Command Center"))
        title.setStyleSheet("font-size: 20pt; font-weight: bold;")
        self.username = QLineEdit()
        self.username.setPlaceholderText(self.tr("Account"))
        self.password = password_field(self.tr("Password"))
        self.message = problem_label()
        form = QFormLayout()
        form.addRow(self.tr("Account"), self.username)
        form.addRow(self.tr("Password"), self.password)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Sign in"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.username.setFocus()

    def submit(self) -> None:
        username, password = self.username.text(), self.password.text()
        if not username or not password:
            self.message.setText(self.tr("Enter your account and password."))
            return
        self.buttons.setEnabled(False)
        self.message.setText(self.tr("Signing in…"))
        self._typed = password
        database, workstation = self._database, self._workstation  # plain values, never the dialog
        self._runner.run(lambda: authenticate(database, username, password, workstation=workstation),
                         self._succeeded, self._failed)

    def _succeeded(self, account: Account) -> None:
        if account.must_change_password:  # a one-time password: not signed in until replaced
            self.message.setText(self.tr("This was a one-time password: choose your own."))
            self.change_dialog = ChangePasswordDialog(self._database, self._runner, account,
                                                      self._typed, self)
            self._typed = ""
            self.change_dialog.accepted.connect(self._password_changed)
            self.change_dialog.rejected.connect(self._change_cancelled)
            self.change_dialog.open()
            return
        self._typed = ""
        self._signed_in(account)

    def _signed_in(self, account: Account) -> None:
        self.account = account
        self.sig_signed_in.emit(account)
        self.accept()

    def _password_changed(self) -> None:
        dialog, self.change_dialog = self.change_dialog, None
        dialog.deleteLater()
        self._signed_in(dialog.account)

    def _change_cancelled(self) -> None:
        self.change_dialog.deleteLater()
        self.change_dialog = None
        self.buttons.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        self.message.setText(self.tr("Choose a new password to finish signing in."))

    def _failed(self, exc: BaseException) -> None:
        self._typed = ""
        self.buttons.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        self.message.setText(sign_in_problem(exc))
        hold_after(exc, self.buttons.button(QDialogButtonBox.StandardButton.Ok))


class ChangePasswordDialog(QDialog):
    """A new password, twice, for ``account`` signed in with the one-time ``old`` password.
    ``account`` holds the changed account (flag cleared) after ``accepted``."""

    def __init__(self, database: Database, runner: TaskRunner, account: Account, old: str,
                 parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("CityOps — Choose a new password"))
        self.setMinimumWidth(420)
        self.account = account
        self._database = database
        self._runner = runner
        self._old = old
        intro = QLabel(self.tr("You signed in with a one-time password. Choose your own password "
                               "(at least %1 characters) to finish signing in.")
                       .replace("%1", str(PASSWORD_MIN_LENGTH)))
        intro.setWordWrap(True)
        self.new = password_field()
        self.repeat = password_field()
        self.message = problem_label()
        form = QFormLayout()
        form.addRow(self.tr("New password"), self.new)
        form.addRow(self.tr("Repeat it"), self.repeat)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Change password"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.new.setFocus()

    def submit(self) -> None:
        new, repeat = self.new.text(), self.repeat.text()
        # The same rules as db.auth.accounts.change_password, said before the round trip.
        if len(new) < PASSWORD_MIN_LENGTH:
            problem = self.tr("The new password needs at least %1 characters.").replace(
                "%1", str(PASSWORD_MIN_LENGTH))
        elif new != repeat:
            problem = self.tr("The two entries differ.")
        elif new == self._old:
            problem = self.tr("Choose a password other than the one-time password.")
        else:
            problem = ""
        if problem:
            self.message.setText(problem)
            self.repeat.clear()
            return
        self.buttons.setEnabled(False)
        self.message.setText(self.tr("Changing the password…"))
        database, actor_id, old = self._database, self.account.id, self._old
        self._runner.run(lambda: change_password(database, actor_id, old, new),
                         self._succeeded, self._failed)

    def _succeeded(self, account: Account) -> None:
        self.account = account
        self._old = ""
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        if isinstance(exc, CityOpsError):
            self.message.setText(word(exc))
        else:
            self.message.setText(self.tr("The database cannot be reached: %1").replace("%1", str(exc)))


class FirstRunDialog(QDialog):
    """A new database's administrator account and its one-time password, shown this once: in a
    read-only field (never wrapped, even at a hyphen) with a Copy button."""

    def __init__(self, username: str, password: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("CityOps — First start"))
        self.setMinimumWidth(480)
        intro = QLabel(self.tr(
            "A new database was set up with an administrator account. Sign in with this one-time "
            "password; you will then choose your own. Copy it or write it down now: it is not "
            "shown again and is stored nowhere."))
        intro.setWordWrap(True)
        self.username = QLineEdit(username)
        self.username.setReadOnly(True)
        self.password = QLineEdit(password)
        self.password.setReadOnly(True)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        fixed.setPointSizeF(max(fixed.pointSizeF(), 12.0))
        self.password.setFont(fixed)
        self.password.setMinimumWidth(self.password.fontMetrics().horizontalAdvance(password) + 24)
        self.copy_button = QPushButton(self.tr("Copy"))
        self.copy_button.clicked.connect(self.copy)
        row = QHBoxLayout()
        row.addWidget(self.password, 1)
        row.addWidget(self.copy_button)
        form = QFormLayout()
        form.addRow(self.tr("Account"), self.username)
        form.addRow(self.tr("One-time password"), row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.password.selectAll()
        self.password.setFocus()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.password.text())
        self.copy_button.setText(self.tr("Copied"))
