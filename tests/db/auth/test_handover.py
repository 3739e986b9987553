"""Shift handover (交接班): the outgoing officer's summary, the incoming officer through the
same gate as any sign-in, one audit row naming both."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from db.auth.handover import ShiftSummary, hand_over, shift_summary
from db.auth.roles import Role
from db.auth.signin import set_lockout_limit
from db.cases.workflow import report_case
from db.core.errors import AccountLocked, PermissionDenied, ValidationError
from db.models import AuditLog, Case
from tests.conftest import TEST_PASSWORD

T0 = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)


def test_the_outgoing_officer_sees_what_they_leave_open(sqlite_env):
    env = sqlite_env
    duty, field = env.users[Role.DUTY_OFFICER], env.users[Role.FIELD_OFFICER]
    ids = [report_case(env.database, duty, source="walk_in", lat=23.02, lon=113.75,
                       description=f"路灯不亮 {i}").case_id for i in range(3)]
    with env.database.write() as s:  # two of them in the field officer's hands
        s.execute(update(Case).where(Case.id.in_(ids[:2])).values(assignee_user_id=field))
    assert shift_summary(env.database, duty) == ShiftSummary(0, 0, 3, 0)
    assert shift_summary(env.database, field) == ShiftSummary(2, 0, 0, 0)


def test_a_handover_signs_the_next_officer_in_and_records_both_names(env):
    duty = env.users[Role.DUTY_OFFICER]
    summary = ShiftSummary(2, 1, 3, 0)
    account = hand_over(env.database, duty, "t_shift_leader", TEST_PASSWORD, workstation="desk-07",
                        note="3号井盖待复查", summary=summary, now=T0)
    assert account.role == Role.SHIFT_LEADER
    with env.database.read() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action.in_(["auth.login", "auth.handover"]))
                         .order_by(AuditLog.id)).all()
    assert [r.action for r in rows] == ["auth.login", "auth.handover"]
    assert json.loads(rows[0].detail_json)["purpose"] == "handover"
    detail = json.loads(rows[1].detail_json)
    assert (rows[1].actor_id, rows[1].entity_id) == (account.id, account.id)
    assert detail == {"from_id": duty, "from_username": "t_duty_officer", "from_name": "测试值班员",
                      "to_id": account.id, "to_username": "t_shift_leader", "to_name": "测试值班长",
                      "workstation": "desk-07", "note": "3号井盖待复查", "outgoing_present": True,
                      "summary": {"assigned_open": 2, "assigned_overdue": 1, "reported_open": 3,
                                  "active_alerts": 0}}


def test_a_handover_passes_the_same_gate_as_a_sign_in(env):
    duty = env.users[Role.DUTY_OFFICER]
    with env.database.write() as s:
        set_lockout_limit(s, 2)
    for i in range(2):
        with pytest.raises(PermissionDenied) as info:
            hand_over(env.database, duty, "t_dispatcher", "guess", now=T0 + dt.timedelta(minutes=i))
        assert info.value.code == "bad_credentials"
    with pytest.raises(AccountLocked):  # locked: the right password is not even checked
        hand_over(env.database, duty, "t_dispatcher", TEST_PASSWORD, now=T0 + dt.timedelta(minutes=5))
    with pytest.raises(ValidationError) as same:  # handing over to oneself is no handover
        hand_over(env.database, duty, " t_duty_officer", TEST_PASSWORD)
    assert same.value.code == "handover_same_account"
    with env.database.read() as s:
        assert s.scalar(select(AuditLog.id).where(AuditLog.action == "auth.handover")) is None
