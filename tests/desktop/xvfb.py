"""An Xvfb server of the test's own, for tests that need a real X display (Qt's xcb platform).

``x_display`` is a pytest fixture, offered to every desktop test by tests/desktop/conftest.py. Xvfb picks a free
display number itself (``-displayfd`` writes it once the server accepts clients); the server is
stopped afterwards. Without Xvfb the test is skipped (scripts/bootstrap.sh installs xvfb).
"""
from __future__ import annotations

import os
import select
import shutil
import subprocess

import pytest

XVFB = shutil.which("Xvfb")


@pytest.fixture
def x_display():
    if XVFB is None:
        pytest.skip("Xvfb is not installed (scripts/bootstrap.sh installs the xvfb package)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen([XVFB, "-displayfd", str(write_end), "-screen", "0", "1920x1080x24",
                               "-nolisten", "tcp"], pass_fds=(write_end,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        number = b""
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([read_end], [], [], 30)
            assert ready, "Xvfb did not report a display within 30 s"
            chunk = os.read(read_end, 16)
            assert chunk, f"Xvfb exited without a display (code {server.poll()})"
            number += chunk
        yield f":{int(number)}"
    finally:
        os.close(read_end)
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def xcb_env(display: str) -> dict[str, str]:
    """The environment of a child Qt process on ``display`` with the xcb platform plugin."""
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": display}
    env.pop("WAYLAND_DISPLAY", None)
    return env
