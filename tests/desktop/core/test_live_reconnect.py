"""The change-feed thread starts without a database and keeps trying (with back-off), and a
window's feed comes back online once the server can be reached; a change made meanwhile still
arrives."""
from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from desktop.core.live import LiveFeed
from tests.helpers import report
from tests.tcp_proxy import TcpProxy


@pytest.mark.postgres
def test_a_feed_started_while_the_server_is_unreachable_comes_online_later(qtbot, pg_env):
    proxy = TcpProxy()  # not started: nothing listens on its port yet, as after a reboot
    url = make_url(pg_env.database.url).set(port=proxy.port).render_as_string(hide_password=False)
    feed = LiveFeed(url, jobs_delay=3600)
    batches: list[dict] = []
    feed.sig_batch.connect(batches.append)
    feed.start()
    try:
        qtbot.waitUntil(lambda: not feed.online, timeout=15_000)
        assert feed._worker._backoff.failing  # the worker is spacing its tries
        proxy.start()
        qtbot.waitUntil(lambda: feed.online, timeout=20_000)
        assert not feed._worker._backoff.failing  # started over once the feed was up
        case = report(pg_env)  # a change after the start: delivered live
        qtbot.waitUntil(lambda: any(case.case_id in b.get("case", ()) for b in batches),
                        timeout=10_000)
    finally:
        feed.stop()
        proxy.stop()
