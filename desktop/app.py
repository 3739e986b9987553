"""Start-up of the Qt application.

Until the command-center window lands this opens a minimal status window: the database, the
signed-in demo user and the number of cases per state, loaded off the GUI thread.
"""
from __future__ import annotations

import os
import sys


def _has_display() -> bool:
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM"))


_OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints()"


def _quiet_offscreen_noise(mode, context, message: str) -> None:
    """Pass Qt's messages on, except the offscreen plugin's note on every window."""
    if message != _OFFSCREEN_NOISE:
        sys.stderr.write(message + "\n")


def run_app(url: str, *, screenshot: str | None = None, after: float = 2.0,
            size: str = "1920x1080") -> int:
    if screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif not _has_display():
        print("cityops: no display (DISPLAY/WAYLAND_DISPLAY unset). Run it on a workstation, "
              "or render the window with: cityops --screenshot window.png", file=sys.stderr)
        return 3
    from PySide6.QtCore import QTimer, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    qInstallMessageHandler(_quiet_offscreen_noise)

    from .status_window import StatusWindow

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("CityOps")
    app.setOrganizationName("CityOps")
    window = StatusWindow(url)
    if screenshot:
        width, height = (int(x) for x in size.lower().split("x"))
        window.resize(width, height)
        window.show()

        def grab() -> None:
            window.grab().save(screenshot)
            print(f"screenshot written: {screenshot}")
            app.quit()

        QTimer.singleShot(int(after * 1000), grab)
    else:
        window.resize(1280, 800)
        window.show()
    return app.exec()
