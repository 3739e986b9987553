"""The change feed: delivery across connections, order, and catch-up after a disconnect."""
from __future__ import annotations

import contextlib
import json
import threading
import time

import psycopg
import pytest
from sqlalchemy import text

from db.core import feed
from db.core.engine import open_database
from db.core.entities import Entity
from db.core.feed import ChangeFollower
from tests.helpers import report


def case_ids(changes):
    return [c.entity_id for c in changes if c.entity == "case"]


def wait_for(follower, n, timeout=10.0):
    got = []
    end = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < end:
        got += follower.wait(0.5)
    return got


def test_another_connection_change_is_delivered(env):
    follower = ChangeFollower(env.database)
    other = open_database(env.database.url)  # a second engine: another workstation
    try:
        received = []
        t = threading.Thread(target=lambda: received.extend(wait_for(follower, 1)))
        t.start()
        time.sleep(0.3)
        r = report(env.__class__(other, env.users, env.city_id, env.engine_name))
        t.join(15)
        assert case_ids(received) == [r.case_id]
        assert received[0].op == "insert"
    finally:
        follower.close()
        other.dispose()


def test_rolled_back_work_is_never_announced(env):
    follower = ChangeFollower(env.database)
    with pytest.raises(RuntimeError):
        with env.database.write() as s:
            feed.publish(s, Entity.CASE, [123])
            raise RuntimeError("step failed")
    assert follower.wait(0.3) == []
    follower.close()


def test_concurrent_writers_are_seen_completely_and_in_order(env):
    follower = ChangeFollower(env.database)
    writers, per_writer = 4, 15
    created: list[int] = []
    lock = threading.Lock()

    def write():
        for _ in range(per_writer):
            r = report(env)
            with lock:
                created.append(r.case_id)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    seen = []
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads) or len(seen) < writers * per_writer:
        batch = follower.wait(0.5)
        seen += batch
        if not batch and not any(t.is_alive() for t in threads):
            break
    assert sorted(case_ids(seen)) == sorted(created)
    seqs = [c.seq for c in seen]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    follower.close()


def test_catch_up_after_the_follower_was_away(sqlite_env):
    env = sqlite_env
    follower = ChangeFollower(env.database)
    first = report(env)
    assert case_ids(follower.wait(1)) == [first.case_id]
    follower.close()  # the workstation is off the network for a while
    missed = [report(env).case_id for _ in range(5)]
    assert case_ids(follower.wait(1)) == missed


def test_pruned_history_asks_followers_to_reload(sqlite_env):
    env = sqlite_env
    follower = ChangeFollower(env.database)
    report(env)
    follower.close()
    for _ in range(3):
        report(env)
    from db.models import utcnow

    with env.database.write() as s:
        feed.prune(s, utcnow())  # everything so far
    report(env)
    changes = follower.wait(1)
    assert changes[0].op == feed.RELOAD and changes[0].entity == "*"
    assert len(case_ids(changes)) == 1


def test_a_restored_database_behind_the_follower_makes_it_reload(sqlite_env):
    env = sqlite_env
    for _ in range(3):
        report(env)
    follower = ChangeFollower(env.database)
    with env.database.write() as s:  # as if an older backup were restored
        s.execute(text("DELETE FROM change_log"))
        s.execute(text("DELETE FROM sqlite_sequence WHERE name = 'change_log'"))
    report(env)
    changes = follower.wait(1)
    assert [c.op for c in changes] == [feed.RELOAD]  # re-read everything, this case included
    later = report(env)
    assert case_ids(follower.wait(1)) == [later.case_id]


def test_postgres_sequence_order_is_commit_order(pg_env):
    """Writer A takes its seq first but commits last; B must wait for A, so a follower that has
    seen B's row can never later find A's row appear below it."""
    env = pg_env
    a_published = threading.Event()
    release_a = threading.Event()
    b_done = threading.Event()

    def writer_a():
        with env.database.write() as s:
            feed.publish(s, Entity.CASE, [1001])
            a_published.set()
            release_a.wait(10)

    def writer_b():
        a_published.wait(10)
        with env.database.write() as s:
            feed.publish(s, Entity.CASE, [1002])
        b_done.set()

    follower = ChangeFollower(env.database)
    ta, tb = threading.Thread(target=writer_a), threading.Thread(target=writer_b)
    ta.start()
    tb.start()
    assert a_published.wait(10)
    assert not b_done.wait(0.5), "B committed while A still held the feed lock"
    assert follower.wait(0.2) == []
    release_a.set()
    ta.join(10)
    tb.join(10)
    got = wait_for(follower, 2)
    assert case_ids(got) == [1001, 1002]
    follower.close()


def test_notify_payload_carries_ids_only(pg_env):
    env = pg_env
    url = env.database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"LISTEN {feed.CHANNEL}")
        r = report(env, description="保密的描述内容")
        notes = list(conn.notifies(timeout=5, stop_after=1))
    payload = json.loads(notes[0].payload)
    assert payload == {"e": "case", "op": "insert", "ids": [r.case_id]}


def test_forced_disconnect_then_catch_up_returns_everything_missed(pg_env):
    env = pg_env
    follower = ChangeFollower(env.database)
    first = report(env)
    assert case_ids(wait_for(follower, 1)) == [first.case_id]
    pid = follower._listen_conn.info.backend_pid
    with env.database.engine.connect() as conn:  # the server drops the listener's connection
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        conn.commit()
    missed = [report(env).case_id for _ in range(5)]
    got = []
    end = time.monotonic() + 15
    saw_down = False
    while len(case_ids(got)) < len(missed) and time.monotonic() < end:
        got += follower.wait(0.5)
        saw_down |= not follower.connected
    assert saw_down, "the follower never noticed the lost connection"
    assert case_ids(got) == missed
    assert follower.connected
    late = report(env)  # and live delivery works again over the new connection
    assert case_ids(wait_for(follower, 1)) == [late.case_id]
    follower.close()


def test_a_connection_lost_as_a_fetch_ends_loses_no_change(env, monkeypatch):
    """The database goes away after the follower read its rows but before its read session
    closed (a failover at that moment): the rows were never returned, so the next wait, once
    the database is back, must return them rather than start after them."""
    from sqlalchemy.exc import OperationalError

    follower = ChangeFollower(env.database)
    r = report(env)
    real_read = env.database.read
    broken = {"left": 1}

    @contextlib.contextmanager
    def read_then_lose_the_connection():
        with real_read() as session:
            yield session
            if broken["left"] and follower.connected:  # in fetch, not in the connect check
                broken["left"] -= 1
                raise OperationalError("ROLLBACK", {}, OSError("server closed the connection"))

    monkeypatch.setattr(env.database, "read", read_then_lose_the_connection)
    try:
        assert follower.wait(0.2) == []  # lost with the connection
        assert not follower.connected
        assert case_ids(wait_for(follower, 1, timeout=5)) == [r.case_id]
    finally:
        follower.close()


def test_a_cut_link_is_tried_again_with_back_off_and_caught_up(pg_env):
    """Through a TCP proxy: while the link is cut, the follower tries again only when its
    back-off says (not on every call), and once the link is back it catches up and starts its
    schedule over."""
    import random

    from sqlalchemy.engine import make_url

    from tests.tcp_proxy import TcpProxy

    proxy = TcpProxy()
    proxy.start()
    url = make_url(pg_env.database.url).set(port=proxy.port).render_as_string(hide_password=False)
    via_proxy = open_database(url, migrate=False)
    follower = ChangeFollower(via_proxy)
    follower.backoff.rng = random.Random(0)  # waits 0.42, 0.76, 0.84 s… (tests/db/core/test_backoff.py)
    try:
        first = report(pg_env)
        assert case_ids(wait_for(follower, 1)) == [first.case_id]
        proxy.stop()
        calls = 0
        while follower.backoff.attempts < 3:  # three failed tries: the third wait is drawn
            assert follower.wait(0.05) == []
            calls += 1
        assert not follower.connected
        # Each call lasts at most 0.05 s; the first three waits (0.5 × 0.844 = 0.42 s, then
        # 1 × 0.758 = 0.76 s) keep the follower from trying on most of them.
        assert calls > 3 * follower.backoff.attempts
        missed = [report(pg_env).case_id for _ in range(3)]  # straight to the server
        proxy.start()
        got = wait_for(follower, 3, timeout=30)
        assert case_ids(got) == missed
        assert follower.connected and not follower.backoff.failing
    finally:
        follower.close()
        via_proxy.dispose()
        proxy.stop()
