"""The closed loop: transitions, roles, data checks, conflicts and atomicity, on both engines."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from db.auth.roles import Role
from db.cases import workflow as wf
from db.cases.workflow import State, Step
from db.core.engine import open_database
from db.core.errors import (
    ConflictError,
    InvalidTransition,
    NotFound,
    OutsideCity,
    PermissionDenied,
    ValidationError,
)
from db.core.text import MAX_TEXT
from db.models import AuditLog, Case, CaseHistory, ChangeLog
from tests.helpers import (
    PATHS,
    any_class_id,
    any_department_id,
    case_in_state,
    report,
    step_args,
    take,
)


def counts(env, case_id):
    with env.database.read() as s:
        return (
            s.scalar(select(func.count()).select_from(CaseHistory).where(CaseHistory.case_id == case_id)),
            s.scalar(select(func.count()).select_from(AuditLog).where(
                AuditLog.entity == "case", AuditLog.entity_id == case_id)),
            s.scalar(select(func.count()).select_from(ChangeLog).where(
                ChangeLog.entity == "case", ChangeLog.entity_id == case_id)),
            s.get(Case, case_id).version,
        )


def test_full_loop_writes_case_history_audit_and_feed(env):
    r = report(env, reporter_phone="13812345678", reporter_name="张三")
    assert r.state == State.PENDING_ACCEPT and r.version == 1 and r.deadline_at is None
    for step in PATHS[State.CLOSED]:
        r = take(env, r, step)
    assert r.state == State.CLOSED and r.version == 7
    with env.database.read() as s:
        case = s.get(Case, r.case_id)
        # Sealed (db.core.pii): ciphertext and a keyed hash, never the digits.
        assert case.reporter_phone_enc and "13812345678" not in case.reporter_phone_enc
        assert len(case.reporter_phone_hash) == 64 and "13812345678" not in case.reporter_phone_hash
        assert case.resolution == "closed" and case.closed_at and case.deadline_at
        assert case.handled_on_time is True
        steps = [h.step for h in s.scalars(select(CaseHistory).where(
            CaseHistory.case_id == r.case_id).order_by(CaseHistory.id))]
        assert steps == ["report", "accept", "open", "dispatch", "feedback", "verify", "close"]
        assert wf.check_invariants(s, r.case_id) == []
    assert counts(env, r.case_id) == (7, 7, 7, 7)


def test_every_step_for_every_role_and_state(env):
    """Allowed (step, state, role) triples succeed; every other one is refused and writes nothing.

    Scope (db.auth.scope): the test field officer works in no grid, so of the undispatched
    cases (待受理, 待立案: assigned to nobody) none is theirs, and 当即办理 on them is refused
    for scope although the table lets the role do it. Every dispatched test case goes to the
    test department handler's department and, by name, to the test field officer
    (tests.helpers.step_args)."""
    cases = {state: case_in_state(env, state) for state in State}
    undispatched = {State.PENDING_ACCEPT, State.PENDING_OPEN}
    for state, case in cases.items():
        before = counts(env, case.case_id)
        for step in Step:
            transition = wf.find_transition(step, state)
            for role in Role:
                allowed = transition is not None and role in transition.roles
                if allowed and role == Role.FIELD_OFFICER and state in undispatched:
                    with pytest.raises(PermissionDenied) as refused:
                        take(env, case, step, role)
                    assert refused.value.code == "case_out_of_scope", (step, state)
                    continue
                if allowed:
                    fresh = case_in_state(env, state)
                    result = take(env, fresh, step, role)
                    assert result.state == transition.target, (step, state, role)
                    assert result.version == fresh.version + 1
                    continue
                expected = InvalidTransition if transition is None else PermissionDenied
                with pytest.raises(expected):
                    take(env, case, step, role)
        assert counts(env, case.case_id) == before, state
    assert wf.allowed_steps(Role.DUTY_OFFICER, State.PENDING_ACCEPT) == [
        Step.ACCEPT, Step.FIX_ON_SPOT, Step.VOID]
    assert wf.allowed_steps(Role.ADMIN, State.PENDING_DISPATCH) == []


def test_report_roles_and_validation(env):
    with pytest.raises(PermissionDenied):
        report(env, role=Role.DEPARTMENT_HANDLER)
    with pytest.raises(PermissionDenied):
        report(env, role=Role.ADMIN)
    with pytest.raises(OutsideCity):
        report(env, lat=39.9, lon=116.4)  # Beijing
    with pytest.raises(ValidationError):
        report(env, lat=float("nan"))
    with pytest.raises(ValidationError):
        report(env, description="")
    with pytest.raises(ValidationError):
        report(env, description="x" * (MAX_TEXT + 1))
    with pytest.raises(ValidationError):
        report(env, description="bad\x00byte")
    with pytest.raises(ValidationError):
        report(env, source="carrier_pigeon")
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    r = report(env, description=hostile)
    with env.database.read() as s:
        assert s.get(Case, r.case_id).description == hostile  # stored as given; escaped on display
        assert s.scalar(select(func.count()).select_from(Case)) == 1


def test_step_data_is_checked_and_nothing_partial_is_written(env):
    r = case_in_state(env, State.PENDING_DISPATCH)
    before = counts(env, r.case_id)
    with pytest.raises(ValidationError):
        take(env, r, Step.DISPATCH, department_id=999_999)
    with pytest.raises(ValidationError):
        take(env, r, Step.VOID, opinion="   ")
    with pytest.raises(ValidationError):
        take(env, r, Step.VOID, opinion="y" * (MAX_TEXT + 1))
    assert counts(env, r.case_id) == before
    with pytest.raises(NotFound):
        wf.dispatch(env.database, env.users[Role.DISPATCHER], 10**9, 1, department_id=1)
    h = case_in_state(env, State.HANDLING)
    with pytest.raises(ValidationError):
        take(env, h, Step.REQUEST_EXTENSION, amount=0)
    with pytest.raises(ValidationError):
        take(env, h, Step.REQUEST_EXTENSION, unit="fortnights")


def test_stale_version_conflict_names_who_and_when(env):
    r = case_in_state(env, State.PENDING_DISPATCH)
    take(env, r, Step.DISPATCH, Role.DISPATCHER)
    before = counts(env, r.case_id)
    with pytest.raises(ConflictError) as info:
        take(env, r, Step.VOID, Role.SHIFT_LEADER)  # still holds the old version
    err = info.value
    assert err.changed_by == "测试派遣员" and err.current_version == r.version + 1
    assert "测试派遣员" in str(err) and err.changed_at is not None
    assert counts(env, r.case_id) == before


def test_two_sessions_dispatch_at_once_exactly_one_wins(env):
    r = case_in_state(env, State.PENDING_DISPATCH)
    dept = any_department_id(env)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def attempt(role):
        barrier.wait()
        try:
            outcomes.append(wf.dispatch(env.database, env.users[role], r.case_id, r.version,
                                        department_id=dept))
        except ConflictError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=attempt, args=(role,))
               for role in (Role.DISPATCHER, Role.DUTY_OFFICER)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    wins = [o for o in outcomes if isinstance(o, wf.StepResult)]
    conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(wins) == 1 and len(conflicts) == 1
    assert conflicts[0].changed_by in ("测试派遣员", "测试值班员")
    with env.database.read() as s:
        dispatches = s.scalars(select(CaseHistory).where(
            CaseHistory.case_id == r.case_id, CaseHistory.step == "dispatch")).all()
        assert len(dispatches) == 1 and dispatches[0].actor_name == conflicts[0].changed_by
        assert wf.check_invariants(s, r.case_id) == []


def test_return_clears_clock_and_rework_restarts_it(env):
    h = case_in_state(env, State.HANDLING)
    assert h.deadline_at is not None
    back = take(env, h, Step.RETURN, Role.DEPARTMENT_HANDLER, opinion="非本部门职责")
    assert back.state == State.PENDING_DISPATCH and back.deadline_at is None
    closed = case_in_state(env, State.CLOSED)
    again = take(env, closed, Step.REWORK, Role.LEADER, opinion="市民再次投诉")
    assert again.state == State.HANDLING and again.deadline_at is not None
    with pytest.raises(PermissionDenied):
        take(env, case_in_state(env, State.CLOSED), Step.REWORK, Role.INSPECTOR)
    # A case fixed on the spot was never dispatched: rework has nothing to send back to.
    on_spot = take(env, report(env), Step.FIX_ON_SPOT, Role.INSPECTOR)
    assert on_spot.state == State.CLOSED and on_spot.deadline_at is None
    with pytest.raises(ValidationError):
        take(env, on_spot, Step.REWORK, Role.SHIFT_LEADER)


def test_extension_moves_the_deadline(env):
    h = case_in_state(env, State.HANDLING)
    asked = take(env, h, Step.REQUEST_EXTENSION, amount=1, unit="work_days")
    assert asked.deadline_at == h.deadline_at  # the clock runs on while the leader decides
    approved = take(env, asked, Step.APPROVE_EXTENSION)
    assert approved.deadline_at > h.deadline_at
    with env.database.read() as s:
        assert s.get(Case, h.case_id).extension_count == 1
    asked2 = take(env, approved, Step.REQUEST_EXTENSION)
    rejected = take(env, asked2, Step.REJECT_EXTENSION, opinion="理由不充分")
    assert rejected.deadline_at == approved.deadline_at


def test_audit_log_is_append_only(env):
    """The triggers refuse even a role that holds UPDATE, DELETE and TRUNCATE: on PostgreSQL
    that is the owner (the application role holds none of them: tests/db/admin)."""
    report(env)
    statements = ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"]
    if env.engine_name == "postgresql":
        statements.append("TRUNCATE audit_log")
    database = open_database(env.owner_url, migrate=False) if env.owner_url else env.database
    try:
        for sql in statements:
            with pytest.raises(DBAPIError, match="append-only"):
                with database.write() as s:
                    s.execute(text(sql))
    finally:
        if database is not env.database:
            database.dispose()
    with env.database.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "case.report")) == 1


def test_times_are_stored_and_returned_in_utc(env):
    now = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Shanghai
    r = report(env, now=now)
    r = wf.accept(env.database, env.users[Role.DUTY_OFFICER], r.case_id, r.version,
                  class_id=step_args(env, Step.ACCEPT)["class_id"], now=now)
    r = wf.open_case(env.database, env.users[Role.DUTY_OFFICER], r.case_id, r.version, now=now)
    r = wf.dispatch(env.database, env.users[Role.DISPATCHER], r.case_id, r.version,
                    department_id=any_department_id(env), now=now)
    with env.database.read() as s:
        case = s.get(Case, r.case_id)
        assert case.dispatched_at == now and case.dispatched_at.tzinfo is not None
        assert case.number.startswith("20260302")
        assert case.deadline_at == r.deadline_at and case.deadline_at > now


def test_hostile_and_malformed_text_is_refused_with_a_clear_error(env):
    for bad in ("lone \ud800 surrogate", "escape \x1b[31m red", "bidi \u202e txt.exe", "bell\x07"):
        with pytest.raises(ValidationError):
            report(env, description=bad)
    with pytest.raises(ValidationError):
        report(env, external_ref="x" * 61)
    with pytest.raises(ValidationError):
        report(env, external_ref="ref\x00")
    with pytest.raises(ValidationError):
        report(env, now=dt.datetime(2026, 3, 2, 9, 0))  # naive
    ok = report(env, description="第一行\n第二行\t缩进", external_ref="12345-2026-000001")
    with env.database.read() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        assert s.get(Case, ok.case_id).external_ref == "12345-2026-000001"


def test_a_version_from_the_future_is_invalid_not_a_conflict(env):
    r = case_in_state(env, State.PENDING_DISPATCH)
    with pytest.raises(ValidationError):
        wf.void(env.database, env.users[Role.SHIFT_LEADER], r.case_id, r.version + 5, opinion="x")


def test_an_emergency_runs_on_the_30_minute_clock_whatever_its_class(env):
    now = dt.datetime(2026, 3, 6, 9, 50, tzinfo=dt.UTC)  # Friday 17:50 in Shanghai
    r = report(env, urgency="emergency", now=now)
    r = take(env, r, Step.ACCEPT, urgency="emergency", class_id=any_class_id(env, "work_days"))
    r = take(env, r, Step.OPEN)
    r = wf.dispatch(env.database, env.users[Role.DISPATCHER], r.case_id, r.version,
                    department_id=any_department_id(env), now=now)
    assert r.deadline_at == now + dt.timedelta(minutes=30)


def test_extensions_are_bounded(env):
    h = case_in_state(env, State.HANDLING)
    with pytest.raises(ValidationError):
        take(env, h, Step.REQUEST_EXTENSION, amount=61, unit="work_days")
    asked = take(env, h, Step.REQUEST_EXTENSION, amount=60, unit="work_days")
    assert take(env, asked, Step.APPROVE_EXTENSION).deadline_at > h.deadline_at


def test_a_department_handler_acts_only_on_its_own_departments_cases(env):
    from db.models import Department, UserAccount

    h = case_in_state(env, State.HANDLING)
    with env.database.write() as s:
        own = s.get(Case, h.case_id).assignee_department_id
        other = s.scalar(select(Department.id).where(Department.id != own).limit(1))
        s.get(UserAccount, env.users[Role.DEPARTMENT_HANDLER]).department_id = other
    with pytest.raises(PermissionDenied):
        take(env, h, Step.FEEDBACK, Role.DEPARTMENT_HANDLER, opinion="已处理")
    with env.database.write() as s:
        s.get(UserAccount, env.users[Role.DEPARTMENT_HANDLER]).department_id = own
    assert take(env, h, Step.FEEDBACK, Role.DEPARTMENT_HANDLER, opinion="已处理").state == State.PENDING_CHECK
