"""Scheduled jobs: due once a period, once across workstations, failures recorded and logged."""
from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
from sqlalchemy import select, update

from db.core import feed, jobs
from db.core.engine import open_database
from db.models import AppSetting, ChangeLog, JobState

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def _counter(database, key: str) -> int:
    with database.read() as s:
        row = s.get(AppSetting, key)
        return int(row.value_json) if row else 0


def _bump(database, key: str) -> None:
    """A job's visible effect: a counter row in the database, +1 per run."""
    with database.write() as s:
        row = s.get(AppSetting, key)
        if row is None:
            s.add(AppSetting(key=key, value_json="1"))
        else:
            row.value_json = str(int(row.value_json) + 1)


def _state(database, name: str) -> JobState | None:
    with database.read() as s:
        return s.scalar(select(JobState).where(JobState.name == name))


def _second_workstation(env):
    """Another Database object (own engine and connections) on the same database."""
    return open_database(env.database.url, migrate=False)


def test_a_job_runs_when_due_and_not_again_before_its_interval(env):
    reg = jobs.Registry()
    reg.register("test.count", every=5 * MINUTE, func=lambda db, now: _bump(db, "count"))
    runs = jobs.run_due(env.database, T0, reg=reg)
    assert [(r.name, r.outcome) for r in runs] == [("test.count", "ok")]
    assert _counter(env.database, "count") == 1
    assert jobs.run_due(env.database, T0 + 4 * MINUTE, reg=reg) == []
    assert _counter(env.database, "count") == 1
    runs = jobs.run_due(env.database, T0 + 6 * MINUTE, reg=reg)
    assert [r.outcome for r in runs] == ["ok"]
    assert _counter(env.database, "count") == 2
    state = _state(env.database, "test.count")
    assert state.run_count == 2 and state.last_outcome == "ok" and state.last_error is None
    assert state.last_started_at == T0 + 6 * MINUTE
    assert state.last_finished_at >= state.last_started_at
    [status] = jobs.status(env.database, reg)
    assert status.schedule == "every 5 min" and status.run_count == 2 and not status.running
    assert status.due_at == state.last_finished_at + 5 * MINUTE


def test_two_workstations_at_the_same_moment_run_a_job_exactly_once(env):
    reg = jobs.Registry()
    inside = threading.Event()
    release = threading.Event()

    def slow_count(db, now):
        inside.set()
        release.wait(10)  # hold the lock until the other workstation has tried
        _bump(db, "once")

    reg.register("test.once", every=MINUTE, func=slow_count)
    other = _second_workstation(env)
    results: dict[str, list] = {}
    start = threading.Barrier(2)

    def workstation(tag, database):
        start.wait()
        results[tag] = jobs.run_due(database, T0, reg=reg)

    first = threading.Thread(target=workstation, args=("a", env.database))
    second = threading.Thread(target=workstation, args=("b", other))
    try:
        first.start()
        second.start()
        assert inside.wait(10)
        # Whichever got in holds the lock inside the job; the other one comes back without
        # running and without waiting for it (the job cannot end before `release`).
        for t in (first, second):
            t.join(10 if t is not _inside_thread(first, second, results) else 0)
        assert len(results) == 1 and list(results.values()) == [[]]
        release.set()
        first.join(10)
        second.join(10)
    finally:
        release.set()
        other.dispose()
    assert sorted(len(r) for r in results.values()) == [0, 1]
    assert _counter(env.database, "once") == 1
    assert _state(env.database, "test.once").run_count == 1


def _inside_thread(first, second, results):
    """The thread still in the job: the one that has not returned yet (the other may need a
    moment to return too, so wait for exactly one to be left)."""
    import time

    for _ in range(1000):
        alive = [t for t in (first, second) if t.is_alive()]
        if len(alive) == 1:
            return alive[0]
        time.sleep(0.01)
    return None


def test_a_workstation_that_saw_the_job_due_skips_it_once_another_has_run_it(env):
    """No overlap at all: B read "due" before A ran, B gets the lock after A let it go."""
    reg = jobs.Registry()
    reg.register("test.after", every=MINUTE, func=lambda db, now: _bump(db, "after"))
    other = _second_workstation(env)
    try:
        assert [r.outcome for r in jobs.run_due(env.database, T0, reg=reg)] == ["ok"]
        # B's look-ahead read saw the job due (its row said so before A ran): the re-check
        # under the lock is what keeps it from running twice.
        run = jobs._attempt(other, reg.get("test.after"), T0, force=False)
        assert run.outcome == jobs.NOT_DUE
    finally:
        other.dispose()
    assert _counter(env.database, "after") == 1


def test_a_failing_job_is_recorded_logged_published_and_the_next_job_still_runs(env, caplog):
    reg = jobs.Registry()

    def broken(db, now):
        raise RuntimeError("备份目录不可写 /backup")

    reg.register("test.broken", every=MINUTE, func=broken)
    reg.register("test.after_broken", every=MINUTE, func=lambda db, now: _bump(db, "next"))
    with env.database.read() as s:
        seq = feed.latest_seq(s)
    with caplog.at_level(logging.ERROR, logger="db.core.jobs"):
        runs = jobs.run_due(env.database, T0, reg=reg)
    assert [(r.name, r.outcome) for r in runs] == [("test.broken", "failed"),
                                                    ("test.after_broken", "ok")]
    assert _counter(env.database, "next") == 1
    state = _state(env.database, "test.broken")
    assert state.last_outcome == "failed" and state.run_count == 1
    assert state.last_error.startswith("RuntimeError: 备份目录不可写 /backup")
    assert "Traceback" in state.last_error
    [record] = [r for r in caplog.records if "test.broken" in r.getMessage()]
    assert record.levelno == logging.ERROR and record.exc_info[0] is RuntimeError
    with env.database.read() as s:
        published = s.execute(select(ChangeLog.entity, ChangeLog.entity_id)
                              .where(ChangeLog.seq > seq, ChangeLog.entity == "job_run")).all()
    assert ("job_run", state.id) in published
    # The failure counts as a run: not retried before its interval, retried after it.
    assert jobs.run_due(env.database, T0 + MINUTE / 2, reg=reg) == []
    assert [r.outcome for r in jobs.run_due(env.database, T0 + 2 * MINUTE, reg=reg)] == \
        ["failed", "ok"]


def test_the_lock_is_released_after_the_job_raised(env):
    reg = jobs.Registry()
    calls = []

    def crash(db, now):
        calls.append(now)
        raise KeyError("boom")

    reg.register("test.crash", every=MINUTE, func=crash)
    assert jobs.run(env.database, "test.crash", T0, reg=reg).outcome == "failed"
    other = _second_workstation(env)
    try:
        with jobs.job_lock(other, "test.crash") as got:
            assert got  # another workstation can take it at once
        assert jobs.run(other, "test.crash", T0 + 2 * MINUTE, reg=reg).outcome == "failed"
    finally:
        other.dispose()
    assert len(calls) == 2


def test_a_held_lock_makes_others_skip_without_waiting(env):
    reg = jobs.Registry()
    reg.register("test.held", every=MINUTE, func=lambda db, now: _bump(db, "held"))
    other = _second_workstation(env)
    try:
        with jobs.job_lock(other, "test.held") as got:
            assert got
            assert jobs.run_due(env.database, T0, reg=reg) == []
            assert jobs.run(env.database, "test.held", T0, reg=reg).outcome == jobs.BUSY
        assert [r.name for r in jobs.run_due(env.database, T0, reg=reg)] == ["test.held"]
    finally:
        other.dispose()
    assert _counter(env.database, "held") == 1


def test_run_by_name_runs_now_even_when_not_due_and_refuses_an_unknown_name(env):
    reg = jobs.Registry()
    reg.register("test.named", every=dt.timedelta(hours=1), func=lambda db, now: _bump(db, "n"))
    assert jobs.run(env.database, "test.named", T0, reg=reg).outcome == "ok"
    assert jobs.run_due(env.database, T0 + MINUTE, reg=reg) == []  # not due
    assert jobs.run(env.database, "test.named", T0 + MINUTE, reg=reg).outcome == "ok"  # forced
    assert _counter(env.database, "n") == 2
    with pytest.raises(jobs.UnknownJob) as err:
        jobs.run(env.database, "test.nope", T0, reg=reg)
    assert "未知的定时任务" in err.value.message and "test.named" in err.value.message


def test_feed_prune_is_the_first_registered_job_and_prunes(env):
    from tests.helpers import report

    assert jobs.registry().names()[0] == "feed.prune"
    assert jobs.registry().get("feed.prune").every == dt.timedelta(minutes=5)
    report(env)
    with env.database.write() as s:
        s.execute(update(ChangeLog).values(at=dt.datetime.now(dt.UTC)
                                           - dt.timedelta(hours=2)))
    fresh = report(env).case_id
    run = jobs.run(env.database, "feed.prune")
    assert run.outcome == "ok" and not run.backlog
    with env.database.read() as s:
        left = s.scalars(select(ChangeLog.entity_id).where(ChangeLog.entity == "case")).all()
    assert left == [fresh]


def test_feed_prune_reports_a_backlog_when_it_stops_at_its_limit(sqlite_env):
    from tests.helpers import report

    for _ in range(3):
        report(sqlite_env)
    with sqlite_env.database.write() as s:
        s.execute(update(ChangeLog).values(at=T0 - dt.timedelta(hours=2)))
    reg = jobs.Registry()
    jobs.register_feed_prune(reg, limit=2)
    assert jobs.run(sqlite_env.database, "feed.prune", T0, reg=reg).backlog
    while jobs.run(sqlite_env.database, "feed.prune", T0, reg=reg).backlog:
        pass
    with sqlite_env.database.read() as s:
        # Only the job's own feed rows (written after T0) are left.
        assert set(s.scalars(select(ChangeLog.entity))) == {"job_run"}


def test_registry_refuses_bad_names_and_duplicates_and_works_as_a_decorator():
    reg = jobs.Registry()

    @reg.register("reports.daily", every=dt.timedelta(hours=24), description="日报")
    def daily(db, now):
        return "done"

    assert reg.get("reports.daily").func is daily
    assert reg.get("reports.daily").schedule == "every 24 h"
    with pytest.raises(jobs.ValidationError):
        reg.register("reports.daily", every=60, func=daily)
    for bad in ("Reports", "a b", "../x", "", "x."):
        with pytest.raises(jobs.ValidationError):
            reg.register(bad, every=60, func=daily)
    with pytest.raises(jobs.ValidationError):
        reg.register("zero.interval", every=0, func=daily)
    assert jobs.Job("x", dt.timedelta(seconds=90), daily).schedule == "every 90 s"


def test_sqlite_locks_are_files_beside_the_database_and_in_memory_is_per_process(tmp_path):
    db_file = open_database(f"sqlite:///{tmp_path / 'ws.sqlite3'}")
    memory = open_database("sqlite://")
    try:
        assert jobs.lock_path(db_file, "feed.prune") == \
            tmp_path / "ws.sqlite3.locks" / "job-feed.prune.lock"
        with jobs.job_lock(db_file, "feed.prune") as got:
            assert got and (tmp_path / "ws.sqlite3.locks" / "job-feed.prune.lock").exists()
            with jobs.job_lock(db_file, "feed.prune") as again:  # a second opener: refused
                assert not again
            with jobs.job_lock(db_file, "other.job") as other:  # keyed on the name
                assert other
        assert jobs.lock_path(memory, "feed.prune") is None
        with jobs.job_lock(memory, "feed.prune") as got:
            assert got
            with jobs.job_lock(memory, "feed.prune") as again:
                assert not again
        with jobs.job_lock(memory, "feed.prune") as got:
            assert got
    finally:
        db_file.dispose()
        memory.dispose()
