"""The interim window: it opens, reads the database off the GUI thread and renders."""
from __future__ import annotations

import subprocess
import sys

from PySide6.QtGui import QImage

from db import workflow as wf
from desktop.status_window import StatusWindow

from ..helpers import report


def test_window_shows_case_counts_per_state(qtbot, sqlite_env):
    report(sqlite_env)
    report(sqlite_env)
    window = StatusWindow(sqlite_env.database.url)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: f"{wf.State.PENDING_ACCEPT.label}：2" in window._body.text(), timeout=10_000)
    assert f"{wf.State.CLOSED.label}：0" in window._body.text()


def test_cli_screenshot_writes_a_png_of_the_requested_size(sqlite_env, tmp_path):
    out = tmp_path / "shot.png"
    proc = subprocess.run(
        [sys.executable, "-m", "desktop", "--db", sqlite_env.database.url,
         "--screenshot", str(out), "--after", "0.5", "--size", "1280x720"],
        capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 720)
