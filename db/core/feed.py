"""The change feed: tell every workstation what changed, by id, in commit order.

Writers call :func:`publish` inside their transaction. It appends rows to ``change_log`` (on
both engines) and, on PostgreSQL, sends ``NOTIFY cityops_changes`` with ids only; the notice is
delivered at commit, so nobody hears of a change that was rolled back.

Readers follow ``change_log.seq`` with :class:`ChangeFollower`. Because every change has a row,
a reader that was disconnected catches up by reading ``seq > last_seen``; NOTIFY only wakes it
early. On PostgreSQL a transaction-scoped advisory lock makes sequence order equal commit order,
so a reader can never see seq N+1 committed while N is still to come and skip N.

The log is kept for :data:`RETENTION` (an hour): :func:`prune_expired` drops older rows, a
bounded number per transaction so a writer never waits long behind it. It runs as the scheduled
job ``feed.prune`` (:mod:`db.core.jobs`, every 5 minutes on one workstation); on PostgreSQL its
own try-lock also keeps any other caller from pruning at the same moment. A follower that was
away longer than that is told to reload.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import select as _select
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db.core.backoff import Backoff
from db.core.engine import Database, pg_connect_args
from db.core.entities import Entity
from db.models import ChangeLog, utcnow

log = logging.getLogger(__name__)

try:  # the LISTEN connection is plain psycopg, whose errors SQLAlchemy does not wrap
    from psycopg import Error as _PsycopgError
except ImportError:  # pragma: no cover - psycopg is a dependency
    _PsycopgError = DBAPIError
_CONNECTION_ERRORS = (DBAPIError, OSError, _PsycopgError)

CHANNEL = "cityops_changes"
FEED_LOCK_KEY = 0x43_49_54_59  # "CITY": the advisory lock that orders change_log inserts
MAX_PAYLOAD_IDS = 200  # NOTIFY payloads must stay under 8000 bytes
FETCH_BATCH = 5000
PRUNE_LOCK_KEY = 0x43_49_54_50  # "CITP": one pruner at a time across workstations
RETENTION = dt.timedelta(hours=1)
PRUNE_CHUNK = 20_000  # rows deleted per transaction
RECONNECT_CAP_S = 5.0  # longest wait between two tries at a lost database (full jitter below it)


@dataclass(frozen=True)
class Change:
    seq: int
    at: dt.datetime
    entity: str
    entity_id: int | None
    op: str


RELOAD = "reload"  # op of a change that says "re-read everything of this entity"


def publish(session: Session, entity: Entity, ids: Iterable[int | None],
            op: str = "update") -> None:
    """Record that ``ids`` of ``entity`` changed, in the caller's transaction. ``entity`` is
    an :class:`~db.core.entities.Entity`: a free name nobody subscribes to is refused."""
    if not isinstance(entity, Entity):
        raise TypeError(f"feed.publish takes an Entity, not {entity!r}")
    entity = entity.value
    ids = list(ids)
    if not ids:
        return
    is_pg = session.get_bind().dialect.name == "postgresql"
    if is_pg:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FEED_LOCK_KEY})
    now = utcnow()
    session.execute(
        insert(ChangeLog), [{"at": now, "entity": entity, "entity_id": i, "op": op} for i in ids]
    )
    if is_pg:
        payload = {"e": entity, "op": op}
        if len(ids) <= MAX_PAYLOAD_IDS:
            payload["ids"] = ids
        else:
            payload["n"] = len(ids)
        session.execute(select(func.pg_notify(CHANNEL, json.dumps(payload))))


def latest_seq(session: Session) -> int:
    return session.scalar(select(func.coalesce(func.max(ChangeLog.seq), 0))) or 0


def prune(session: Session, older_than: dt.datetime) -> int:
    """Drop the change log's oldest rows, up to the last one written before ``older_than``.

    Always a contiguous prefix of ``seq`` (never holes in the middle, whatever the writers'
    clocks said), so a follower can tell it fell behind; it then reloads.
    """
    cut = session.scalar(select(func.max(ChangeLog.seq)).where(ChangeLog.at < older_than))
    if cut is None:
        return 0
    result = session.execute(ChangeLog.__table__.delete().where(ChangeLog.seq <= cut))
    return result.rowcount or 0


def prune_expired(database: Database, retention: dt.timedelta = RETENTION,
                  now: dt.datetime | None = None, limit: int | None = None) -> int:
    """Drop change-log rows older than ``retention``, :data:`PRUNE_CHUNK` rows per
    transaction, at most ``limit`` rows in this call (the rest are left for the next);
    return how many went (0 when another workstation is pruning right now)."""
    cutoff = (now or utcnow()) - retention
    with database.read() as session:
        cut = session.scalar(select(func.max(ChangeLog.seq)).where(ChangeLog.at < cutoff))
        oldest = session.scalar(select(func.min(ChangeLog.seq)))
    if cut is None or oldest is None:
        return 0
    removed = 0
    while oldest <= cut and (limit is None or removed < limit):
        step = PRUNE_CHUNK if limit is None else min(PRUNE_CHUNK, limit - removed)
        upto = min(cut, oldest + step - 1)
        with database.write() as session:
            if database.is_postgres and not session.scalar(
                    select(func.pg_try_advisory_xact_lock(PRUNE_LOCK_KEY))):
                return removed
            # Always a prefix of seq: never holes in the middle (see prune).
            result = session.execute(ChangeLog.__table__.delete().where(ChangeLog.seq <= upto))
            removed += result.rowcount or 0
        oldest = upto + 1
    return removed


def listen_connect_args(database: Database) -> dict:
    """psycopg's arguments for a connection of its own to ``database``, as the engine's dialect
    makes them from the URL: a multi-host URL (``?host=a:5432&host=b:5432``) becomes libpq's
    host and port lists, and ``target_session_attrs=read-write`` comes along, so the LISTEN
    connection finds the primary after a failover exactly as the engine's connections do (a
    URL rendered back to a string would hand libpq ``host=a:5432`` as one host name)."""
    engine = database.engine
    _args, params = engine.dialect.create_connect_args(engine.url)
    return pg_connect_args(params)


class ChangeFollower:
    """Follows the change feed from a point, surviving disconnects without missing a change.

    ``wait(timeout)`` returns the changes after the last one returned (possibly none). While the
    database is unreachable it returns ``[]`` and :attr:`connected` is False; the first call
    after the database is back returns everything committed meanwhile. While it is down the
    tries are spaced by :attr:`backoff` (five poll intervals doubling up to
    :data:`RECONNECT_CAP_S`, full jitter), so that every workstation of a control room does not
    knock on a restarted server at the same moments. Not thread-safe: one follower per thread
    (the desktop runs one in a worker thread).
    """

    def __init__(self, database: Database, since: int | None = None, *,
                 poll_interval: float = 0.1) -> None:
        self.database = database
        self.poll_interval = poll_interval
        self._listen_conn = None
        self.connected = False
        self.down_since: float | None = None
        first = poll_interval * 5
        self.backoff = Backoff(min(first, RECONNECT_CAP_S), max(first, RECONNECT_CAP_S))
        self._retry_at = 0.0  # time.monotonic() of the next try while disconnected
        self.last_seq = since if since is not None else self._current_seq()

    # -- public ------------------------------------------------------------------------
    def fetch(self) -> list[Change]:
        """Everything after :attr:`last_seq`, now, without waiting.

        :attr:`last_seq` moves only once the read session closed cleanly: rows read just before
        the connection broke (a failover at that moment) were never returned, so they are read
        again rather than skipped."""
        out: list[Change] = []
        last = self.last_seq
        with self.database.read() as session:
            oldest, newest = session.execute(
                select(func.min(ChangeLog.seq), func.max(ChangeLog.seq))).one()
            if newest is not None and newest < last:
                # The log is behind us: the database was restored or replaced. Start over.
                out.append(Change(newest, utcnow(), "*", None, RELOAD))
                last = newest
            elif oldest is not None and oldest > last + 1:
                # Rows we have not seen were pruned: tell the reader to reload everything.
                out.append(Change(oldest - 1, utcnow(), "*", None, RELOAD))
            while True:
                rows = session.execute(
                    select(ChangeLog.seq, ChangeLog.at, ChangeLog.entity, ChangeLog.entity_id,
                           ChangeLog.op)
                    .where(ChangeLog.seq > last)
                    .order_by(ChangeLog.seq)
                    .limit(FETCH_BATCH)
                ).all()
                out.extend(Change(*r) for r in rows)
                if rows:
                    last = rows[-1][0]
                if len(rows) < FETCH_BATCH:
                    break
        self.last_seq = last
        return out

    def wait(self, timeout: float = 1.0) -> list[Change]:
        """Block up to ``timeout`` seconds for changes; return them (or ``[]``)."""
        deadline = time.monotonic() + timeout
        if not self.connected and time.monotonic() < self._retry_at:
            _sleep_until(min(self._retry_at, deadline))
            if time.monotonic() < self._retry_at:
                return []  # not time for the next try yet
        try:
            if not self.connected:
                self._connect()
            self._wait_for_notice(0)  # a listener the server dropped shows up here, at once
            changes = self.fetch()
            while not changes and time.monotonic() < deadline:
                self._wait_for_notice(min(deadline - time.monotonic(), 1.0))
                changes = self.fetch()
            return changes
        except _CONNECTION_ERRORS as exc:
            self._disconnect(exc)
            self._retry_at = time.monotonic() + self.backoff.next_delay()
            _sleep_until(min(self._retry_at, deadline))
            return []

    def close(self) -> None:
        if self._listen_conn is not None:
            try:
                self._listen_conn.close()
            except Exception:  # closing a broken connection may itself fail
                pass
            self._listen_conn = None
        self.connected = False

    # -- internals ---------------------------------------------------------------------
    def _current_seq(self) -> int:
        with self.database.read() as session:
            return latest_seq(session)

    def _connect(self) -> None:
        if self.database.is_postgres:
            import psycopg

            conn = psycopg.connect(autocommit=True, **listen_connect_args(self.database))
            conn.execute(f"LISTEN {CHANNEL}")
            self._listen_conn = conn
        else:
            # A cheap round trip proves the file is readable.
            with self.database.read() as session:
                session.execute(text("SELECT 1"))
        if not self.connected and self.down_since is not None:
            log.info("change feed reconnected after %.1f s (%d tries)",
                     time.monotonic() - self.down_since, self.backoff.attempts)
        self.backoff.reset()
        self.connected = True
        self.down_since = None

    def _disconnect(self, exc: BaseException) -> None:
        if self.connected:
            log.warning("change feed lost the database: %s", exc)
            self.down_since = time.monotonic()
        elif self.down_since is None:
            self.down_since = time.monotonic()
        self.close()

    def _wait_for_notice(self, seconds: float) -> None:
        """Sleep until a NOTIFY arrives or ``seconds`` pass (SQLite: one poll interval)."""
        conn = self._listen_conn
        if conn is None:
            if seconds > 0:
                time.sleep(min(seconds, self.poll_interval))
            return
        # Wait on the socket rather than with psycopg's notifies() generator so that a
        # terminated connection shows up as an error here, not as a silent hang.
        ready, _, _ = _select.select([conn.fileno()], [], [], seconds)
        if ready:
            for _notice in conn.notifies(timeout=0):  # drain; the payload only wakes us
                pass
            conn.execute("SELECT 1")  # a terminated connection raises here, not hangs


def _sleep_until(when: float) -> None:
    wait = when - time.monotonic()
    if wait > 0:
        time.sleep(wait)
