"""Ask the desktop for the officer's attention when the window is behind another program.

:func:`QApplication.alert` is Qt's way: on X11 it *asks the window manager* (a
``_NET_WM_STATE`` client message to the root window) to add ``_NET_WM_STATE_DEMANDS_ATTENTION``;
with no EWMH window manager, or one that reads only ICCCM hints, nothing happens. So on X11 the
window also sets the ICCCM urgency hint (bit 8 of its ``WM_HINTS`` property) itself, which every
X window manager and task bar understands, and clears it once the window is active again.

The hint is written over a short-lived Xlib connection of its own (window ids are the server's,
so any connection may set another client's property); any failure only logs.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

log = logging.getLogger(__name__)
URGENCY_HINT = 1 << 8  # XUrgencyHint in XWMHints.flags (ICCCM 4.1.2.4)


def _xlib():
    name = ctypes.util.find_library("X11")
    if not name:
        return None
    lib = ctypes.CDLL(name)
    lib.XOpenDisplay.restype = ctypes.c_void_p
    lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    lib.XGetWMHints.restype = ctypes.POINTER(ctypes.c_long)  # flags is the struct's first field
    lib.XGetWMHints.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    lib.XSetWMHints.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_long)]
    lib.XFree.argtypes = [ctypes.c_void_p]
    lib.XFlush.argtypes = [ctypes.c_void_p]
    lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    return lib


def set_urgency_hint(window_id: int, urgent: bool) -> bool:
    """Set or clear the ICCCM urgency hint of X window ``window_id``; False if it could not."""
    if QGuiApplication.platformName() != "xcb" or not os.environ.get("DISPLAY"):
        return False
    try:
        lib = _xlib()
        if lib is None:
            return False
        display = lib.XOpenDisplay(None)
        if not display:
            return False
        try:
            hints = lib.XGetWMHints(display, window_id)
            if not hints:  # Qt writes WM_HINTS when it creates the window
                return False
            flags = hints[0]
            hints[0] = (flags | URGENCY_HINT) if urgent else (flags & ~URGENCY_HINT)
            lib.XSetWMHints(display, window_id, hints)
            lib.XFree(hints)
            lib.XFlush(display)
            return True
        finally:
            lib.XCloseDisplay(display)
    except (OSError, AttributeError, ValueError) as exc:
        log.warning("could not set the urgency hint: %s", exc)
        return False


class Attention(QObject):
    """Asks for attention for ``widget``'s top-level window until that window is active."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self._widget = widget
        self._urgent: QWidget | None = None  # the window whose urgency hint is set
        self.requests = 0  # how many times attention was asked for (tests read it)

    def request(self) -> None:
        window = self._widget.window()
        if window.isActiveWindow() or not window.isVisible():
            return
        self.requests += 1
        QApplication.alert(window, 0)  # until the window is activated
        if set_urgency_hint(int(window.winId()), True) and self._urgent is None:
            self._urgent = window
            window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if (watched is self._urgent and event.type() == QEvent.Type.ActivationChange
                and self._urgent.isActiveWindow()):
            self._urgent.removeEventFilter(self)
            set_urgency_hint(int(self._urgent.winId()), False)
            self._urgent = None
        return False


__all__ = ["Attention", "set_urgency_hint"]
