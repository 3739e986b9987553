"""The window through a failover: its primary crashes, the outage banner shows; the standby is
promoted, the banner goes and cases written on the new primary reach the queue, all through
the one multi-host URL the window was started with.

Clusters of the test's own (ports 55445-55449, under /var/tmp/failover-<uid>-qt), made by
``scripts/pg-cluster.sh``; the data-layer drill (writes lost, changes missed) is
tests/db/core/test_failover.py."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from db.auth.roles import Role
from db.bench import replication as rep
from db.cases import workflow as wf
from db.core.engine import open_database
from tests.conftest import Env, skip_without_cluster_tools
from tests.desktop.window.test_main_window import open_window

pytestmark = pytest.mark.postgres


@pytest.fixture
def window_chain():
    skip_without_cluster_tools()
    chain = rep.ClusterChain(Path(f"/var/tmp/failover-{os.getuid()}-qt"), range(55445, 55450))
    try:
        chain.start_primary()
        actors = rep.prepare(chain)
        chain.add_standby(sync=True)
        yield chain, actors
    finally:
        chain.close()


def _report(database, actors, description: str) -> wf.StepResult:
    return wf.report_case(database, actors.users[Role.DUTY_OFFICER], source="hotline_12345",
                          lat=23.02, lon=113.75, city_id=actors.city_id, description=description)


def test_the_window_goes_offline_and_comes_back_on_the_promoted_standby(qtbot, window_chain,
                                                                         tmp_path):
    chain, actors = window_chain
    database = open_database(chain.url(), migrate=False)  # the multi-host URL
    env = Env(database, actors.users, actors.city_id, "postgresql")
    window = open_window(qtbot, env, tmp_path)  # its change feed on the same URL
    try:
        before = _report(database, actors, "切换前登记")
        qtbot.waitUntil(lambda: window.queue.model.row_of(before.case_id) is not None,
                        timeout=30_000)
        assert window.outage_banner.isHidden() and window.ctx.online

        chain.stop_primary()
        qtbot.waitUntil(lambda: window.outage_banner.isVisible(), timeout=15_000)
        assert not window.ctx.online
        assert window.queue.model.row_of(before.case_id) is not None  # last known state kept

        chain.promote()
        qtbot.waitUntil(lambda: window.outage_banner.isHidden(), timeout=20_000)
        assert window.ctx.online
        # Synchronous: the case acknowledged before the crash is on the new primary, and a
        # case written there now reaches the window through the feed's new LISTEN connection.
        after = _report(database, actors, "切换后登记")
        qtbot.waitUntil(lambda: window.queue.model.row_of(after.case_id) is not None,
                        timeout=10_000)
        assert window.queue.model.row_of(before.case_id) is not None
    finally:
        window.close()
        database.dispose()
