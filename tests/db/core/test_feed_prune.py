"""The change log is pruned in bounded steps: one transaction per chunk, a limit per call, one
workstation at a time on PostgreSQL, and followers that missed pruned rows are told to reload."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from db.core import feed
from db.core.feed import ChangeFollower
from db.models import ChangeLog
from tests.helpers import report

UTC = dt.UTC


def _age_log(env, older_than: dt.timedelta) -> None:
    with env.database.write() as s:
        s.execute(update(ChangeLog).values(at=dt.datetime.now(UTC) - older_than))


def test_prune_expired_drops_old_rows_in_bounded_steps_and_followers_reload(env, monkeypatch):
    follower = ChangeFollower(env.database)
    old = [report(env).case_id for _ in range(7)]
    _age_log(env, dt.timedelta(hours=2))
    fresh = report(env).case_id
    with env.database.read() as s:
        before = s.scalar(select(func.count()).select_from(ChangeLog))
    steps = []
    real_write = env.database.write

    def counting_write():
        steps.append(1)
        return real_write()

    monkeypatch.setattr(feed, "PRUNE_CHUNK", 3)
    monkeypatch.setattr(env.database, "write", counting_write)
    removed = feed.prune_expired(env.database, dt.timedelta(hours=1))
    monkeypatch.undo()
    assert removed == before - 1 and removed >= len(old)
    assert len(steps) == -(-removed // 3)  # one transaction per chunk of 3
    with env.database.read() as s:
        left = s.execute(select(ChangeLog.entity_id)).scalars().all()
    assert left == [fresh]  # the prefix went, the recent row stayed
    assert feed.prune_expired(env.database, dt.timedelta(hours=1)) == 0
    changes = follower.wait(1)  # it had not read the pruned rows: told to reload
    assert changes[0].op == feed.RELOAD
    follower.close()


def test_only_one_workstation_prunes_at_a_time_on_postgres(pg_env):
    report(pg_env)
    _age_log(pg_env, dt.timedelta(hours=2))
    with pg_env.database.read() as s:
        rows = s.scalar(select(func.count()).select_from(ChangeLog))
    with pg_env.database.engine.connect() as other:
        other.execute(select(func.pg_advisory_lock(feed.PRUNE_LOCK_KEY)))
        assert feed.prune_expired(pg_env.database, dt.timedelta(hours=1)) == 0  # skipped
        other.execute(select(func.pg_advisory_unlock(feed.PRUNE_LOCK_KEY)))
    assert feed.prune_expired(pg_env.database, dt.timedelta(hours=1)) == rows > 0


def test_prune_expired_stops_at_its_limit_and_continues_next_time(sqlite_env, monkeypatch):
    for _ in range(6):
        report(sqlite_env)
    _age_log(sqlite_env, dt.timedelta(hours=2))
    with sqlite_env.database.read() as s:
        total = s.scalar(select(func.count()).select_from(ChangeLog))
    monkeypatch.setattr(feed, "PRUNE_CHUNK", 2)
    assert feed.prune_expired(sqlite_env.database, dt.timedelta(hours=1), limit=3) == 3
    assert feed.prune_expired(sqlite_env.database, dt.timedelta(hours=1)) == total - 3
    with sqlite_env.database.read() as s:
        assert s.scalar(select(func.count()).select_from(ChangeLog)) == 0
