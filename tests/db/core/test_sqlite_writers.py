"""Many writers on one SQLite file (issue 13, item 6): each waits its turn for the write lock,
and one whose wait runs out gets the declared "busy, try again" (:class:`DatabaseBusy`, code
``database_busy``), never a raw ``OperationalError: database is locked``; nothing half-written.

Every writer is a thread with a :class:`Database` (engine, pool, SQLite connection) of its own,
as 32 workstations or gateways on one file would be. The raw error comes when a wait runs out:
reproduced before the fix with 32 such threads, four writes each of rotating kinds, under a
20 ms busy timeout: 30 of 32 sign-in attempts and 5 of 32 job runs ended in
``sqlalchemy.exc.OperationalError: database is locked`` (raised by ``BEGIN IMMEDIATE`` in paths
that did not map errors themselves), while the workflow's steps already said DatabaseBusy. With
the 10 s timeout, 32 threads (3 closed loops each) and 32 processes (5 each) got no error at all.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from db.auth import signin
from db.cases.workflow import Step
from db.core import jobs
from db.core.engine import open_database
from db.core.errors import DatabaseBusy
from db.models import AuditLog, Case, CaseHistory, SignInFailure
from tests.conftest import Env
from tests.helpers import report, take

WRITERS = 32


def _counts(database) -> dict[str, int]:
    with database.read() as s:
        return {name: s.scalar(select(func.count()).select_from(table))
                for name, table in (("case", Case), ("history", CaseHistory),
                                    ("audit", AuditLog), ("sign_in", SignInFailure))}


def _run_writers(sqlite_env, work, *, timeout_ms: int | None = None) -> tuple[Counter, list]:
    """Start WRITERS threads together, each with its own Database on the same file, each
    running ``work(env, i)``; return the outcomes by kind and the unexpected exceptions."""
    url = sqlite_env.database.url
    outcomes: Counter = Counter()
    unexpected: list[BaseException] = []
    guard = threading.Lock()
    start = threading.Barrier(WRITERS)
    kwargs = {} if timeout_ms is None else {"sqlite_busy_timeout_ms": timeout_ms}
    databases = [open_database(url, migrate=False, **kwargs) for _ in range(WRITERS)]

    def one(i: int) -> None:
        env = Env(databases[i], sqlite_env.users, sqlite_env.city_id, "sqlite")
        start.wait()
        try:
            kind = work(env, i)
        except DatabaseBusy as exc:
            assert exc.code == "database_busy"
            kind = "busy"
        except BaseException as exc:  # noqa: BLE001 - what the test is about
            with guard:
                unexpected.append(exc)
            return
        with guard:
            outcomes[kind] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for database in databases:
        database.dispose()
    return outcomes, unexpected


def test_32_writers_on_one_file_wait_their_turn(sqlite_env):
    """32 workstations each report a case and take it two steps on, all at once, with the
    default busy timeout (10 s): every writer waits its turn. A writer that did not get the
    lock in time would be a DatabaseBusy (counted, allowed); anything else fails the test.
    Rows: each successful write adds one history and one audit row, a report also one case."""
    before = _counts(sqlite_env.database)
    writes = Counter()
    lock = threading.Lock()

    def work(env, i):
        result = report(env, description=f"并发写入测试 {i}")
        with lock:
            writes["report"] += 1
        for step in (Step.ACCEPT, Step.OPEN):
            result = take(env, result, step)
            with lock:
                writes["step"] += 1
        return "done"

    outcomes, unexpected = _run_writers(sqlite_env, work)
    assert unexpected == []
    assert outcomes["done"] + outcomes["busy"] == WRITERS
    after = _counts(sqlite_env.database)
    assert after["case"] - before["case"] == writes["report"]
    assert after["history"] - before["history"] == writes["report"] + writes["step"]
    assert after["audit"] - before["audit"] == writes["report"] + writes["step"]
    # On an idle machine 10 s is ample for 96 short transactions: all of them got through.
    assert outcomes["done"] == WRITERS, outcomes


def _mixed(env, i, pending):
    """One writer of four kinds, by ``i``: a report, a workflow step, a sign-in attempt
    (the gate counts it before the password is checked) and a run of the job runner."""
    kind = ("report", "step", "sign_in", "job")[i % 4]
    if kind == "report":
        report(env, description=f"忙碌测试 {i}")
    elif kind == "step":
        take(env, pending[i], Step.ACCEPT)
    elif kind == "sign_in":
        signin.reserve(env.database, f"someone{i}", f"desk{i}", dt.datetime.now(dt.UTC))
    else:  # "job_busy": another writer held the job's own lock, so this one did not run it
        return f"job_{jobs.run(env.database, 'feed.prune').outcome}"
    return kind


def test_a_writer_whose_wait_runs_out_gets_database_busy_and_writes_nothing(sqlite_env):
    """Another connection holds the write lock throughout (a long import, a backup by hand):
    with a 200 ms busy timeout all 32 writers, of every kind, give up with DatabaseBusy, none
    with another exception, and not one row was added. Once the lock is gone the same 32
    writers all succeed: 8 reports + 8 steps → 16 history and audit rows, 8 cases; 8 sign-in
    attempts → 2 counter rows each (account and workstation) = 16; of the 8 job runs at least
    one runs (their job_state row is not counted here)."""
    pending = {i: report(sqlite_env, description=f"待受理 {i}") for i in range(1, WRITERS, 4)}
    before = _counts(sqlite_env.database)

    def work(env, i):
        return _mixed(env, i, pending)

    path = sqlite_env.database.engine.url.database
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        outcomes, unexpected = _run_writers(sqlite_env, work, timeout_ms=200)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert unexpected == [], [repr(e) for e in unexpected]
    # The 8 job runners: whoever got the job's lock waited for the file and got DatabaseBusy;
    # the others found the job's lock taken and skipped it (outcome "busy", nothing run).
    assert set(outcomes) <= {"busy", "job_busy"} and outcomes["job_busy"] <= 7, outcomes
    assert outcomes["busy"] + outcomes["job_busy"] == WRITERS and outcomes["busy"] >= 25
    assert _counts(sqlite_env.database) == before

    outcomes, unexpected = _run_writers(sqlite_env, work)
    assert unexpected == [], [repr(e) for e in unexpected]
    assert (outcomes["report"], outcomes["step"], outcomes["sign_in"]) == (8, 8, 8), outcomes
    assert outcomes["job_ok"] >= 1 and outcomes["job_ok"] + outcomes["job_busy"] == 8, outcomes
    after = _counts(sqlite_env.database)
    assert after == {"case": before["case"] + 8, "history": before["history"] + 16,
                     "audit": before["audit"] + 16, "sign_in": before["sign_in"] + 16}


def test_reads_past_the_timeout_are_declared_busy_too(sqlite_env):
    """An exclusive lock (what a checkpoint-truncate or a rollback-journal writer holds) keeps
    readers out as well: the read session says DatabaseBusy, not a raw error."""
    database = open_database(sqlite_env.database.url, migrate=False, sqlite_busy_timeout_ms=100)
    path = sqlite_env.database.engine.url.database
    sqlite_env.database.dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseBusy), database.read() as s:
            s.scalar(select(func.count()).select_from(Case))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        database.dispose()
