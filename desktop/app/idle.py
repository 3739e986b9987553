"""Noticing that nobody is at the desk: an event filter notes the time of the last keyboard,
mouse, wheel or touch input; one single-shot timer wakes when the idle time could have run out
and says so (``sig_idle``) if no input came meanwhile.

The filter sits on the application's top-level windows (:class:`QWindow`: the command-center
window and every dialog, added as each one gets the focus), not on the ``QApplication`` itself:
every input event reaches its widget through its top-level ``QWindow`` first, so the filter
sees the same input, while an application-wide Python filter is handed every object of the
process, and PySide 6.11 crashed (segmentation fault) converting some of them (QtWebEngine's,
objects being destroyed) before the filter's first line ran. The filter only stores a number
and returns; the timer is not restarted on every mouse move, it re-arms itself for the time
still left when it wakes."""
from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import QWidget

#: What counts as someone at the desk. Not focus or window changes: a live feed, a dialog or
#: an alert sound can cause those with nobody there.
INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseMove,
    QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TabletPress,
    QEvent.Type.TabletMove,
})


class IdleWatcher(QObject):
    """Emits ``sig_idle`` once after ``seconds`` without input; :meth:`restart` arms it again
    (after the desk was unlocked). ``widget``: the window whose input counts, also before it
    is first shown.

    Signals: ``sig_idle()``."""

    sig_idle = Signal()

    def __init__(self, seconds: float, parent: QObject | None = None, *,
                 clock: Callable[[], float] = time.monotonic, widget: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seconds = float(seconds)
        self._clock = clock
        self._last = clock()
        self._armed = False
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.check)
        self._widget = widget
        if widget is not None:  # its QWindow exists once it is shown: watch for that
            widget.installEventFilter(self)
        app = QGuiApplication.instance()
        if app is not None:
            app.focusWindowChanged.connect(self._watch)
        self._watch_all()

    def _watch_all(self) -> None:
        for window in QGuiApplication.topLevelWindows():
            self._watch(window)
        if self._widget is not None:
            self._watch(self._widget.windowHandle())

    def _watch(self, window: QWindow | None) -> None:
        """Filter ``window``'s input too (a dialog getting the focus, the window itself).
        Installing a filter twice keeps one: Qt moves it to the front."""
        if window is not None:
            window.installEventFilter(self)

    @property
    def armed(self) -> bool:
        return self._armed

    def restart(self) -> None:
        """Count the idle time from now and watch again."""
        self._last = self._clock()
        self._armed = True
        self._watch_all()
        self._schedule(self.seconds)

    def stop(self) -> None:
        self._armed = False
        self._timer.stop()

    def idle_for(self) -> float:
        return self._clock() - self._last

    def check(self) -> None:
        """Fire if the idle time ran out, else sleep until it could have."""
        if not self._armed:
            return
        left = self.seconds - self.idle_for()
        if left <= 0:
            self._armed = False
            self.sig_idle.emit()
        else:
            self._schedule(left)

    def _schedule(self, seconds: float) -> None:
        self._timer.start(max(1, int(seconds * 1000) + 1))

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind in INPUT_EVENTS:
            self._last = self._clock()
        elif kind == QEvent.Type.Show and self._widget is not None and watched is self._widget:
            self._watch(self._widget.windowHandle())
        return False
