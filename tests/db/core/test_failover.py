"""Failover: the primary crashes, its standby is promoted, and the workstations' writer, a
change follower and the simulator carry on against the new primary through the multi-host URL.

The clusters are the test's own (ports 55440-55449, under /var/tmp/failover-<uid>), made by
``scripts/pg-cluster.sh`` like a city's would be; one initdb and one migration serve both
tests: the synchronous drill promotes the first standby, the asynchronous one a standby made
from that new primary. The drill itself (:func:`db.bench.replication.drill`) is the one the
``replication`` bench section times; here only its outcomes are asserted, never its times.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from db.bench import replication as rep
from db.core.entities import Entity
from db.models import ChangeLog
from tests.conftest import skip_without_cluster_tools

pytestmark = pytest.mark.postgres

PORTS = range(55440, 55450)
ROOT = Path(f"/var/tmp/failover-{os.getuid()}")
#: What the simulator writes and the drill's writer never does (it only reports and steps cases).
SIMULATOR_ENTITIES = (Entity.STAFF_POSITION.value, Entity.SENSOR.value, Entity.ALERT.value)
RECONNECT_WORK = ("the simulator died in the failover: it waits out a lost or busy database "
                  "(db.demo.simulate), but a write that reached a read-only server (SQLSTATE "
                  "25006, seen before the reconnect work in about 3 of 10 drills) still ends it")


@pytest.fixture(scope="module")
def drill_chain():
    """The chain's primary, its database set up, and the writer's accounts."""
    skip_without_cluster_tools()
    chain = rep.ClusterChain(ROOT, PORTS)
    try:
        chain.start_primary()
        actors = rep.prepare(chain, demo_cases=120)  # a demo: the simulator runs on demos only
        yield chain, actors
    finally:
        chain.close()


def _simulator_changes(chain, after_seq: int) -> int:
    """Changes the simulator made on the current primary after ``after_seq``."""
    engine = create_engine(chain.primary_url())
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(ChangeLog).where(
                ChangeLog.seq > after_seq, ChangeLog.entity.in_(SIMULATOR_ENTITIES)))
    finally:
        engine.dispose()


class Simulator:
    """``python -m desktop simulate --db <multi-host URL>`` in its own process."""

    def __init__(self, url: str, log: Path) -> None:
        self.log = log
        self._out = log.open("w")
        env = {**os.environ, "CITYOPS_DB": "", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "desktop", "simulate", "--db", url, "--rate", "5",
             "--seed", "3"], stdout=self._out, stderr=subprocess.STDOUT, env=env)
        self.alive_at_quiet: bool | None = None

    def quiet(self) -> None:
        """Called by the drill once the writer stopped: note whether it lived through the
        failover, then stop it (SIGTERM: it finishes its write and exits)."""
        self.alive_at_quiet = self.proc.poll() is None
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._out.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-1500:]


def _wait_for_simulator(chain, sim: Simulator, after_seq: int) -> None:
    """Until the simulator writes (it starts in a second or two), so it runs at the failover."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sim.proc.poll() is None:
        if _simulator_changes(chain, after_seq):
            return
        time.sleep(0.2)
    pytest.fail(f"the simulator never wrote before the failover:\n{sim.output()}")


@pytest.mark.parametrize("synchronous", [True, False], ids=["synchronous", "asynchronous"])
def test_promoting_the_standby_under_load_loses_and_doubles_nothing_acknowledged(
        drill_chain, synchronous, tmp_path, record_testsuite_property, capsys):
    chain, actors = drill_chain
    chain.add_standby(sync=synchronous)
    before = rep.newest_seq_on_primary(chain)
    sim = Simulator(chain.url(), tmp_path / "simulator.log")
    try:
        _wait_for_simulator(chain, sim, before)
        result = rep.drill(chain, actors, before_s=2.0, after_s=2.5, quiet=sim.quiet)
    finally:
        sim.stop()
    mode = "synchronous" if synchronous else "asynchronous"
    for name, value in result.as_dict().items():
        record_testsuite_property(f"failover_{mode}_{name}", value)
    with capsys.disabled():
        print(f"\nfailover, {mode}: {result.acked} writes acknowledged ({result.acked_before} "
              f"before the primary went away), {result.lost} of them missing on the new "
              f"primary; the follower saw {result.changes_seen} changes, missed "
              f"{result.missed}, doubled {result.doubled}, {result.phantom} not on the new "
              f"primary; writer back {result.seconds_to_first_write} s after the primary "
              f"went down {result.extra}")

    assert result.synchronous is synchronous  # the script set the primary up as asked
    # The writer worked before the failure, failed while there was no primary, and went on
    # writing on the new one through the same URL (its last writes are acknowledged there).
    assert result.acked_before > 0
    assert result.writer_errors > 0
    assert result.seconds_to_first_write is not None, result.last_error
    assert result.acked > result.acked_before
    # The follower lost the database, came back by itself, and returned every change once.
    assert result.follower_reconnected
    assert result.changes_seen > 0
    if synchronous:
        # A COMMIT returned only once the standby had it: nothing acknowledged is missing, and
        # the follower's changes are exactly the new primary's change log.
        assert result.lost == 0
        assert (result.missed, result.doubled, result.phantom, result.reloads) == (0, 0, 0, 0)
    # Asynchronous: what is missing is reported above and in the junit properties, not
    # asserted: losing the last acknowledged writes is what asynchronous replication risks.

    if not sim.alive_at_quiet:
        pytest.xfail(f"{RECONNECT_WORK}; its output:\n{sim.output()}")
    # The simulator lived through it and wrote on the new primary.
    assert _simulator_changes(chain, result.promoted_seq) > 0, sim.output()
