"""Scheduled work, in one place: jobs registered by name, each run once a period by whichever
workstation gets to it first.

A job is a function ``func(database, now)`` registered with a name and an interval::

    from db.core.jobs import register

    @register("cases.escalate", every=dt.timedelta(minutes=1), description="…")
    def escalate(database, now): ...

Every workstation's change-feed thread calls :func:`run_due` now and then
(``desktop.core.live``); ``cityops jobs run NAME`` calls :func:`run`. To keep a job to one
workstation per period:

1. the job's lock is tried, never waited for: on PostgreSQL a session advisory lock keyed on the
   job name (``pg_try_advisory_lock``; the server drops it if the workstation dies), on SQLite an
   ``flock`` on a file beside the database (``<file>.locks/job-<name>.lock``; the kernel drops
   it with the process), for an in-memory database a lock in this process. Whoever does not get
   it skips the job;
2. holding the lock, the job's row in ``job_state`` is read again: a workstation that saw the
   job due a moment ago finds it just done by another one and skips it.

The row records the last start, finish, outcome (``ok`` / ``failed``), error text and a run
count. A job is due at its last finish (or, for a run that never finished, its last start) plus
its interval. A failing job is logged with its traceback, recorded with its error and published
on the change feed (entity ``job_run``, the row's id) so a window can show it to an
administrator; it never stops the other jobs.

A job runs on the caller's thread: on a workstation that is the feed thread, whose heartbeat
must keep going, so a job should finish within a second or two (do big work in bounded slices,
as ``feed.prune`` does, and let the next period continue).

Modules that register jobs are listed in :data:`JOB_MODULES`; :func:`registry` imports them,
so every workstation and ``cityops jobs`` see the same set.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import logging
import os
import re
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from db.core import feed
from db.core.dbclock import server_now
from db.core.engine import Database
from db.core.entities import Entity
from db.core.errors import NotFound, ValidationError
from db.models import JobState

log = logging.getLogger(__name__)

JobFunc = Callable[[Database, dt.datetime], object]
OK = "ok"
FAILED = "failed"
BUSY = "busy"  # another workstation holds the job's lock: not run here
NOT_DUE = "not_due"  # another workstation ran it meanwhile
FEED_ENTITY = Entity.JOB_RUN
ERROR_LIMIT = 8000  # characters of error text kept in the row
_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
#: Modules whose import registers jobs (beside the built-in ones at the end of this module).
JOB_MODULES: tuple[str, ...] = ("db.core.requests", "db.admin.nightly")


class UnknownJob(NotFound):
    code = "unknown_job"

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"未知的定时任务：{name}（可用：{', '.join(known) or '无'}）",
                         name=name, known=known)
        self.name = name


@dataclass(frozen=True)
class Job:
    name: str
    every: dt.timedelta
    func: JobFunc
    description: str = ""

    @property
    def schedule(self) -> str:
        """``every 5 min``, ``every 30 s``, ``every 2 h``."""
        seconds = self.every.total_seconds()
        for unit, size in (("h", 3600), ("min", 60)):
            if seconds >= size and seconds % size == 0:
                return f"every {int(seconds // size)} {unit}"
        return f"every {seconds:g} s"


class Registry:
    """Jobs by name. :data:`REGISTRY` is the application's; tests and benchmarks make their own."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def register(self, name: str, every: dt.timedelta | float, func: JobFunc | None = None, *,
                 description: str = "", replace: bool = False):
        """Add a job; ``every`` is a timedelta or seconds. Without ``func``, a decorator."""
        if func is None:
            def decorator(f: JobFunc) -> JobFunc:
                self.register(name, every, f, description=description, replace=replace)
                return f
            return decorator
        if not _NAME.match(name) or len(name) > 80:
            raise ValidationError(f"任务名称不合规：{name!r}（小写字母、数字、下划线，以点分段）",
                                  name=name)
        if not isinstance(every, dt.timedelta):
            every = dt.timedelta(seconds=every)
        if every <= dt.timedelta(0):
            raise ValidationError(f"任务 {name} 的间隔必须大于零", name=name)
        if name in self._jobs and not replace:
            raise ValidationError(f"任务 {name} 已注册", name=name)
        self._jobs[name] = Job(name, every, func, description)
        return func

    def get(self, name: str) -> Job:
        try:
            return self._jobs[name]
        except KeyError:
            raise UnknownJob(name, self.names()) from None

    def names(self) -> list[str]:
        return list(self._jobs)

    def __iter__(self) -> Iterator[Job]:
        return iter(list(self._jobs.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._jobs

    def __len__(self) -> int:
        return len(self._jobs)


REGISTRY = Registry()


def register(name: str, every: dt.timedelta | float, func: JobFunc | None = None, *,
             description: str = ""):
    """Add a job to the application's registry: ``register("reports.daily", 3600, make)`` or
    as a decorator. Add the module to :data:`JOB_MODULES` so every process imports it."""
    return REGISTRY.register(name, every, func, description=description)


def registry() -> Registry:
    """The application's registry with every job module imported."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    return REGISTRY


# -- results -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Backlog:
    """What a job returns when it stopped at its per-run limit with work left: the caller may
    run it again soon (:func:`run`) instead of waiting for the next period."""

    detail: str

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True)
class JobRun:
    """What one attempt did. ``outcome``: ok, failed, busy (locked elsewhere), not_due."""

    name: str
    outcome: str
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    error: str | None = None
    result: object = None

    @property
    def ran(self) -> bool:
        return self.outcome in (OK, FAILED)

    @property
    def backlog(self) -> bool:
        return isinstance(self.result, Backlog)


@dataclass(frozen=True)
class JobStatus:
    """One job as ``cityops jobs list`` shows it."""

    name: str
    schedule: str | None  # None: a row of a job this version does not register
    every_seconds: float | None
    description: str
    last_started_at: dt.datetime | None
    last_finished_at: dt.datetime | None
    outcome: str | None
    error: str | None
    run_count: int
    due_at: dt.datetime | None  # None: never run, due now

    @property
    def running(self) -> bool:
        """Started after its last finish: running now, or cut short."""
        return self.last_started_at is not None and (
            self.last_finished_at is None or self.last_started_at > self.last_finished_at)

    def as_json(self) -> dict:
        iso = lambda t: t.isoformat() if t else None  # noqa: E731
        return {"name": self.name, "schedule": self.schedule, "every_seconds": self.every_seconds,
                "description": self.description, "last_started_at": iso(self.last_started_at),
                "last_finished_at": iso(self.last_finished_at), "outcome": self.outcome,
                "error": self.error, "run_count": self.run_count, "due_at": iso(self.due_at),
                "running": self.running}


def due_at(state: JobState | None, every: dt.timedelta) -> dt.datetime | None:
    """When the job is next due; None when it never ran (due now)."""
    if state is None:
        return None
    last = state.last_finished_at or state.last_started_at
    if state.last_started_at and last and state.last_started_at > last:
        last = state.last_started_at  # a run that never finished
    return None if last is None else last + every


def status(database: Database, reg: Registry | None = None) -> list[JobStatus]:
    """Every registered job with its last run, then rows of jobs no longer registered."""
    reg = reg if reg is not None else registry()
    with database.read() as session:
        rows = {r.name: r for r in session.scalars(select(JobState).order_by(JobState.name))}
    out = []
    for job in reg:
        row = rows.pop(job.name, None)
        out.append(_status(job.name, row, job))
    out.extend(_status(name, row, None) for name, row in rows.items())
    return out


def _status(name: str, row: JobState | None, job: Job | None) -> JobStatus:
    return JobStatus(
        name=name, schedule=job.schedule if job else None,
        every_seconds=job.every.total_seconds() if job else None,
        description=job.description if job else "",
        last_started_at=row.last_started_at if row else None,
        last_finished_at=row.last_finished_at if row else None,
        outcome=row.last_outcome if row else None, error=row.last_error if row else None,
        run_count=row.run_count if row else 0,
        due_at=due_at(row, job.every) if (row is not None and job) else None)


# -- running -------------------------------------------------------------------------------

def run_due(database: Database, now: dt.datetime | None = None, *,
            reg: Registry | None = None) -> list[JobRun]:
    """Run every job that is due at ``now`` (default: the clock) and whose lock this process
    gets; return what ran. A failing job is recorded and logged and the others still run.
    Tests pass ``now``; otherwise each job is stamped with the database's clock when it starts
    (:func:`clock`)."""
    given, now = now, now or clock(database)
    reg = reg if reg is not None else registry()
    with database.read() as session:  # a cheap look first: no lock is tried for a job not due
        rows = {r.name: r for r in session.scalars(select(JobState))}
    runs = []
    for job in reg:
        due = due_at(rows.get(job.name), job.every)
        if due is not None and due > now:
            continue
        try:
            outcome = _attempt(database, job, given or max(now, clock(database)), force=False)
        except Exception:  # the database itself failed (not the job): the next job may work
            log.exception("scheduled job %s could not be run", job.name)
            continue
        if outcome.ran:
            runs.append(outcome)
    return runs


def run(database: Database, name: str, now: dt.datetime | None = None, *,
        reg: Registry | None = None) -> JobRun:
    """Run one job now, due or not, unless another workstation is running it (``busy``).
    Raises :class:`UnknownJob` for a name nobody registered."""
    reg = reg if reg is not None else registry()
    return _attempt(database, reg.get(name), now or clock(database), force=True)


def clock(database: Database) -> dt.datetime:
    """The database's clock (db.core.dbclock), which jobs are due and stamped by: every
    workstation runs them, and one whose clock ran a month ahead would otherwise stamp a run a
    month ahead and stop the job (the nightly backup) for everyone until then."""
    with database.read() as session:
        return server_now(session)


def _attempt(database: Database, job: Job, now: dt.datetime, *, force: bool) -> JobRun:
    with job_lock(database, job.name) as locked:
        if not locked:
            return JobRun(job.name, BUSY)
        state_id = _claim(database, job, now, force)
        if state_id is None:
            return JobRun(job.name, NOT_DUE)
        started = time.monotonic()
        error = result = None
        try:
            result = job.func(database, now)
        except Exception as exc:
            log.exception("scheduled job %s failed", job.name)
            error = _error_text(exc)
        finished = now + dt.timedelta(seconds=time.monotonic() - started)
        outcome = OK if error is None else FAILED
        _finish(database, state_id, finished, outcome, error)
        if outcome == OK:
            log.info("scheduled job %s done (%s)", job.name, result)
        return JobRun(job.name, outcome, now, finished, error, result)


def _claim(database: Database, job: Job, now: dt.datetime, force: bool) -> int | None:
    """Under the lock: check again that the job is due, and record its start."""
    with database.write() as session:
        row = session.scalar(select(JobState).where(JobState.name == job.name))
        if row is None:
            row = JobState(name=job.name, run_count=0)
            session.add(row)
        elif not force and (due := due_at(row, job.every)) is not None and due > now:
            return None
        row.last_started_at = now
        session.flush()
        return row.id


def _finish(database: Database, state_id: int, finished: dt.datetime, outcome: str,
            error: str | None) -> None:
    with database.write() as session:
        row = session.get(JobState, state_id)
        row.last_finished_at = finished
        row.last_outcome = outcome
        row.last_error = error
        row.run_count = JobState.run_count + 1
        feed.publish(session, FEED_ENTITY, [state_id])


def _error_text(exc: BaseException) -> str:
    head = f"{type(exc).__name__}: {exc}"
    tb = "".join(traceback.format_exception(exc))
    text = f"{head}\n\n{tb}"
    return text if len(text) <= ERROR_LIMIT else text[:ERROR_LIMIT - 1] + "…"


# -- locks ---------------------------------------------------------------------------------

def lock_key(name: str) -> int:
    """The job's PostgreSQL advisory-lock key: a stable signed 64-bit hash of its name."""
    digest = hashlib.blake2b(f"cityops.job:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def job_lock(database: Database, name: str) -> Iterator[bool]:
    """Try the job's lock without waiting; yield whether this caller holds it."""
    if database.is_postgres:
        with _pg_lock(database, name) as got:
            yield got
        return
    path = lock_path(database, name)
    if path is None:
        with _process_lock(database.url, name) as got:
            yield got
        return
    with _file_lock(path) as got:
        yield got


@contextmanager
def _pg_lock(database: Database, name: str) -> Iterator[bool]:
    key = lock_key(name)
    conn = database.engine.connect()
    try:
        got = bool(conn.scalar(select(func.pg_try_advisory_lock(key))))
        conn.commit()  # not left idle in a transaction while the job runs
        if not got:
            yield False
            return
        try:
            yield True
        finally:
            try:
                conn.scalar(select(func.pg_advisory_unlock(key)))
                conn.commit()
            except Exception:  # a broken session: the server drops its locks with it
                log.warning("advisory lock of job %s not released; dropping the connection", name)
                conn.invalidate()
    finally:
        conn.close()


def lock_path(database: Database, name: str) -> Path | None:
    """The lock file of a job on a SQLite file; None for an in-memory or temporary database."""
    db_file = database.engine.url.database
    if not db_file or db_file == ":memory:" or db_file.startswith("file::memory:") \
            or "mode=memory" in db_file:
        return None
    if db_file.startswith("file:"):
        db_file = db_file[len("file:"):].split("?", 1)[0]
    path = Path(db_file).resolve()
    return path.parent / f"{path.name}.locks" / f"job-{name}.lock"


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    # Opened afresh each time: flock belongs to the open file, so two threads of one process
    # exclude each other as two processes do. The file is never deleted (that would race).
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


_process_locks: dict[tuple[str, str], threading.Lock] = {}
_process_locks_guard = threading.Lock()


@contextmanager
def _process_lock(url: str, name: str) -> Iterator[bool]:
    """An in-memory database lives in one process: a lock in this process is enough."""
    with _process_locks_guard:
        lock = _process_locks.setdefault((url, name), threading.Lock())
    if not lock.acquire(blocking=False):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


# -- the built-in jobs ---------------------------------------------------------------------

PRUNE_EVERY = dt.timedelta(minutes=5)
PRUNE_LIMIT = 100_000  # rows a run at most (~1 s): the feed thread must keep its heartbeat


def register_feed_prune(reg: Registry, every: dt.timedelta | float = PRUNE_EVERY,
                        retention: dt.timedelta = feed.RETENTION, *,
                        limit: int = PRUNE_LIMIT) -> None:
    """``feed.prune``: drop change-log rows older than ``retention`` (at most ``limit`` a run;
    a backlog goes over the next runs)."""
    def prune(database: Database, now: dt.datetime) -> str | Backlog:
        removed = feed.prune_expired(database, retention, now=now, limit=limit)
        if removed >= limit:  # months unpruned: the feed thread comes back in a moment
            return Backlog(f"{removed} change-log rows pruned, more left")
        return f"{removed} change-log rows pruned"

    reg.register("feed.prune", every, prune, replace=True,
                 description=f"drop change-log rows older than {retention}")


register_feed_prune(REGISTRY)
