"""Start-up: Qt application, theme, language, database, sign-in, the command-center window."""
from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger(__name__)

# Qt messages that are the environment's, not ours (offscreen plugin, no GPU, no D-Bus).
_NOISE = (
    "This plugin does not support propagateSizeHints()",
    "QRhiGles2: Failed to create",
    "Failed to create RHI",
    "Failed to connect to the bus",
    # QtMultimedia on a machine without GPU or sound server, and dead cameras, which the video
    # tiles show on screen as "signal lost" with their reason.
    "No HW decoder found",
    "No RHI backend",
    "pipewire-0.3",
    "PulseAudioService",
    "Using Qt multimedia with FFmpeg",
    "Could not open media",
    "Demuxing failed",
    "Cannot set loops for non-seekable source",
)


def _has_display() -> bool:
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM"))


def _quiet_environment_noise(mode, context, message: str) -> None:
    if not any(message.startswith(n) or n in message for n in _NOISE):
        sys.stderr.write(message + "\n")


def prepare_environment(offscreen: bool) -> None:
    """Settings that must exist before Qt starts."""
    if offscreen:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if os.geteuid() == 0 if hasattr(os, "geteuid") else False:
        # Chromium refuses to run its sandbox as root (containers, kiosks).
        os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")
    elif offscreen:
        os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")


def run_app(url: str, *, screenshot: str | None = None, after: float = 2.0,
            size: str = "1920x1080", language: str | None = None,
            username: str | None = None, simulator: bool = False) -> int:
    if not screenshot and not _has_display():
        print("cityops: no display (DISPLAY/WAYLAND_DISPLAY unset). Run it on a workstation, "
              "or render the window with: cityops --screenshot window.png", file=sys.stderr)
        return 3
    prepare_environment(offscreen=bool(screenshot))
    from PySide6.QtCore import QSettings, QTimer, qInstallMessageHandler
    from PySide6.QtWebEngineCore import QWebEngineProfile  # noqa: F401 - before QApplication
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.core import i18n, theme
    from desktop.map.scheme import register_scheme

    qInstallMessageHandler(_quiet_environment_noise)
    register_scheme()  # the map page's cityops: scheme, before the QApplication (Qt's rule)
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("CityOps")
    app.setOrganizationName("CityOps")
    settings = QSettings()
    language = language or settings.value("ui/language", i18n.DEFAULT_LANGUAGE)
    if language not in i18n.LANGUAGES:
        language = i18n.DEFAULT_LANGUAGE
    settings.setValue("ui/language", language)
    i18n.install(app, language)
    width, height = (int(x) for x in size.lower().split("x"))
    screen_width = width if screenshot else app.primaryScreen().availableGeometry().width()
    theme.apply_theme(app, 2.0 if screen_width >= 3000 else 1.0)  # the 4K wall: doubled type

    from desktop.app.startup import StartupError, start

    try:
        window = start(url, username=username, interactive=not screenshot, simulator=simulator)
    except StartupError as exc:
        from desktop.core.errors import word

        message = word(exc.error) if exc.error is not None else str(exc)
        if screenshot:
            print(f"cityops: {message}", file=sys.stderr)
        else:
            QMessageBox.critical(None, app.translate("startup", "CityOps"), message)
        return 2
    if window is None:  # sign-in cancelled
        return 0
    desk = window.desk  # noqa: F841 - kept for the whole run: sign-out and switch user live there
    if screenshot:
        window.resize(width, height)
        window.show()

        def grab() -> None:
            window.grab().save(screenshot)
            print(f"screenshot written: {screenshot}")
            window.close()
            app.quit()

        QTimer.singleShot(int(after * 1000), grab)
    else:
        window.resize(1600, 900)
        window.showMaximized()
    code = app.exec()
    from desktop.core.live import stuck_threads

    if stuck_threads():
        # A feed thread is still inside a network call on a dead link; Python's exit would
        # destroy it running and abort. Every write was its own transaction: leave at once.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
