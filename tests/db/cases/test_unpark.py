"""Parking pauses the deadline clock; un-parking resumes the working time that was left.

Every date below is worked out by hand on the default office hours, 08:30-12:00 and
14:00-17:30 Shanghai time (7 h = 25 200 s a working day), in March 2026: Monday 9th to Friday
13th and Monday 16th to Wednesday 18th are ordinary working days (no holiday, no make-up day);
Saturday 14th and Sunday 15th are days off.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from db import settings
from db.auth.roles import Role
from db.cases import deadline as dl
from db.cases import workflow as wf
from db.cases.workflow import State
from db.models import AuditLog, Case, CaseClass
from db.worktime.calendar_data import load_calendar
from db.worktime.clock import SHANGHAI
from tests.helpers import any_class_id, any_department_id, report

HOUR = 3600.0


def sh(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A time in March 2026, Shanghai wall time, as aware UTC."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


def _two_day_class(env) -> int:
    """A working-days class whose limit is set here to 2 working days."""
    class_id = any_class_id(env, "work_days")
    with env.database.write() as s:
        s.get(CaseClass, class_id).limit_amount = 2
    return class_id


def _dispatched(env, at: dt.datetime) -> wf.StepResult:
    class_id = _two_day_class(env)
    duty, db = env.users[Role.DUTY_OFFICER], env.database
    r = report(env, now=at)
    r = wf.accept(db, duty, r.case_id, r.version, class_id=class_id, now=at)
    r = wf.open_case(db, duty, r.case_id, r.version, now=at)
    return wf.dispatch(db, env.users[Role.DISPATCHER], r.case_id, r.version,
                       department_id=any_department_id(env), now=at)


def _park(env, r, at):
    return wf.park(env.database, env.users[Role.SHIFT_LEADER], r.case_id, r.version,
                   opinion="需财政立项，长期挂账", now=at)


def _unpark(env, r, at):
    return wf.unpark(env.database, env.users[Role.SHIFT_LEADER], r.case_id, r.version, now=at)


def _invariants(env, case_id):
    with env.database.read() as s:
        return wf.check_invariants(s, case_id)


def test_unparking_resumes_the_time_left_with_the_approved_extension(env):
    # Dispatch Mon 9th 10:00, limit 2 working days = 14 h:
    #   Mon 10:00-12:00 2 h + 14:00-17:30 3.5 h = 5.5 h; Tue 10th 7 h -> 12.5 h;
    #   Wed 11th 08:30-10:00 1.5 h -> 14 h: due Wed 11th 10:00.
    r = _dispatched(env, sh(9, 10))
    assert r.deadline_at == sh(11, 10)
    # +1 working day asked and approved Mon 10:30: the deadline moves 7 h -> Thu 12th 10:00.
    r = wf.request_extension(env.database, env.users[Role.DEPARTMENT_HANDLER], r.case_id, r.version,
                             amount=1, unit="work_days", opinion="需协调供电部门", now=sh(9, 10, 30))
    r = wf.approve_extension(env.database, env.users[Role.SHIFT_LEADER], r.case_id, r.version,
                             now=sh(9, 10, 30))
    assert r.deadline_at == sh(12, 10)
    # Parked Tue 10th 15:00. Left: Tue 15:00-17:30 2.5 h + Wed 7 h + Thu 08:30-10:00 1.5 h = 11 h.
    r = _park(env, r, sh(10, 15))
    with env.database.read() as s:
        assert s.get(Case, r.case_id).paused_left_seconds == 11 * HOUR
    assert _invariants(env, r.case_id) == []
    # Un-parked the next Monday, 16th 16:00. 11 h from then: Mon 16:00-17:30 1.5 h (9.5 h to go),
    # Tue 17th 7 h (2.5 h to go), Wed 18th 08:30-11:00 -> due Wed 18th 11:00.
    # (A fresh limit, the old behaviour, would say Wed 18th 16:00 and lose the extension.)
    r = _unpark(env, r, sh(16, 16))
    assert r.state == State.HANDLING
    assert r.deadline_at == sh(18, 11)
    with env.database.read() as s:
        case = s.get(Case, r.case_id)
        assert case.paused_left_seconds is None
        assert case.deadline_at == sh(18, 11)
        cal = load_calendar(s)
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "case.unpark")).one()
        assert json.loads(audit.detail_json)["rule"] == "resume"
    # The countdown right after un-parking shows exactly the 11 h that were left at parking.
    clock = dl.countdown(cal, sh(16, 16), r.state, r.deadline_at, 2, "work_days")
    assert clock.seconds_left == 11 * HOUR and clock.status == "on_track"
    assert _invariants(env, r.case_id) == []


def test_the_fresh_setting_starts_the_whole_limit_again(env):
    r = _dispatched(env, sh(9, 10))  # due Wed 11th 10:00 (as above)
    # Parked Tue 10th 15:00 with Tue 2.5 h + Wed 08:30-10:00 1.5 h = 4 h left, which a city
    # that chose "fresh" does not give back.
    r = _park(env, r, sh(10, 15))
    with env.database.read() as s:
        assert s.get(Case, r.case_id).paused_left_seconds == 4 * HOUR
    assert settings.change(env.database, env.users[Role.ADMIN], {"unpark_rule": "fresh"}) == ["unpark_rule"]
    # Fresh: 2 working days = 14 h from Mon 16th 16:00: Mon 1.5 h, Tue 7 h (8.5 h),
    # Wed 18th 08:30-12:00 3.5 h (12 h) + 14:00-16:00 2 h -> due Wed 18th 16:00.
    r = _unpark(env, r, sh(16, 16))
    assert r.deadline_at == sh(18, 16)
    with env.database.read() as s:
        assert s.get(Case, r.case_id).paused_left_seconds is None
        assert settings.read(s, settings.UNPARK_RULE) == "fresh"
    assert _invariants(env, r.case_id) == []


def test_a_case_parked_overdue_resumes_overdue_by_the_same_working_time(env):
    r = _dispatched(env, sh(9, 10))  # due Wed 11th 10:00
    # Parked Thu 12th 09:00, overdue by Wed 10:00-12:00 2 h + 14:00-17:30 3.5 h
    # + Thu 08:30-09:00 0.5 h = 6 h: left = -6 h.
    r = _park(env, r, sh(12, 9))
    with env.database.read() as s:
        assert s.get(Case, r.case_id).paused_left_seconds == -6 * HOUR
    # Un-parked Mon 16th 15:00: the deadline is 6 working hours before then. Back from 15:00:
    # Mon 14:00-15:00 1 h (5 h to go), Mon 08:30-12:00 3.5 h (1.5 h to go), the weekend does
    # not count, Fri 13th 17:30 - 1.5 h -> due Fri 13th 16:00.
    r = _unpark(env, r, sh(16, 15))
    assert r.deadline_at == sh(13, 16)
    with env.database.read() as s:
        cal = load_calendar(s)
    clock = dl.countdown(cal, sh(16, 15), r.state, r.deadline_at, 2, "work_days")
    assert clock.status == "overdue" and clock.seconds_left == -6 * HOUR
    assert _invariants(env, r.case_id) == []


def test_time_left_kept_outside_parked_breaks_an_invariant(env):
    r = _dispatched(env, sh(9, 10))
    with env.database.write() as s:
        s.get(Case, r.case_id).paused_left_seconds = 60.0
    assert any("not parked" in p for p in _invariants(env, r.case_id))
