"""The versioned write: the one frame every change to a case, an alert (and later an incident, a
supervision notice, an inspection, a black spot) goes through.

First the ids and the version seen are checked for their type (:func:`check_ids`). Then, in
one transaction, in this order:

1. load the actor's account (the role comes from the database, never from the caller);
2. lock the row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already
   holds the write lock). The event time (:func:`db.core.dbclock.event_time`) is read after
   the lock and the version check: the database's clock *after* the lock, never before (a step
   that waited for the lock happened after the step it waited for), and never before the
   row's ``updated_at``;
3. check the version the actor saw: newer than the row's is invalid data, older is a
   :class:`~db.core.errors.ConflictError` naming who changed the row last and when (from the
   audit log, which every versioned write appends to);
4. the caller's checks and changes (``with versioned_write(...) as w:`` … ``w.record(...)``);
5. :meth:`Write.record`: the version goes up, ``updated_at`` is stamped where the model has
   one, a history row is added where the entity has a history, then one audit row and one
   change-feed row.

A public write function built on this frame is decorated with
:func:`db.core.requests.exactly_once`, so it takes the client's ``request_id=`` and happens once
whatever the link does (a test holds every such function in db/ to it). A body that finds
nothing to do does not call ``record`` and nothing is written. A lost
connection anywhere in the frame becomes :class:`~db.core.errors.DatabaseUnavailable`, a lock or
statement timeout :class:`~db.core.errors.DatabaseBusy`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.auth.actors import load_actor
from db.core import feed, validate
from db.core.audit import audit
from db.core.dbclock import event_time
from db.core.engine import Database
from db.core.entities import Entity
from db.core.errors import ConflictError, NotFound, ValidationError, raise_mapped
from db.core.timecheck import check_time
from db.models import AuditLog, UserAccount

SYSTEM_ACTOR = "system"  # actor_name of an audit row written without an account


def lock_row(session: Session, model, row_id: int):
    """The ``model`` row ``row_id``, locked for the rest of the transaction (None if absent)."""
    stmt = select(model).where(model.id == row_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # SQLite: BEGIN IMMEDIATE already holds the write lock
    return session.scalars(stmt).one_or_none()


def last_change(session: Session, entity: Entity, row_id: int) -> tuple[str, dt.datetime] | None:
    """Who changed the row last and when, from the audit log."""
    last = session.execute(
        select(AuditLog.actor_name, AuditLog.at)
        .where(AuditLog.entity == entity.value, AuditLog.entity_id == row_id)
        .order_by(AuditLog.id.desc()).limit(1)).first()
    return (last.actor_name, last.at) if last else None


def check_version(session: Session, entity: Entity, row: Any, seen_version: Any, *,
                  system_actor: str = "系统") -> None:
    """Step 3 of the frame: the version the actor saw against the row's."""
    if (not isinstance(seen_version, int) or isinstance(seen_version, bool) or seen_version < 1
            or seen_version > row.version):
        raise ValidationError(f"版本号 {seen_version!r} 无效（当前为 {row.version}）",
                              code="version_invalid", field="version", seen=seen_version,
                              current=row.version)
    if seen_version != row.version:
        found = last_change(session, entity, row.id)
        who, when = found if found else ("未知", getattr(row, "updated_at", None))
        raise ConflictError(entity, row.id, seen_version, row.version,
                            system_actor if who == SYSTEM_ACTOR else who, when)


def check_ids(entity: Entity, actor_id: Any, row_id: Any, seen_version: Any
              ) -> tuple[int, int, int]:
    """Step 0: the actor's id, the row's id and the version seen are whole numbers
    (:mod:`db.core.validate`), so a wrong type is a declared ``ValidationError``, never a
    driver's ``DataError``."""
    return (validate.record_id(actor_id, "账号"), validate.record_id(row_id, entity.label),
            validate.whole_number(seen_version, "版本号"))


@dataclass
class Write:
    """What the body of a versioned write works with."""

    session: Session
    database: Database
    entity: Entity
    actor: UserAccount
    row: Any
    at: dt.datetime
    recorded: bool = field(default=False, init=False)

    def record(self, action: str, detail: dict | None = None, *,
               history: Callable[[int], Any] | None = None,
               also: Iterable[tuple[Entity, Iterable[int]]] = ()) -> None:
        """Step 5: version, ``updated_at``, history (``history(new_version)`` builds the row),
        audit and change feed. ``also`` names other records whose view changed with this one
        (an alert linked to a case changes the case's list of alerts)."""
        if self.recorded:
            raise RuntimeError("a versioned write records its change once")
        self.recorded = True
        row = self.row
        row.version += 1
        if hasattr(row, "updated_at"):
            row.updated_at = self.at
        if history is not None:
            self.session.add(history(row.version))
        audit(self.session, self.actor, action, self.entity.value, row.id,
              {"version": row.version, **(detail or {})}, self.at)
        feed.publish(self.session, self.entity, [row.id])
        for entity, ids in also:
            feed.publish(self.session, entity, ids)


@contextmanager
def versioned_write(database: Database, entity: Entity, model, actor_id: int, row_id: int,
                    seen_version: int, *, now: dt.datetime | None = None,
                    authorise: Callable[[UserAccount], None] | None = None,
                    system_actor: str = "系统") -> Iterator[Write]:
    """Steps 1-3, then the body, in one transaction (see the module docstring).

    ``authorise(actor)`` refuses an account before anything is locked (a role that may never
    act on this entity); checks that depend on the row belong in the body. ``now`` is a
    caller's time, taken only where the database accepts one (:mod:`db.core.dbclock`); its form
    is checked here, before a transaction is opened."""
    at = check_time(now) if now is not None else None
    check_ids(entity, actor_id, row_id, seen_version)  # before a transaction is opened
    try:
        with database.write() as session, versioned_write_in(
                session, database, entity, model, actor_id, row_id, seen_version, at=at,
                authorise=authorise, system_actor=system_actor) as w:
            yield w
    except Exception as exc:  # a lost link or a lock timeout, in the frame or in the body
        raise_mapped(exc)


@contextmanager
def versioned_write_in(session: Session, database: Database, entity: Entity, model,
                       actor_id: int, row_id: int, seen_version: int, *,
                       at: dt.datetime | None = None,
                       authorise: Callable[[UserAccount], None] | None = None,
                       system_actor: str = "系统") -> Iterator[Write]:
    """Steps 1-3 and the body of :func:`versioned_write` inside the caller's transaction
    (``session`` from ``database.write()``), for several rows changed all or nothing: any
    error propagates and the caller's transaction rolls every row back. ``at`` is a caller's
    time (demo and tests only, :mod:`db.core.dbclock`) or None: the database's clock, read
    after the row's lock. The caller maps errors
    (:func:`~db.core.errors.raise_mapped`) and, to avoid deadlocks between two writers, takes
    its rows in one order (by id)."""
    actor_id, row_id, seen_version = check_ids(entity, actor_id, row_id, seen_version)
    actor = load_actor(session, actor_id)
    if authorise is not None:
        authorise(actor)
    row = lock_row(session, model, row_id)
    if row is None:
        raise NotFound(f"{entity.label} {row_id} 不存在", code="not_found",
                       entity=entity.value, id=row_id)
    check_version(session, entity, row, seen_version, system_actor=system_actor)
    # The row's last event time (a case's updated_at; an alert's latest time): never before it.
    floor = getattr(row, "last_event_at", None) or getattr(row, "updated_at", None)
    at = event_time(session, at, floor=floor)
    yield Write(session, database, entity, actor, row, at)
