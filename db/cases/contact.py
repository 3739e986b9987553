"""Calling the reporter back: the full phone number, for the roles allowed, always audited.

Screens show a reporter's phone masked (:func:`db.auth.security.mask_phone` in
:func:`db.cases.queries.case_detail`). A desk role in :data:`db.auth.roles.PHONE_REVEALERS` may
reveal the whole number with :func:`reveal_reporter_phone`, which reads it and appends the audit
row ``case.reveal_phone`` in one transaction: the number never leaves the database without the
record of who saw it and when. The database holds the number sealed (:mod:`db.core.pii`); it is
opened here, with the workstation's key. Revealing changes nothing on the case (no version, no feed).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import DBAPIError

from db.auth.actors import load_actor
from db.auth.roles import PHONE_REVEALERS, Role
from db.core import pii, validate
from db.core.audit import audit
from db.core.dbclock import event_time
from db.core.engine import Database
from db.core.entities import Entity
from db.core.errors import NotFound, PermissionDenied, raise_mapped
from db.core.timecheck import check_time
from db.models import Case

REVEAL_ACTION = "case.reveal_phone"


def reveal_reporter_phone(database: Database, actor_id: int, case_id: int, *,
                          now: dt.datetime | None = None) -> str:
    """The reporter's full phone number of ``case_id`` ("" when none was given), with an
    audit row naming the actor, written in the same transaction. Roles outside
    :data:`PHONE_REVEALERS` are refused (``role_cannot_reveal_phone``) and nothing is read."""
    at = check_time(now) if now is not None else None
    case_id = validate.record_id(case_id, "案件")
    try:
        with database.write() as session:
            at = event_time(session, at)  # the database's clock (db.core.dbclock)
            actor = load_actor(session, actor_id)
            if Role(actor.role) not in PHONE_REVEALERS:
                raise PermissionDenied(f"{Role(actor.role).label}无权查看反映人完整号码",
                                       code="role_cannot_reveal_phone", role=actor.role,
                                       case_id=case_id)
            case = session.get(Case, case_id)
            if case is None:
                raise NotFound(f"案件 {case_id} 不存在", code="not_found",
                               entity=Entity.CASE.value, id=case_id)
            # Opened with this workstation's key (db.core.pii): a missing or wrong key is a
            # declared PhoneKeyProblem and nothing is audited as seen.
            phone = pii.cipher(session).open(case.reporter_phone_enc) if case.reporter_phone_enc else ""
            audit(session, actor, REVEAL_ACTION, Entity.CASE, case.id,
                  {"number": case.number, "had_phone": bool(phone)}, at)
            session.flush()  # the audit row is written before the number is handed out
            return phone
    except DBAPIError as exc:
        raise_mapped(exc)
        raise


__all__ = ["REVEAL_ACTION", "reveal_reporter_phone"]
