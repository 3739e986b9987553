"""The lock screen: after the city's idle time (``db.auth.signin.idle_lock_minutes``) the window
covers itself and asks the signed-in officer's password again, or lets another officer take
over (a shift handover).

While locked nothing behind the cover can be reached: the window's panels, docks and status bar
are disabled (no Tab into them), floating docks are hidden, and every action of the window is
disabled, so no shortcut (F9, Ctrl+Shift+Q, a panel's F5) works. (Not an application-wide
event filter swallowing shortcuts: PySide crashed handing such a filter every object of the
process; see desktop/app/idle.py.) The password goes through the sign-in gate like any sign-in: wrong
guesses here count towards the same delay and lockout."""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db.auth.accounts import authenticate
from desktop.app.signin import hold_after, password_field, problem_label, sign_in_problem
from desktop.core import labels, theme
from desktop.core.context import AppContext


class LockScreen(QWidget):
    """Covers ``window`` when :meth:`lock` is called; the right password of ``ctx.user``
    uncovers it.

    Signals: ``sig_unlocked()`` after the officer's password uncovered the window;
    ``sig_handover()`` when someone else asks to take over."""

    sig_unlocked = Signal()
    sig_handover = Signal()

    def __init__(self, window: QMainWindow, ctx: AppContext, workstation: str) -> None:
        super().__init__(window)
        self.setObjectName("LockScreen")
        self._window = window
        self._ctx = ctx
        self._workstation = workstation
        self._hidden_docks: list[QDockWidget] = []
        self._disabled: list[QWidget] = []
        self._actions: list[QAction] = []
        # Opaque, or the window shows through: a plain QWidget paints a style sheet's
        # background only with WA_StyledBackground.
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAutoFillBackground(True)
        self.setStyleSheet(f"#LockScreen {{ background: {theme.BACKGROUND}; }}")
        box = QFrame()
        box.setObjectName("LockBox")
        box.setStyleSheet(f"#LockBox {{ background: {theme.PANEL}; border: 1px solid {theme.BORDER}; }}"
                          "#LockBox QLabel { background: transparent; }")
        box.setFixedWidth(560)
        self.title = QLabel(self.tr("Workstation locked"))
        self.title.setStyleSheet("font-size: 20pt; font-weight: bold;")
        self.who = QLabel(self.tr("Signed in: %1 (%2). Nobody used this desk for a while: enter "
                                  "the password to go on.")
                          .replace("%1", ctx.user.display_name)
                          .replace("%2", labels.role_name(ctx.user.role)))
        self.who.setTextFormat(Qt.TextFormat.PlainText)  # a display name is data, never markup
        self.who.setWordWrap(True)
        self.password = password_field(self.tr("Password"))
        self.password.returnPressed.connect(self.submit)
        self.unlock_button = QPushButton(self.tr("Unlock"))
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.submit)
        self.message = problem_label()
        self.handover_button = QPushButton(self.tr("Another officer takes over (shift handover)…"))
        self.handover_button.clicked.connect(self.sig_handover)
        inner = QVBoxLayout(box)
        inner.setContentsMargins(32, 28, 32, 28)
        inner.setSpacing(12)
        # A wrapped label inside a fixed-width box: give it the height its text needs there.
        self.who.setMinimumHeight(self.who.heightForWidth(560 - 64))
        for w in (self.title, self.who, self.password, self.unlock_button, self.message,
                  self.handover_button):
            inner.addWidget(w)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        window.installEventFilter(self)  # follow the window's size
        self.hide()

    @property
    def locked(self) -> bool:
        return self.isVisible()

    def lock(self) -> None:
        if self.locked:
            return
        w = self._window
        self._hidden_docks = [d for d in w.findChildren(QDockWidget) if d.isFloating() and d.isVisible()]
        for dock in self._hidden_docks:
            dock.hide()
        parts = [w.centralWidget(), w.statusBar(), *w.findChildren(QDockWidget)]
        self._disabled = [p for p in parts if p is not None and p.isEnabled()]
        for part in self._disabled:
            part.setEnabled(False)
        own = set(self.findChildren(QAction))
        self._actions = [a for a in w.findChildren(QAction) if a.isEnabled() and a not in own]
        for action in self._actions:
            action.setEnabled(False)
        self.setGeometry(w.rect())
        self.message.clear()
        self.password.clear()
        self.unlock_button.setEnabled(True)
        self.show()
        self.raise_()
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def unlock(self) -> None:
        if not self.locked:
            return
        self.hide()
        for part in self._disabled:
            part.setEnabled(True)
        for action in self._actions:
            action.setEnabled(True)
        self._actions = []
        for dock in self._hidden_docks:
            dock.show()
        self._disabled, self._hidden_docks = [], []
        self.sig_unlocked.emit()

    def submit(self) -> None:
        password = self.password.text()
        if not password or not self.unlock_button.isEnabled():
            return
        self.unlock_button.setEnabled(False)
        self.message.setText(self.tr("Checking…"))
        database, username, workstation = self._ctx.database, self._ctx.user.username, self._workstation
        self._ctx.writes.run(lambda: authenticate(database, username, password, workstation=workstation,
                                                  purpose="unlock"),
                             self._succeeded, self._failed)

    def _succeeded(self, account) -> None:
        if account.id != self._ctx.user.id:  # cannot happen: the name is the signed-in one's
            self._failed(RuntimeError("account mismatch"))
            return
        self.unlock()

    def _failed(self, exc: BaseException) -> None:
        self.unlock_button.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        self.message.setText(sign_in_problem(exc))
        hold_after(exc, self.unlock_button)

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Resize and watched is self._window:
            self.setGeometry(self._window.rect())
        return False
