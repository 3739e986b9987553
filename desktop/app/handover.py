"""Shift handover (交接班) at one desk: the outgoing officer sees what they leave open and may
leave a note; the incoming officer signs in in the same dialog. The window stays up, covered
by the dialog, until the incoming officer is signed in; then :class:`~desktop.app.startup.Desk`
opens the incoming officer's window in its place (a new window, so nothing of the outgoing
session, such as a phone number revealed to a duty officer, can remain on the screen)."""
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

from db.auth.handover import ShiftSummary, hand_over, shift_summary
from db.core.text import MAX_SHORT_TEXT
from desktop.app.signin import ChangePasswordDialog, hold_after, password_field, problem_label, sign_in_problem
from desktop.core import labels
from desktop.core.context import AppContext


class HandoverDialog(QDialog):
    """The handover of ``ctx.user``'s desk. ``outgoing_present`` is false when the desk was
    locked and someone else takes over (the audit row says the outgoing officer did not confirm).

    Signals: ``sig_handed_over(Account)`` with the incoming officer, signed in."""

    sig_handed_over = Signal(object)

    def __init__(self, ctx: AppContext, workstation: str, *, outgoing_present: bool = True,
                 parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("CityOps — Shift handover"))
        self.setMinimumWidth(480)
        self.account = None
        self.summary: ShiftSummary | None = None
        self._ctx = ctx
        self._workstation = workstation
        self._outgoing_present = outgoing_present
        self._typed = ""  # the incoming password while a one-time password is replaced
        self.change_dialog: ChangePasswordDialog | None = None
        outgoing = QLabel(self.tr("Outgoing: %1 (%2)").replace("%1", ctx.user.display_name)
                          .replace("%2", labels.role_name(ctx.user.role)))
        outgoing.setTextFormat(Qt.TextFormat.PlainText)
        outgoing.setStyleSheet("font-weight: bold;")
        self.summary_label = QLabel(self.tr("Counting the open work…"))
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.summary_label.setWordWrap(True)
        self.note = QLineEdit()
        self.note.setMaxLength(MAX_SHORT_TEXT)
        self.note.setPlaceholderText(self.tr("Handover note (optional)"))
        self.note.setEnabled(outgoing_present)  # only the outgoing officer writes it
        self.username = QLineEdit()
        self.username.setPlaceholderText(self.tr("Account"))
        self.password = password_field(self.tr("Password"))
        self.message = problem_label()
        form = QFormLayout()
        form.addRow(self.tr("Note"), self.note)
        form.addRow(QLabel(self.tr("The incoming officer signs in:")))
        form.addRow(self.tr("Account"), self.username)
        form.addRow(self.tr("Password"), self.password)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("Hand over"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(outgoing)
        layout.addWidget(self.summary_label)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.username.setFocus()
        database, user_id = ctx.database, ctx.user.id
        ctx.reads.run(lambda: shift_summary(database, user_id), self._show_summary,
                      self._summary_failed)

    def _show_summary(self, summary: ShiftSummary) -> None:
        self.summary = summary
        self.summary_label.setText(
            self.tr("Open cases assigned to you: %1 (overdue: %2)\nOpen cases you registered: %3\n"
                    "Alerts nobody has acknowledged (whole city): %4")
            .replace("%1", str(summary.assigned_open)).replace("%2", str(summary.assigned_overdue))
            .replace("%3", str(summary.reported_open)).replace("%4", str(summary.active_alerts)))

    def _summary_failed(self, exc: BaseException) -> None:
        self.summary_label.setText(sign_in_problem(exc))

    def submit(self) -> None:
        username, password = self.username.text(), self.password.text()
        if not username or not password:
            self.message.setText(self.tr("The incoming officer enters an account and a password."))
            return
        self.ok_button.setEnabled(False)
        self.message.setText(self.tr("Signing in…"))
        self._typed = password
        database, outgoing_id, workstation = self._ctx.database, self._ctx.user.id, self._workstation
        note, summary, present = self.note.text(), self.summary, self._outgoing_present
        self._ctx.writes.run(
            lambda: hand_over(database, outgoing_id, username, password, workstation=workstation,
                              note=note, summary=summary, outgoing_present=present),
            self._succeeded, self._failed)

    def _succeeded(self, account) -> None:
        typed, self._typed = self._typed, ""
        if account.must_change_password:  # a one-time password: chosen anew before the desk
            self.change_dialog = ChangePasswordDialog(self._ctx.database, self._ctx.writes, account,
                                                      typed, self)
            self.change_dialog.accepted.connect(self._password_changed)
            self.change_dialog.rejected.connect(self._change_cancelled)
            self.change_dialog.open()
            return
        self._handed_over(account)

    def _password_changed(self) -> None:
        dialog, self.change_dialog = self.change_dialog, None
        dialog.deleteLater()
        self._handed_over(dialog.account)

    def _change_cancelled(self) -> None:
        self.change_dialog.deleteLater()
        self.change_dialog = None
        self.ok_button.setEnabled(True)
        self.password.clear()
        self.message.setText(self.tr("The incoming officer must choose a new password to take over."))

    def _handed_over(self, account) -> None:
        self.account = account
        self.sig_handed_over.emit(account)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._typed = ""
        self.ok_button.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        self.message.setText(sign_in_problem(exc))
        hold_after(exc, self.ok_button)
