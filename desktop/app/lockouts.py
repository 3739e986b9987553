"""Accounts locked by failed sign-ins, for a shift leader or an administrator to unlock
(``db.auth.signin.unlock_account``, audited)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from db.auth.signin import LockedAccount, locked_accounts, unlock_account
from db.worktime.clock import SHANGHAI
from desktop.app.signin import sign_in_problem
from desktop.core import labels
from desktop.core.context import AppContext


class LockedAccountsDialog(QDialog):
    """The locked accounts, newest lock last; Unlock lifts the selected one's lock."""

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("CityOps — Locked accounts"))
        self.setMinimumSize(640, 320)
        self._ctx = ctx
        self.accounts: list[LockedAccount] = []
        self._unlocked_name = ""  # said after the list is read again
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels([self.tr("Account"), self.tr("Name"), self.tr("Role"),
                                              self.tr("Failed sign-ins"), self.tr("Locked at")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.message = QLabel(self.tr("Loading…"))
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.unlock_button = QPushButton(self.tr("Unlock"))
        self.unlock_button.setEnabled(False)
        self.unlock_button.clicked.connect(self.unlock_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.unlock_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.reload()

    def reload(self) -> None:
        database, actor_id = self._ctx.database, self._ctx.user.id
        self._ctx.reads.run(lambda: locked_accounts(database, actor_id), self._show, self._failed)

    def _show(self, accounts: list[LockedAccount]) -> None:
        self.accounts = accounts
        self.table.setRowCount(len(accounts))
        for row, a in enumerate(accounts):
            when = a.locked_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if a.locked_at else ""
            for column, text in enumerate((a.username, a.display_name, labels.role_name(a.role),
                                           str(a.failures), when)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        if self._unlocked_name:
            self.message.setText(self.tr("%1 is unlocked.").replace("%1", self._unlocked_name))
        else:
            self.message.setText(self.tr("No account is locked.") if not accounts else "")
        self._selection_changed()

    def _selection_changed(self) -> None:
        self.unlock_button.setEnabled(bool(self.table.selectionModel().selectedRows()))

    def unlock_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        username = self.accounts[rows[0].row()].username
        self.unlock_button.setEnabled(False)
        database, actor_id = self._ctx.database, self._ctx.user.id
        self._ctx.writes.run(lambda: (unlock_account(database, actor_id, username), username)[1],
                             self._unlocked, self._failed)

    def _unlocked(self, username: str) -> None:
        self._unlocked_name = username
        self.reload()

    def _failed(self, exc: BaseException) -> None:
        self._unlocked_name = ""
        self.message.setText(sign_in_problem(exc))
        self._selection_changed()
