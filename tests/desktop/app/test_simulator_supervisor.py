"""The demo window keeps its simulator alive: a killed simulator process is started again (with
back-off), the status bar says so, and the new one writes; closing the window still stops it."""
from __future__ import annotations

import os
import random
import signal

from PySide6.QtCore import QCoreApplication
from sqlalchemy import func, select

from db.auth.roles import Role
from db.core.backoff import Backoff
from db.core.engine import open_database
from db.demo.build import build_demo
from db.models import ChangeLog
from desktop.app.supervisor import simulator_supervisor
from desktop.window.main_window import MainWindow
from tests.conftest import Env
from tests.desktop.conftest import make_ctx


def said(text: str) -> str:
    """A status line as the supervisor words it, in whatever language the tests run."""
    name = QCoreApplication.translate("ChildSupervisor", "Simulator")
    return QCoreApplication.translate("ChildSupervisor", text).replace("%1", name)


def _latest_seq(database) -> int:
    with database.read() as s:
        return s.scalar(select(func.coalesce(func.max(ChangeLog.seq), 0)))


def test_a_killed_simulator_is_restarted_and_writes_again(qtbot, tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    database = open_database(url)
    build_demo(database, cases=100, days=5)
    ctx = make_ctx(Env(database, {Role.DUTY_OFFICER: 1}, 1, "sqlite"), Role.DUTY_OFFICER)
    ctx.demo = True
    window = MainWindow(ctx, None, tmp_path / "map")
    qtbot.addWidget(window)
    # Seeded: the first restart waits 0.5 × 0.844 = 0.42 s (tests/db/core/test_backoff.py).
    supervisor = simulator_supervisor(url, window, poll_ms=100,
                                     backoff=Backoff(0.5, 2.0, rng=random.Random(0)))
    supervisor.start()
    window.attach_simulator(supervisor)
    window.show()
    try:
        first = supervisor.process
        start_seq = _latest_seq(database)
        qtbot.waitUntil(lambda: _latest_seq(database) > start_seq, timeout=30_000)  # it lives
        assert window.simulator_label.isHidden()  # nothing to say while all is well
        os.kill(first.pid, signal.SIGKILL)  # a crash: no clean exit, nothing said
        qtbot.waitUntil(lambda: supervisor.process is not None
                        and supervisor.process.pid != first.pid, timeout=15_000)
        assert first.poll() == -signal.SIGKILL
        assert supervisor.restarts == 1
        assert window.simulator_label.isVisible()
        assert window.simulator_label.text() == said("%1 restarted")
        restarted_seq = _latest_seq(database)
        qtbot.waitUntil(lambda: _latest_seq(database) > restarted_seq, timeout=30_000)
        assert supervisor.process.poll() is None  # the new one runs and writes
    finally:
        last = supervisor.process
        window.close()
    last.wait(15)  # stopped with the window (reaped off the GUI thread)
    assert last.returncode == 0  # a clean SIGTERM exit, not a kill
    database.dispose()


def test_a_simulator_the_database_refuses_is_not_restarted(qtbot, tmp_path, sqlite_env):
    """Exit code 2 (not a demo database): waiting will not change that."""
    database = sqlite_env.database
    supervisor = simulator_supervisor(database.url, poll_ms=100,
                                     backoff=Backoff(0.1, 0.2, rng=random.Random(0)))
    statuses: list[str] = []
    supervisor.sig_status.connect(statuses.append)
    supervisor.start()
    try:
        first = supervisor.process
        qtbot.waitUntil(lambda: bool(statuses), timeout=30_000)
        assert first.returncode == 2
        assert statuses == [said("%1 stopped: the database refuses it")]
        assert supervisor.process is first and supervisor.restarts == 0
    finally:
        supervisor.stop()
