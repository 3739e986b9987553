"""The simulator outlives its database: PostgreSQL behind a TCP proxy, the link cut for a few
seconds and restored; the simulator (a real `cityops simulate` process, as the application role)
keeps running, says so in its log, and writes again afterwards."""
from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from db.cases.workflow import check_invariants
from db.core.backoff import Backoff
from db.core.engine import open_database
from db.demo.simulate import simulate
from db.models import Case, ChangeLog, SensorReading
from tests.conftest import REPO
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres
OUTAGE_S = 4.0  # how long the link stays cut: longer than the first back-off ceilings (1, 2 s)


def _broken_cases(database) -> list:
    with database.read() as s:
        ids = s.scalars(select(Case.id).order_by(Case.id)).all()
        return [(i, p) for i in ids if (p := check_invariants(s, i))]


def _latest_seq(database) -> int:
    with database.read() as s:
        return s.scalar(select(func.coalesce(func.max(ChangeLog.seq), 0)))


def _until(condition, timeout: float, what: str) -> None:
    """Poll ``condition`` (a wait, not a timed assertion: the bound only ends a hung test)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.2)


def test_the_simulator_waits_out_a_cut_link_and_writes_again(app_demo, tmp_path):
    proxy = TcpProxy()
    proxy.start()
    url = make_url(app_demo.url).set(port=proxy.port).render_as_string(hide_password=False)
    log_path = tmp_path / "simulate.log"
    start_seq = _latest_seq(app_demo)
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "desktop", "simulate", "--db", url, "--seed", "4"],
            stdout=subprocess.DEVNULL, stderr=log_file, cwd=REPO,
            env={**os.environ, "CITYOPS_DB": "", "PYTHONPATH": str(REPO)})

    def log_text() -> str:
        return log_path.read_text(encoding="utf-8")

    try:
        _until(lambda: _latest_seq(app_demo) > start_seq or process.poll() is not None, 60,
               "the simulator's first writes")
        assert process.poll() is None, log_text()
        proxy.stop()
        _until(lambda: "数据库连接中断" in log_text() or process.poll() is not None, 30,
               "the simulator noticing the cut")
        time.sleep(OUTAGE_S)  # the outage itself: the simulator is waiting, not us
        assert process.poll() is None, log_text()  # alive, waiting for the database
        before_restore = _latest_seq(app_demo)  # the server itself stayed up: read it directly
        proxy.start()
        _until(lambda: "数据库已恢复" in log_text() or process.poll() is not None, 60,
               "the simulator reconnecting")
        _until(lambda: _latest_seq(app_demo) > before_restore or process.poll() is not None, 30,
               "new change-log rows after the restore")
        assert process.poll() is None, log_text()
        text_now = log_text()
        lost_lines = [line for line in text_now.splitlines()
                      if "db.demo.simulate: 数据库连接中断" in line]
        assert len(lost_lines) == 1  # said once per outage, not per retry
        assert "Traceback" not in text_now
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        proxy.stop()
    assert process.returncode == 0, log_text()  # still a clean stop on SIGTERM
    assert _broken_cases(app_demo) == []  # every case the run touched is still whole


def test_a_link_cut_in_the_middle_of_a_tick_is_waited_out_and_nothing_is_written_twice(
        app_demo):
    """In a thread, on a fake clock (5 s a call), the link cut right after the run's 20th
    committed write, in the middle of a tick, and restored 1.5 s later: the run goes on to
    its duration, counts one outage, and no round of sensor readings is stored twice (the
    tick under way is dropped, not replayed)."""
    proxy = TcpProxy()
    proxy.start()
    url = make_url(app_demo.url).set(port=proxy.port).render_as_string(hide_password=False)
    via_proxy = open_database(url, migrate=False)
    written = [0]
    restore = threading.Timer(1.5, proxy.start)

    def on_event(kind: str, count: int) -> None:
        written[0] += 1
        if written[0] == 20:
            proxy.stop()
            restore.start()

    t = [dt.datetime(2026, 3, 18, 3, 30, tzinfo=dt.UTC)]

    def clock() -> dt.datetime:
        t[0] += dt.timedelta(seconds=5)
        return t[0]

    try:
        stats = simulate(via_proxy, seed=5, rate=2, duration=100, clock=clock,
                         on_event=on_event, backoff=Backoff(0.2, 1.0, rng=random.Random(0)))
    finally:
        restore.join()
        via_proxy.dispose()
        proxy.stop()
    assert written[0] > 20  # it wrote again after the outage
    assert stats.reconnects == 1
    assert _broken_cases(app_demo) == []
    with app_demo.read() as s:
        doubled = s.execute(select(SensorReading.sensor_id, SensorReading.at)
                            .group_by(SensorReading.sensor_id, SensorReading.at)
                            .having(func.count() > 1)).all()
    assert doubled == []
