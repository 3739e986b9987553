"""Engine and session set-up for SQLite (embedded) and PostgreSQL (shared control room).

Nothing here runs at import time: :func:`open_database` builds an engine when asked.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from db.core.audit_chain import SQLITE_FUNCTION, sha256_hex
from db.core.config import normalise_url
from db.core.errors import DatabaseBusy, is_database_busy

#: How long a SQLite writer waits for the file's write lock before it gives up with
#: :class:`DatabaseBusy` (SQLite's busy handler retries meanwhile).
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: ``FULL``: a commit is on disk when it returns, also after a power cut (``NORMAL`` in WAL
#: mode may lose the last commits then). What it costs: the ``sqlite`` section of ``cityops
#: bench`` (db.bench.sqlite).
SQLITE_SYNCHRONOUS = "FULL"
# libpq settings for a network that can go silent (packets dropped, no reset): connects time
# out, an idle peer is probed, and data left unacknowledged for 10 s breaks the connection
# instead of waiting out the kernel's retransmissions (~15 minutes).
PG_CONNECT_ARGS = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 10,
                   "keepalives_interval": 5, "keepalives_count": 3, "tcp_user_timeout": 10_000,
                   "options": "-c idle_in_transaction_session_timeout=300000 -c tcp_keepalives_idle=10"
                              " -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"}
# ``options``: the server's side of the same. A link that drops mid-write without a reset leaves
# the server's backend idle in its transaction, holding the request id's key and the case's row
# lock (db.core.requests); with PostgreSQL's defaults it stays so until the OS's 2-hour
# keepalive, every ask of the outcome times out and every other step on that case waits. The
# server now probes the silent peer as the client does (~25 s), and ends any transaction left
# idle for 5 minutes (far above a workflow step's pauses between statements).


def pg_connect_args(params: dict | None = None) -> dict:
    """psycopg's connect arguments: ``params`` (from the URL) with :data:`PG_CONNECT_ARGS`; a
    URL's own ``options`` are kept, after ours, so that they win where both set one."""
    params = dict(params or {})
    given = params.pop("options", None)
    args = {**params, **PG_CONNECT_ARGS}
    if given:
        args["options"] = f"{PG_CONNECT_ARGS['options']} {given}"
    return args


def _configure_sqlite(engine: Engine, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    """WAL, ``synchronous=FULL``, foreign keys, busy timeout, the audit chain's hash function;
    and transactions SQLAlchemy controls itself.

    pysqlite's own BEGIN handling is switched off (the documented SQLAlchemy recipe) so that a
    write transaction can start with ``BEGIN IMMEDIATE``: it takes the write lock at once, so
    a read-then-write step can never fail half-way with SQLITE_BUSY_SNAPSHOT.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute(f"PRAGMA synchronous = {SQLITE_SYNCHRONOUS}")
        cur.close()
        # The audit log's chain trigger hashes with it (db.core.audit_chain).
        dbapi_conn.create_function(SQLITE_FUNCTION, 1, sha256_hex, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        immediate = conn.get_execution_options().get("cityops_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# The write transaction an exactly-once request holds open (db.core.requests): a write inside it
# joins it instead of opening its own, so the request's row commits with the write or not at all.
_JOINED: ContextVar[tuple[Database, Session] | None] = ContextVar("cityops_joined_write",
                                                                    default=None)


@dataclass
class Database:
    """One database: its engine and session factories. Safe to share between threads;
    sessions are not (open one per unit of work)."""

    url: str
    engine: Engine
    _read: sessionmaker[Session] = field(repr=False)
    _write: sessionmaker[Session] = field(repr=False)
    #: Slow-changing data loaded once per process (calendar, grid shapes); see invalidate().
    cache: dict = field(default_factory=dict, repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; rolled back at the end."""
        with self._busy_declared(), self._read() as session:
            yield session

    @contextmanager
    def write(self, *, own: bool = False) -> Iterator[Session]:
        """One transaction: commit on success, roll back everything on any error.

        Inside :meth:`joined` it is that transaction instead (committed by whoever opened it),
        unless ``own``: a transaction of its own whatever is open (an ask that must roll back,
        :func:`db.core.requests.outcome`)."""
        joined = _JOINED.get()
        if joined is not None and joined[0] is self and not own:
            yield joined[1]
            return
        with self._busy_declared(), self._write() as session, session.begin():
            yield session

    @contextmanager
    def joined(self) -> Iterator[Session]:
        """A write transaction that every :meth:`write` opened inside it (in this thread or
        context) joins: one commit for all of them."""
        with self.write() as session:
            token = _JOINED.set((self, session))
            try:
                yield session
            finally:
                _JOINED.reset(token)

    @contextmanager
    def _busy_declared(self) -> Iterator[None]:
        """SQLite: a file still locked when the busy timeout runs out is :class:`DatabaseBusy`
        ("busy, try again"; nothing was written), whichever caller's transaction it hit, never
        a raw ``OperationalError: database is locked``. Most steps map errors themselves
        (:func:`db.core.errors.raise_mapped`); the sign-in gate, the job runner and the feed
        did not, so the one place every transaction passes through does it."""
        try:
            yield
        except DBAPIError as exc:
            if self.is_sqlite and is_database_busy(exc):
                raise DatabaseBusy() from exc
            raise

    def invalidate(self, *keys: str) -> None:
        """Forget cached reference data (all of it when no key is given)."""
        if keys:
            for key in keys:
                self.cache.pop(key, None)
        else:
            self.cache.clear()

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, echo: bool = False, migrate: bool = True,
                  sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Database:
    """Create the engine for ``url`` and, unless told not to, upgrade the schema to head.
    ``sqlite_busy_timeout_ms``: how long a SQLite writer waits its turn (tests shorten it)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # pysqlite's ``timeout`` and the pragma set the same busy handler: kept equal.
        engine = create_engine(url, echo=echo,
                               connect_args={"timeout": sqlite_busy_timeout_ms / 1000})
        _configure_sqlite(engine, sqlite_busy_timeout_ms)
        write_engine = engine.execution_options(cityops_write=True)
    else:
        # A control-room network can drop without a reset: time out connects and notice a dead
        # peer by TCP keepalive instead of hanging a worker for the OS default of hours.
        engine = create_engine(
            url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=5,
            connect_args=pg_connect_args(_url_options(url)),
        )
        write_engine = engine
    database = Database(
        url=url,
        engine=engine,
        _read=sessionmaker(engine, expire_on_commit=False),
        _write=sessionmaker(write_engine, expire_on_commit=False),
    )
    if migrate:
        from db.core.migrate import upgrade_to_head

        upgrade_to_head(database.engine)
    return database


def _url_options(url: str) -> dict:
    """The URL's own libpq ``options`` (``?options=-c%20…``), kept by :func:`pg_connect_args`."""
    from sqlalchemy.engine import make_url

    options = make_url(url).query.get("options")
    return {"options": options} if isinstance(options, str) else {}
