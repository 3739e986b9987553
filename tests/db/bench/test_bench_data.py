"""The data-layer pieces of issue 6 (the benchmark and the fixes it showed were needed): the
change log pruned in bounded steps, sort keys that order exactly as the queue's query, the
benchmark city grown in SQL and cached safely, the ingest proof, the report's arithmetic."""
from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import delete, func, select, update

from db.core import feed
from db.cases import queries
from db.bench.city import CitySpec, bench_city, city_key, grow_cases
from db.bench.ingest import Digest, log_digest
from db.bench.report import Figure, format_table, percentile, slope, summary
from db.core.feed import ChangeFollower
from db.models import Case, ChangeLog, Town
from db.cases.queries import QueueFilter, QueueSort
from db.cases.workflow import State, Step

from tests.helpers import case_in_state, report, take

UTC = dt.timezone.utc


# -- the change log is pruned ----------------------------------------------------------------

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


# -- sort keys order exactly as the queue's query ---------------------------------------------

def test_sort_keys_compare_as_the_database_orders(env):
    rng = random.Random(4)
    now = dt.datetime.now(UTC)
    with env.database.read() as s:
        towns = list(s.scalars(select(Town.id).order_by(Town.id).limit(3)))
    for i in range(30):
        state = rng.choice([State.PENDING_ACCEPT, State.HANDLING, State.HANDLING, State.PARKED,
                            State.PENDING_CHECK])
        r = case_in_state(env, State.PENDING_DISPATCH if state != State.PENDING_ACCEPT else state)
        if state != State.PENDING_ACCEPT:
            r = take(env, r, Step.DISPATCH, now=now - dt.timedelta(hours=rng.randint(0, 99)))
            if state == State.PARKED:
                r = take(env, r, Step.PARK)
            elif state == State.PENDING_CHECK:
                r = take(env, r, Step.FEEDBACK)
        if rng.random() < 0.6:  # some have no town (NULLs), the others one of three
            with env.database.write() as s:
                s.execute(update(Case).where(Case.id == r.case_id)
                          .values(town_id=rng.choice(towns)))
    flt = QueueFilter(states=frozenset())
    import functools

    for column in sorted(queries.PLACEABLE_SORTS):
        for descending in (False, True):
            sort = QueueSort(column, descending)
            with env.database.read() as s:
                expected = queries.queue_ids(s, flt, sort)
                keys = queries.sort_keys(s, sort, expected, flt=flt)
            order = functools.cmp_to_key(
                lambda a, b: -1 if queries.key_before(a, b, descending) else 1)
            assert [k[3] for k in sorted(keys.values(), key=order)] == expected, sort


def test_sort_keys_with_a_filter_leave_out_what_it_does_not_match(env):
    waiting = report(env).case_id
    handling = case_in_state(env, State.HANDLING).case_id
    with env.database.read() as s:
        keys = queries.sort_keys(s, QueueSort(), [waiting, handling],
                                 flt=QueueFilter(states=frozenset({State.HANDLING.value})))
    assert list(keys) == [handling]


# -- the benchmark city ---------------------------------------------------------------------

def test_grow_cases_copies_to_the_wanted_size_in_sql(env):
    report(env)  # one finished and one open case to copy
    case_in_state(env, State.CLOSED)
    grow_cases(env.database, total=57, open_cases=13)
    with env.database.read() as s:
        total = s.scalar(select(func.count()).select_from(Case))
        open_ = s.scalar(select(func.count()).select_from(Case)
                         .where(Case.state.in_([st.value for st in queries.OPEN_STATES])))
        numbers = s.scalar(select(func.count(func.distinct(Case.number))))
    assert (total, open_, numbers) == (57, 13, 57)
    fresh = report(env)  # the id sequence continues after the copies
    with env.database.read() as s:
        assert fresh.case_id == s.scalar(select(func.max(Case.id)))


def test_the_benchmark_city_is_cached_and_only_ever_copied(tmp_path):
    spec = CitySpec(cases=900, open_cases=150, demo_cases=300)
    url = f"sqlite:///{tmp_path / 'pointed-at.sqlite3'}"
    (tmp_path / "cache").mkdir()
    older = tmp_path / "cache" / "city-900-150-0123456789ab.sqlite3"  # from older sources
    other = tmp_path / "cache" / "city-20000-2000-0123456789ab.sqlite3"  # another size
    older.write_bytes(b"")
    other.write_bytes(b"")
    with bench_city(url, spec, cache_dir=tmp_path / "cache") as city:
        with city.read() as s:
            assert s.scalar(select(func.count()).select_from(Case)) == 900
        with city.write() as s:  # the benchmark writes into its copy…
            s.execute(delete(Case).where(Case.number.like("B%")))  # the copies
    cached = tmp_path / "cache" / f"city-{spec.size_tag}-{city_key(spec)}.sqlite3"
    stamp = cached.stat().st_mtime_ns
    with bench_city(url, spec, cache_dir=tmp_path / "cache") as city:
        with city.read() as s:  # …never into the cache: the next copy is whole again
            assert s.scalar(select(func.count()).select_from(Case)) == 900
            assert s.scalar(select(func.count()).where(Case.number.like("B%"))) == 600
    assert cached.stat().st_mtime_ns == stamp
    assert not older.exists() and other.exists()  # replaced, not piled up
    assert not (tmp_path / "pointed-at.sqlite3").exists()  # the named database is never opened
    assert city_key(CitySpec(cases=901, open_cases=150, demo_cases=300)) != city_key(spec)


def test_the_postgres_city_is_a_template_cloned_for_each_run(pg_env):
    from sqlalchemy import create_engine, text

    from db.bench.city import CACHE_DB_PREFIX

    from tests.conftest import PG_ADMIN_URL

    spec = CitySpec(cases=700, open_cases=120, demo_cases=250)
    older = f"{CACHE_DB_PREFIX}700_120_0123456789ab"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def databases() -> set[str]:
        with admin.connect() as conn:
            return set(conn.execute(text("SELECT datname FROM pg_database")).scalars())

    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{older}"'))
    cached = f"{CACHE_DB_PREFIX}700_120_{city_key(spec)}"
    try:
        for _ in range(2):  # built once, then cloned from the cache
            with bench_city(pg_env.database.url, spec) as city:
                assert city.url.rsplit("/", 1)[1].startswith("cityops_scratch_")
                with city.read() as s:
                    assert s.scalar(select(func.count()).select_from(Case)) == 700
                with city.write() as s:
                    s.execute(delete(Case).where(Case.number.like("B%")))
        names = databases()
        assert cached in names and older not in names
        assert not any(n.startswith("cityops_scratch_") and n == city.url.rsplit("/", 1)[1]
                       for n in names)  # the clone is dropped
    finally:
        with admin.connect() as conn:
            for name in (older, cached):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- the ingest proof -----------------------------------------------------------------------

def test_a_follower_digest_equals_the_logs_own(env):
    start = ChangeFollower(env.database)
    since = start.last_seq
    for _ in range(5):
        report(env)
    seen = Digest()
    for change in start.wait(1):
        seen.add(change.seq, change.entity, change.entity_id, change.op)
    with env.database.read() as s:
        end = feed.latest_seq(s)
    truth = log_digest(env.database, since, end)
    assert (seen.count, seen.hexdigest) == (truth.count, truth.hexdigest) and truth.count >= 5
    missing_one = Digest()
    for change in list(ChangeFollower(env.database, since=since).wait(1))[1:]:
        missing_one.add(change.seq, change.entity, change.entity_id, change.op)
    assert missing_one.hexdigest != truth.hexdigest
    start.close()


# -- the report -----------------------------------------------------------------------------

def test_percentiles_slope_and_the_table():
    assert percentile([3, 1, 2, 4], 50) == 2.5
    assert percentile([], 95) is None
    assert summary([1.0] * 99 + [100.0])["p99"] == pytest.approx(1.99)
    assert slope([0, 1, 2], [10, 12, 14]) == pytest.approx(2.0)
    fast = Figure("1 x", "event → screen p95", 50.0, "ms", baseline=5000.0,
                  baseline_label="polling", target=100.0)
    slow = Figure("1 x", "rate", 10.0, "ev/s", baseline=20.0, better="higher")
    assert fast.ratio == 0.01 and fast.meets_target and slow.ratio == 0.5
    table = format_table([fast, slow])
    assert "100.0× faster" in table and "✓" in table and "polling" in table
    assert Figure.from_dict(fast.to_dict()).to_dict() == fast.to_dict()


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
