"""Revealing a reporter's phone number: allowed desk roles only, always audited (both engines)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from db.auth.roles import PHONE_REVEALERS, Role
from db.auth.scope import SYSTEM
from db.cases import contact
from db.cases.queries import case_detail
from db.core.errors import PermissionDenied
from db.models import AuditLog, Case
from tests.helpers import report

PHONE = "13812345678"


def reveals(env, case_id: int) -> list[AuditLog]:
    with env.database.read() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "case.reveal_phone",
                                                AuditLog.entity_id == case_id)
                         .order_by(AuditLog.id)).all()
        s.expunge_all()
        return rows


def test_the_desk_roles_are_the_revealers():
    assert PHONE_REVEALERS == {Role.DUTY_OFFICER, Role.DISPATCHER, Role.SHIFT_LEADER, Role.LEADER}


def test_a_duty_officer_sees_the_full_number_and_the_reveal_is_audited(env):
    r = report(env, reporter_name="张三", reporter_phone=PHONE)
    with env.database.read() as s:
        assert case_detail(s, r.case_id, actor=SYSTEM).reporter_phone_masked == "138****5678"  # screens: masked
    assert contact.reveal_reporter_phone(env.database, env.users[Role.DUTY_OFFICER],
                                         r.case_id) == PHONE
    assert contact.reveal_reporter_phone(env.database, env.users[Role.LEADER], r.case_id) == PHONE
    rows = reveals(env, r.case_id)
    assert [(a.actor_id, a.entity) for a in rows] == [
        (env.users[Role.DUTY_OFFICER], "case"), (env.users[Role.LEADER], "case")]
    assert json.loads(rows[0].detail_json) == {"number": r.number, "had_phone": True}
    with env.database.read() as s:
        assert s.get(Case, r.case_id).version == r.version  # reading changes nothing on the case


@pytest.mark.parametrize("role", [Role.FIELD_OFFICER, Role.INSPECTOR, Role.ADMIN])
def test_other_roles_are_refused_and_nothing_is_audited(env, role):
    r = report(env, reporter_phone=PHONE)
    with pytest.raises(PermissionDenied) as err:
        contact.reveal_reporter_phone(env.database, env.users[role], r.case_id)
    assert err.value.code == "role_cannot_reveal_phone"
    assert PHONE not in err.value.message
    assert reveals(env, r.case_id) == []


def test_no_number_leaves_without_its_audit_row(env, monkeypatch):
    r = report(env, reporter_phone=PHONE)

    def broken_audit(session, actor, action, entity, entity_id, detail=None, at=None):
        # A row the database refuses (entity is NOT NULL): the audit write fails.
        session.add(AuditLog(at=at, actor_id=actor.id, actor_name=actor.display_name,
                             action=action, entity=None, entity_id=entity_id))

    monkeypatch.setattr(contact, "audit", broken_audit)
    with pytest.raises(IntegrityError):
        contact.reveal_reporter_phone(env.database, env.users[Role.DUTY_OFFICER], r.case_id)
    with env.database.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "case.reveal_phone")) == 0
