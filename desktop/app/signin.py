"""The sign-in dialog. The password check (argon2, a database round trip) runs off the GUI
thread; the dialog stays responsive and says plainly when the database cannot be reached."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from db.auth.accounts import Account, authenticate
from db.core.engine import Database
from db.core.errors import PermissionDenied
from desktop.core.tasks import TaskRunner


class SignInDialog(QDialog):
    """Asks for account and password. ``account`` holds the result after ``accepted``."""

    sig_signed_in = Signal(object)  # Account

    def __init__(self, database: Database, runner: TaskRunner, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("CityOps — Sign in"))
        self.setMinimumWidth(420)
        self.account: Account | None = None
        self._database = database
        self._runner = runner
        title = QLabel(self.tr("City Management Command Center"))
        title.setStyleSheet("font-size: 20pt; font-weight: bold;")
        self.username = QLineEdit()
        self.username.setPlaceholderText(self.tr("Account"))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(self.tr("Password"))
        self.message = QLabel("")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setStyleSheet("color: #ff7b72;")
        self.message.setWordWrap(True)
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
        database = self._database  # the task captures plain values, never the dialog
        self._runner.run(lambda: authenticate(database, username, password),
                         self._succeeded, self._failed)

    def _succeeded(self, account: Account) -> None:
        self.account = account
        self.sig_signed_in.emit(account)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        if isinstance(exc, PermissionDenied):
            self.message.setText(self.tr("Wrong account or password."))
        else:
            self.message.setText(self.tr("The database cannot be reached: %1").replace("%1", str(exc)))
