"""One clock: the database's.

Every event time the data layer writes (a case's report and steps, their history and audit
rows, deadlines, an alert's raise, acknowledgement and clearing, a sensor reading, a position
fix) is :func:`event_time`: the database server's clock, read inside the writing transaction.

* **PostgreSQL**: ``clock_timestamp()``, the server's wall clock at the moment of the call.
  ``now()`` would be the *transaction's* start: a step that waited on a row lock would be dated
  before the step it waited for. So the versioned write reads the clock *after* ``lock_row``.
* **SQLite** is an embedded store on one workstation: the database's clock is this machine's
  clock (:func:`db.models.utcnow`).

**Never backwards.** A record's event time is at least its last one (``floor``: the row's
``updated_at``, which every versioned write stamps together with its history row). Two servers'
clocks differ after a failover (a promoted standby a few seconds behind the old primary), and a
case whose history read "feedback 10:00:05, verified 10:00:02" would be wrong however small the
gap; the later event keeps the earlier one's time instead.

**A caller's time** (``now=``) is accepted only by a database that says so, and refused
(:class:`CallerTimeRefused`, ``caller_time_refused``) everywhere else, before anything is written:

* a **demo** database (:func:`db.demo.build.demo_marker`): the demo generator, the simulator's
  compressed time and the benchmark's shifts invent their own time line;
* the **demo builder's** own transaction (:func:`allow_caller_time_in`), before its database
  is marked demo. Code that holds a write session can write any row anyway: this lets it use
  the writers with its invented times, it opens nothing to a caller of the writers;
* a **test** database: a row in ``caller_time_allowed``. That table is read-only to the
  application role (:data:`db.admin.roles.READ_ONLY_TABLES`): only the owner or a superuser can
  add the row (the test fixtures do, as the owner), so a workstation, a gateway or anything
  else that connects as the application role cannot make a production database take its
  clock. On SQLite there are no roles: whoever holds the file holds the database.

The caller's time is then taken as given (the caller *is* the clock of a simulation), without
the floor.
"""
from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from db.core.errors import ValidationError
from db.core.timecheck import check_time
from db.models import CallerTimeAllowed, utcnow

#: A workstation whose clock differs from the database's by more than this shows a warning.
SKEW_WARNING = dt.timedelta(seconds=5)
_SESSION_KEY = "cityops.caller_time"  # session.info: why this session may take a caller's time


class CallerTimeRefused(ValidationError):
    """A caller gave an event time (``now=``) to a database that keeps its own clock."""

    code = "caller_time_refused"

    def __init__(self, message: str = "事件时间以数据库服务器时钟为准，不接受调用方给出的时间",
                 **params) -> None:
        super().__init__(message, field="now", **params)


def server_now(session: Session) -> dt.datetime:
    """The database's clock now, aware UTC (see the module docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        return session.scalar(text("SELECT clock_timestamp()")).astimezone(dt.UTC)
    return utcnow()


def server_now_value(session: Session):
    """:func:`server_now` as a value to write in a statement (no round trip of its own):
    ``clock_timestamp()`` on PostgreSQL, this machine's time on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return func.clock_timestamp()
    return utcnow()


def allow_caller_time_in(session: Session, why: str) -> None:
    """Let the writers take a caller's time in this one session (the demo builder's)."""
    session.info[_SESSION_KEY] = why


def accepts_caller_time(session: Session) -> bool:
    """Whether this database takes event times from its callers: demo or tests only."""
    from db.demo.build import demo_marker  # lazily: the demo builder imports the writers using us

    if session.info.get(_SESSION_KEY):
        return True
    if session.scalar(select(CallerTimeAllowed.id).limit(1)) is not None:
        return True
    return demo_marker(session) is not None


def require_caller_time(session: Session) -> None:
    """Refuse (:class:`CallerTimeRefused`) a caller's time on a database that keeps its own."""
    if not accepts_caller_time(session):
        raise CallerTimeRefused()


def event_time(session: Session, now: dt.datetime | None = None, *,
               floor: dt.datetime | None = None) -> dt.datetime:
    """The time of the event this transaction writes: the database's clock, raised to
    ``floor`` (the record's last event time) so that a record's times never go backwards; or
    the caller's ``now`` where the database accepts one (module docstring)."""
    if now is not None:
        now = check_time(now)
        require_caller_time(session)
        return now
    at = server_now(session)
    return floor if floor is not None and floor > at else at


def measure_offset(database) -> tuple[float, float]:
    """``(offset, round_trip)`` in seconds: the database's clock minus this machine's, with the
    query's round trip halved out (the server read its clock about half-way). Zero on SQLite,
    whose clock is this machine's. For the workstation's clock warning and countdowns."""
    if not database.is_postgres:
        return 0.0, 0.0
    with database.engine.connect() as conn:
        conn.execute(text("SELECT 1"))  # the connection is there: time only the clock query
        sent = time.time()
        server = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
        back = time.time()
    round_trip = back - sent
    return server.timestamp() - (sent + round_trip / 2), round_trip


__all__ = ["SKEW_WARNING", "CallerTimeRefused", "accepts_caller_time", "allow_caller_time_in",
           "event_time", "measure_offset", "require_caller_time", "server_now", "server_now_value"]
