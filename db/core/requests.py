"""Exactly once: every write carries a request id the client made, kept with its result.

A link that drops during or right after COMMIT leaves the client not knowing whether its write
happened. Guessing either way is wrong: "not done" makes the officer do it again (a second
case), "done" may hide a lost action. So:

1. The client makes a request id (:func:`new_request_id`) for each action it asks for and
   keeps it; sending the action again (a retry) sends the same id.
2. A write function decorated with :func:`exactly_once` takes ``request_id=``. In one
   transaction (:meth:`~db.core.engine.Database.joined`, which the function's own
   ``database.write()`` joins) it first inserts the id into ``request_log`` (``ON CONFLICT DO
   NOTHING``), then runs the write, then stores the write's result (as JSON, rebuilt into the
   function's return type) in that row. The row commits with the write or not at all.
3. An id already in the log is a retry: the first result is returned and nothing is written
   again. An id under which another account or another operation was recorded is refused
   (``request_id_reused``) and nothing is written or revealed.
4. When the link is lost anywhere in the write, COMMIT included, the decorator asks the
   database what happened (:func:`outcome`) on a new connection: the same insert, rolled back,
   which waits for the first transaction if the server is still finishing it (the id's unique
   key is held by it). The id in the log means done: the first result is returned as if
   nothing had gone wrong. Absent means not done, for certain (the write's transaction cannot
   commit later: its COMMIT was never sent, since the id goes in first):
   :class:`~db.core.errors.DatabaseUnavailable`, "nothing was written". If the database
   cannot be reached to ask, :class:`OutcomeUnknown`: the client keeps the request and asks
   again (or retries with the same id, which is safe) once it is back.

Two concurrent sends of one id: the second waits on the first's uninserted key and then finds
it done. The ids are pruned after the city's retention (job ``requests.prune``).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import inspect
import json
import logging
import re
import time
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from db.core.dbclock import accepts_caller_time, server_now, server_now_value
from db.core.engine import Database
from db.core.errors import (
    DatabaseUnavailable,
    OutcomeUnknown,
    ValidationError,
    is_connection_lost,
    raise_mapped,
)
from db.core.jobs import Backlog, register
from db.models import RequestLog

log = logging.getLogger(__name__)

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{15,63}$")
PROBE = "?probe"  # the operation name of the asking insert; never committed
#: Pauses between asks when the outcome is unknown: about 8 s in all, then OutcomeUnknown.
ASK_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0)
#: How long an ask waits for a first transaction the server is still finishing.
ASK_LOCK_TIMEOUT_MS = 3000
PRUNE_EVERY = dt.timedelta(hours=1)
PRUNE_LIMIT = 50_000  # rows a run at most

F = TypeVar("F", bound=Callable[..., Any])


def new_request_id() -> str:
    """A fresh id for one action a client asks for (random: 122 bits)."""
    return uuid.uuid4().hex


def check_request_id(value: Any) -> str:
    """A request id as the database keeps it: 16-64 letters, digits, ``-`` or ``_``."""
    if not isinstance(value, str) or not _ID.match(value):
        raise ValidationError(f"请求编号无效：{value!r:.70}", code="request_id_invalid",
                              field="request_id", value=repr(value)[:70])
    return value


# -- results as JSON -------------------------------------------------------------------------

def to_json(value: Any) -> str:
    """A write's result (dataclasses, enums, times, lists, tuples, plain values) as JSON."""
    return json.dumps(_plain(value), ensure_ascii=False)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"a write's result cannot be kept: {type(value).__name__}")


def from_json(spec: Any, data: str) -> Any:
    """:func:`to_json`'s text rebuilt as ``spec`` (a return annotation, e.g.
    ``tuple[StepResult, AlertRow]``)."""
    return _typed(spec, json.loads(data))


def _typed(spec: Any, data: Any) -> Any:
    if spec is None or spec is Any or data is None:
        return data
    origin, args = typing.get_origin(spec), typing.get_args(spec)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if arg is not type(None):
                return _typed(arg, data)
    if origin is list:
        return [_typed(args[0] if args else None, d) for d in data]
    if origin is tuple:
        return tuple(_typed(a, d) for a, d in zip(args, data, strict=True))
    if origin is dict:
        return dict(data)
    if dataclasses.is_dataclass(spec):
        hints = typing.get_type_hints(spec)
        return spec(**{f.name: _typed(hints[f.name], data[f.name])
                       for f in dataclasses.fields(spec) if f.init})
    if isinstance(spec, type) and issubclass(spec, enum.Enum):
        return spec(data)
    if spec is dt.datetime:
        return dt.datetime.fromisoformat(data)
    if spec is dt.date:
        return dt.date.fromisoformat(data)
    return data


# -- the decorator ---------------------------------------------------------------------------

def exactly_once(operation: str) -> Callable[[F], F]:
    """Give a write function ``(database, actor_id, …)`` (or ``(database, …)`` for a write with
    no account, e.g. a gateway's alarm) a ``request_id=`` keyword (see the module docstring).
    Without an id the function runs as it always did."""
    def wrap(fn: F) -> F:
        params = inspect.signature(fn).parameters
        with_actor = "actor_id" in params
        spec: list[Any] = []  # the return annotation, resolved on first use

        @functools.wraps(fn)
        def run(database: Database, *args: Any, request_id: str | None = None, **kwargs: Any):
            if request_id is None:
                return fn(database, *args, **kwargs)
            rid = check_request_id(request_id)
            actor = (args[0] if args else kwargs.get("actor_id")) if with_actor else None
            if not spec:
                spec.append(typing.get_type_hints(fn).get("return"))
            return run_once(database, rid, operation, actor,
                            lambda: fn(database, *args, **kwargs), spec[0])

        run.operation = operation  # type: ignore[attr-defined]
        return typing.cast(F, run)
    return wrap


def run_once(database: Database, request_id: str, operation: str, actor_id: Any,
             call: Callable[[], Any], spec: Any = None) -> Any:
    """``call()`` exactly once under ``request_id`` (what :func:`exactly_once` does)."""
    actor = actor_id if isinstance(actor_id, int) and not isinstance(actor_id, bool) else None
    try:
        with database.joined() as session:
            first = claim(session, request_id, operation, actor)
            if first is not None:
                log.info("request %s (%s) already done: its first result", request_id, operation)
                return from_json(spec, first)
            value = call()
            session.execute(update(RequestLog).where(RequestLog.request_id == request_id)
                            .values(result_json=to_json(value)))
        return value
    except Exception as exc:
        if not is_connection_lost(exc):
            raise_mapped(exc)
        lost = exc
    return _after_lost_link(database, request_id, operation, actor, spec, lost)


def _after_lost_link(database: Database, request_id: str, operation: str, actor_id: int | None,
                     spec: Any, lost: BaseException) -> Any:
    """Ask the database what became of the write whose link dropped; never guess. An id found
    done under another account or operation is refused as :func:`claim` refuses it: that
    request's answer is not this one's."""
    for pause in (0.0, *ASK_PAUSES):
        time.sleep(pause)
        try:
            found = outcome(database, request_id)
        except DatabaseUnavailable:
            continue
        except Exception as exc:  # a lock timeout: the server is still finishing the first
            log.info("request %s: asked, not settled yet (%s)", request_id, exc)
            continue
        if found.done:
            _check_same(request_id, found.operation, found.actor_id, operation, actor_id)
            log.warning("request %s (%s): the link dropped but the write was committed",
                        request_id, operation)
            return from_json(spec, found.result_json or "null")
        raise DatabaseUnavailable(request_id=request_id, operation=operation) from lost
    raise OutcomeUnknown(request_id, operation) from lost


def claim(session: Session, request_id: str, operation: str, actor_id: int | None) -> str | None:
    """Step 1 inside the write's transaction: the id inserted (None: go on and write), or the
    first result of the write already done under it."""
    if _insert_id(session, request_id, operation, actor_id):
        return None
    row = session.get(RequestLog, request_id)
    if row is None or row.result_json is None:  # cannot be: committed rows carry their result
        raise ValidationError(f"请求编号 {request_id} 的记录不完整", code="request_id_reused",
                              request_id=request_id)
    _check_same(request_id, row.operation, row.actor_id, operation, actor_id)
    return row.result_json


def _check_same(request_id: str, found_operation: str | None, found_actor: int | None,
                operation: str, actor_id: int | None) -> None:
    """Refuse an id recorded for another account or another operation (``request_id_reused``)."""
    if found_operation != operation or found_actor != actor_id:
        raise ValidationError(f"请求编号 {request_id} 已用于另一项操作，未执行",
                              code="request_id_reused", request_id=request_id)


def _insert_id(session: Session, request_id: str, operation: str, actor_id: int | None) -> bool:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # The database's clock (db.core.dbclock), never the workstation's: pruning compares it
    # with the database's clock too, so a workstation's wrong clock cannot age an id early.
    stmt = (insert(RequestLog)
            .values(request_id=request_id, operation=operation, actor_id=actor_id,
                    at=server_now_value(session))
            .on_conflict_do_nothing(index_elements=["request_id"])
            .returning(RequestLog.request_id))
    return session.execute(stmt).first() is not None


# -- asking afterwards -----------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """What became of a request: ``done`` with its first result (JSON), or not done."""

    request_id: str
    done: bool
    operation: str | None = None
    result_json: str | None = None
    actor_id: int | None = None  # the account it was done for (None: no account, or not done)

    def result(self, spec: Any = None) -> Any:
        return from_json(spec, self.result_json or "null")


class _Asked(Exception):
    """Ends the asking transaction: it must never commit its probe."""


def outcome(database: Database, request_id: str) -> Outcome:
    """Whether the write sent under ``request_id`` happened, for certain.

    The probe inserts the id and rolls back: if the write's transaction is still open on the
    server (its COMMIT in flight) the insert waits for it, up to
    :data:`ASK_LOCK_TIMEOUT_MS` (then the database's lock timeout is raised as busy); so the
    answer never races a commit. Raises :class:`DatabaseUnavailable` when the database cannot
    be reached."""
    request_id = check_request_id(request_id)
    answer: list[Outcome] = []
    try:
        # Its own transaction, never one the caller has open (Database.joined): a probe that
        # joined it would commit with it and read as "done" for ever after.
        with database.write(own=True) as session:
            if database.is_postgres:
                session.execute(text(f"SET LOCAL lock_timeout = {int(ASK_LOCK_TIMEOUT_MS)}"))
            if _insert_id(session, request_id, PROBE, None):
                answer.append(Outcome(request_id, False))
            else:
                row = session.execute(select(RequestLog.operation, RequestLog.result_json,
                                             RequestLog.actor_id)
                                      .where(RequestLog.request_id == request_id)).one()
                answer.append(Outcome(request_id, True, row.operation, row.result_json,
                                      row.actor_id))
            raise _Asked
    except _Asked:
        return answer[0]
    except Exception as exc:
        raise_mapped(exc)
    raise AssertionError("unreachable")


# -- pruning ---------------------------------------------------------------------------------

def prune(database: Database, now: dt.datetime | None = None, *, limit: int = PRUNE_LIMIT) -> int:
    """Forget request ids older than the city's retention (at most ``limit`` a call), by the
    database's clock. ``now`` (the job runner's, i.e. this workstation's clock) counts only on
    a database that takes its callers' times (demo, tests): a workstation whose clock runs a
    month ahead would otherwise forget ids written a minute ago, and a retry would write twice."""
    from db.settings import REQUEST_RETENTION_DAYS, read

    with database.read() as session:
        days = read(session, REQUEST_RETENTION_DAYS)
    with database.write() as session:
        clock = now if now is not None and accepts_caller_time(session) else server_now(session)
        cutoff = clock - dt.timedelta(days=days)
        old = select(RequestLog.request_id).where(RequestLog.at < cutoff).limit(limit)
        result = session.execute(delete(RequestLog).where(RequestLog.request_id.in_(old)))
        return result.rowcount or 0


@register("requests.prune", PRUNE_EVERY,
          description="forget the request ids of writes older than the city's retention")
def _prune_job(database: Database, now: dt.datetime) -> str | Backlog:
    removed = prune(database, now)
    if removed >= PRUNE_LIMIT:
        return Backlog(f"{removed} request ids pruned, more left")
    return f"{removed} request ids pruned"
