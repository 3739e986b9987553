"""The real app on a real X display (Xvfb, Qt's xcb platform plugin), not offscreen: what a
fresh Debian workstation runs. It fails when a library the xcb plugin needs is missing
(libxcb-icccm4, libxcb-keysyms1, …: scripts/bootstrap.sh installs them)."""
from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtGui import QImage

from tests.desktop.xvfb import xcb_env


def test_the_window_starts_on_a_real_x_display(x_display, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    base = {**os.environ, "CITYOPS_DB": ""}
    build = subprocess.run([sys.executable, "-m", "desktop", "demo", "--db", db_url, "--cases", "300"],
                           capture_output=True, text=True, timeout=300,
                           env={**base, "QT_QPA_PLATFORM": "offscreen"})
    assert build.returncode == 0, build.stderr
    # Root in a container: Chromium's sandbox cannot start; there is no GPU either
    # (as tests/desktop/conftest.py sets it for the offscreen tests).
    flags = "--no-sandbox --disable-gpu" if os.geteuid() == 0 else "--disable-gpu"
    env = {**xcb_env(x_display), "CITYOPS_DB": "",
           "QTWEBENGINE_CHROMIUM_FLAGS": os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", flags)}
    out = tmp_path / "shot.png"
    shot = subprocess.run([sys.executable, "-m", "desktop", "--db", db_url, "--screenshot", str(out),
                           "--after", "4", "--size", "1280x720"],
                          capture_output=True, text=True, timeout=300, env=env)
    # A missing xcb library aborts Qt before the window: "Could not load the Qt platform
    # plugin "xcb"" on stderr and a non-zero code.
    assert shot.returncode == 0, shot.stderr
    assert 'platform plugin "xcb"' not in shot.stderr
    assert out.exists()
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 720)
    # Not a blank window: the dark theme plus text and markers give many distinct colours
    # (a blank grab is one colour; the offscreen screenshot test uses the same bound).
    colours = {image.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 720, 16)}
    assert len(colours) > 20
