"""Who may touch what (db.auth.scope), attacked as an insider with a workstation's credentials
would: a department handler or a field officer calling the data layer directly on cases that
are not theirs, and reading what is not theirs to see.

The city of these tests, built by hand (:func:`_city`):

* two grids of 0.02° × 0.02°: grid N around (23.02, 113.75), grid S around (22.98, 113.75);
* the field officer's account is linked to staff member 老李, a member of grid N only;
* the department handler works for department A (the first department); B is another one.

Cases (:func:`_cases`), reported at a grid's centre so that the report places them in it:

====  ======  ============================================  =====================
name  grid    dispatched to                                 state
====  ======  ============================================  =====================
a1    N       department A                                  handling
a2    S       department A                                  handling
b1    N       department B                                  handling
b2    S       department B, by name to the field officer    handling
s1    S       department B                                  handling
w1    S       (not dispatched)                              pending dispatch
====  ======  ============================================  =====================

By hand, the department handler's cases are those of department A: a1, a2 (2 of 6). The field
officer's are grid N's (a1, b1) and the one assigned to them by name (b2): 3 of 6. A desk role
sees all 6.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from db.auth.roles import Role
from db.auth.scope import SYSTEM, Scope, actor_scope, scope_of
from db.cases import queries as q
from db.cases import workflow as wf
from db.cases.workflow import State, Step
from db.core.errors import PermissionDenied, ValidationError
from db.geo import map_data
from db.models import (
    AuditLog,
    Case,
    CaseHistory,
    ChangeLog,
    Department,
    Grid,
    GridMember,
    Staff,
    Town,
    UserAccount,
)
from tests.helpers import any_class_id, report

NORTH = (23.02, 113.75)
SOUTH = (22.98, 113.75)
ALL_STATES = q.QueueFilter(states=frozenset(s.value for s in State))


def _square(lat: float, lon: float) -> str:
    ring = [[lon - 0.01, lat - 0.01], [lon + 0.01, lat - 0.01], [lon + 0.01, lat + 0.01],
            [lon - 0.01, lat + 0.01], [lon - 0.01, lat - 0.01]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _city(env) -> dict:
    """Two grids, a field officer in grid N, two departments (see the module docstring)."""
    with env.database.write() as s:
        town = s.scalar(select(func.min(Town.id)))
        dept_a, dept_b = s.scalars(select(Department.id).order_by(Department.id).limit(2)).all()
        north = Grid(code="G-N", name="北网格", town_id=town, center_lat=NORTH[0],
                     center_lon=NORTH[1], polygon_geojson=_square(*NORTH))
        south = Grid(code="G-S", name="南网格", town_id=town, center_lat=SOUTH[0],
                     center_lon=SOUTH[1], polygon_geojson=_square(*SOUTH))
        lao_li = Staff(code="S-LI", name="老李", title="协管员", town_id=town, department_id=dept_b)
        s.add_all([north, south, lao_li])
        s.flush()
        s.add(GridMember(grid_id=north.id, staff_id=lao_li.id))
        s.get(UserAccount, env.users[Role.FIELD_OFFICER]).staff_id = lao_li.id
        assert s.get(UserAccount, env.users[Role.DEPARTMENT_HANDLER]).department_id == dept_a
        ids = {"north": north.id, "south": south.id, "dept_a": dept_a, "dept_b": dept_b,
               "lao_li": lao_li.id}
    env.database.cache.pop("geo", None)  # the grids are new: locate reported points afresh
    return ids


def _handling(env, where, department_id: int, **assignee) -> wf.StepResult:
    db, duty = env.database, env.users[Role.DUTY_OFFICER]
    r = report(env, lat=where[0], lon=where[1])
    r = wf.accept(db, duty, r.case_id, r.version, class_id=any_class_id(env))
    r = wf.open_case(db, duty, r.case_id, r.version)
    if department_id is None:
        return r
    return wf.dispatch(db, env.users[Role.DISPATCHER], r.case_id, r.version,
                       department_id=department_id, **assignee)


def _cases(env, city) -> dict[str, wf.StepResult]:
    return {
        "a1": _handling(env, NORTH, city["dept_a"]),
        "a2": _handling(env, SOUTH, city["dept_a"]),
        "b1": _handling(env, NORTH, city["dept_b"]),
        "b2": _handling(env, SOUTH, city["dept_b"], user_id=env.users[Role.FIELD_OFFICER]),
        "s1": _handling(env, SOUTH, city["dept_b"]),
        "w1": _handling(env, SOUTH, None),
    }


@pytest.fixture
def world(env):
    city = _city(env)
    cases = _cases(env, city)
    with env.database.read() as s:  # the fixture is what the docstring says it is
        grids = {name: s.get(Case, r.case_id).grid_id for name, r in cases.items()}
    assert grids == {"a1": city["north"], "a2": city["south"], "b1": city["north"],
                     "b2": city["south"], "s1": city["south"], "w1": city["south"]}
    return env, city, cases


def _footprint(env, case_id: int) -> tuple:
    """What a step leaves behind on a case: history rows, audit rows, feed rows, version."""
    with env.database.read() as s:
        return (
            s.scalar(select(func.count()).select_from(CaseHistory)
                     .where(CaseHistory.case_id == case_id)),
            s.scalar(select(func.count()).select_from(AuditLog)
                     .where(AuditLog.entity == "case", AuditLog.entity_id == case_id)),
            s.scalar(select(func.count()).select_from(ChangeLog)
                     .where(ChangeLog.entity == "case", ChangeLog.entity_id == case_id)),
            s.get(Case, case_id).version,
            s.get(Case, case_id).state,
        )


# -- the steps ------------------------------------------------------------------------------

@pytest.mark.parametrize("step", [Step.FEEDBACK, Step.RETURN, Step.REQUEST_EXTENSION])
def test_a_department_handler_cannot_step_on_another_departments_case(world, step):
    env, _city, cases = world
    target = cases["b1"]  # department B's; the handler works for A
    before = _footprint(env, target.case_id)
    args = {"opinion": "已处理"} if step != Step.REQUEST_EXTENSION else \
        {"opinion": "需协调", "amount": 2, "unit": "work_hours"}
    with pytest.raises(PermissionDenied) as refused:
        wf.STEP_FUNCTIONS[step](env.database, env.users[Role.DEPARTMENT_HANDLER], target.case_id,
                                target.version, **args)
    assert refused.value.code == "case_out_of_scope"
    assert _footprint(env, target.case_id) == before  # no history, no audit, no feed, version
    # Its own department's case, the same step: done.
    own = cases["a1"]
    done = wf.STEP_FUNCTIONS[step](env.database, env.users[Role.DEPARTMENT_HANDLER], own.case_id,
                                   own.version, **args)
    assert done.version == own.version + 1


def test_a_field_officer_acts_only_in_their_grid_or_on_what_is_assigned_to_them(world):
    env, _city, cases = world
    officer = env.users[Role.FIELD_OFFICER]
    for name in ("a2", "s1"):  # grid S, not assigned to them
        r = cases[name]
        before = _footprint(env, r.case_id)
        with pytest.raises(PermissionDenied) as refused:
            wf.feedback(env.database, officer, r.case_id, r.version, opinion="已处理")
        assert refused.value.code == "case_out_of_scope"
        assert _footprint(env, r.case_id) == before, name
    # Grid N (their grid), whichever department has it; grid S but assigned to them by name.
    for name in ("a1", "b1", "b2"):
        r = cases[name]
        assert wf.feedback(env.database, officer, r.case_id, r.version,
                           opinion="已处理").state == State.PENDING_CHECK


def test_a_field_officer_fixes_on_the_spot_only_in_their_grid(world):
    env, _city, _cases = world
    officer = env.users[Role.FIELD_OFFICER]
    theirs = report(env, lat=NORTH[0], lon=NORTH[1])
    other = report(env, lat=SOUTH[0], lon=SOUTH[1])
    before = _footprint(env, other.case_id)
    with pytest.raises(PermissionDenied):
        wf.fix_on_spot(env.database, officer, other.case_id, other.version, opinion="已清理")
    assert _footprint(env, other.case_id) == before
    assert wf.fix_on_spot(env.database, officer, theirs.case_id, theirs.version,
                          opinion="已清理").state == State.CLOSED


def test_a_department_handler_without_a_department_touches_nothing(world):
    env, _city, cases = world
    handler = env.users[Role.DEPARTMENT_HANDLER]
    with env.database.write() as s:
        s.get(UserAccount, handler).department_id = None
    r = cases["a1"]
    before = _footprint(env, r.case_id)
    with pytest.raises(PermissionDenied):
        wf.feedback(env.database, handler, r.case_id, r.version, opinion="已处理")
    assert _footprint(env, r.case_id) == before
    with env.database.read() as s:
        assert q.queue_ids(s, ALL_STATES, actor=handler) == []


def test_desk_roles_work_city_wide(world):
    env, _city, cases = world
    r = cases["s1"]
    assert wf.park(env.database, env.users[Role.SHIFT_LEADER], r.case_id, r.version,
                   opinion="待财政拨款").state == State.PARKED


# -- dispatch to someone who can no longer act ------------------------------------------------

def test_dispatch_to_a_deactivated_account_or_person_is_refused(world):
    env, city, cases = world
    r = cases["w1"]
    with env.database.write() as s:
        s.get(UserAccount, env.users[Role.FIELD_OFFICER]).active = False
        gone = Staff(code="S-GONE", name="离职者", title="协管员", active=False)
        s.add(gone)
        s.flush()
        gone_id = gone.id
    before = _footprint(env, r.case_id)
    for assignee in ({"user_id": env.users[Role.FIELD_OFFICER]}, {"staff_id": gone_id}):
        with pytest.raises(ValidationError) as refused:
            wf.dispatch(env.database, env.users[Role.DISPATCHER], r.case_id, r.version,
                        department_id=city["dept_a"], **assignee)
        assert refused.value.code == "assignee_inactive", assignee
    assert _footprint(env, r.case_id) == before
    done = wf.dispatch(env.database, env.users[Role.DISPATCHER], r.case_id, r.version,
                       department_id=city["dept_a"])
    assert done.state == State.HANDLING


# -- the reads ------------------------------------------------------------------------------

def test_the_queue_holds_the_actors_cases_only(world):
    env, _city, cases = world
    ids = {name: r.case_id for name, r in cases.items()}
    with env.database.read() as s:
        handler = q.queue_ids(s, ALL_STATES, actor=env.users[Role.DEPARTMENT_HANDLER])
        officer = q.queue_ids(s, ALL_STATES, actor=env.users[Role.FIELD_OFFICER])
        desk = q.queue_ids(s, ALL_STATES, actor=env.users[Role.DUTY_OFFICER])
        # Counted by hand in the module docstring: 2, 3 and 6.
        assert sorted(handler) == sorted([ids["a1"], ids["a2"]])
        assert sorted(officer) == sorted([ids["a1"], ids["b1"], ids["b2"]])
        assert sorted(desk) == sorted(ids.values())
        assert q.count_by_state(s, actor=env.users[Role.DEPARTMENT_HANDLER]) == {"handling": 2}
        assert q.count_by_state(s, actor=env.users[Role.DUTY_OFFICER]) == \
            {"handling": 5, "pending_dispatch": 1}
        # The rows, the sort keys and the search are no way round it either.
        everyone = list(ids.values())
        assert set(q.case_rows(s, everyone, actor=env.users[Role.DEPARTMENT_HANDLER])) == \
            {ids["a1"], ids["a2"]}
        assert set(q.sort_keys(s, q.QueueSort(), everyone,
                               actor=env.users[Role.FIELD_OFFICER])) == \
            {ids["a1"], ids["b1"], ids["b2"]}
        number = s.get(Case, ids["b1"]).number
        assert q.find_by_number_or_phone(s, number, actor=env.users[Role.DEPARTMENT_HANDLER]) \
            == []
        assert [m.id for m in q.find_by_number_or_phone(
            s, number, actor=env.users[Role.FIELD_OFFICER])] == [ids["b1"]]
        # The map's case layer too (its open cases: w1 is open, so the desk's map has all 6).
        assert {p.id for p in map_data.case_points(
            s, env.city_id, actor=env.users[Role.DEPARTMENT_HANDLER])} == {ids["a1"], ids["a2"]}
        assert {p.id for p in map_data.case_points(
            s, env.city_id, ids=everyone, actor=env.users[Role.FIELD_OFFICER])} == \
            {ids["a1"], ids["b1"], ids["b2"]}
        assert len(map_data.case_points(s, env.city_id, actor=env.users[Role.DUTY_OFFICER])) == 6


def test_the_detail_refuses_a_case_outside_the_scope_and_offers_only_allowed_steps(world):
    env, _city, cases = world
    handler = env.users[Role.DEPARTMENT_HANDLER]
    with env.database.read() as s:
        with pytest.raises(PermissionDenied) as refused:
            q.case_detail(s, cases["b1"].case_id, actor=handler)
        assert refused.value.code == "case_out_of_scope"
        own = q.case_detail(s, cases["a1"].case_id, actor=handler)
        assert own.steps == (Step.RETURN, Step.FEEDBACK, Step.REQUEST_EXTENSION)
        desk = q.case_detail(s, cases["b1"].case_id, actor=env.users[Role.SHIFT_LEADER])
        assert desk.steps == (Step.RETURN, Step.PARK)
        assert q.case_detail(s, cases["b1"].case_id, actor=SYSTEM).steps == ()
        # The steps offered are the steps the table and the scope allow, asked of one rule.
        case = s.get(Case, cases["b1"].case_id)
        assert wf.steps_allowed(actor_scope(s, handler), case) == []
        assert wf.steps_allowed(actor_scope(s, env.users[Role.FIELD_OFFICER]), case) == \
            [Step.RETURN, Step.FEEDBACK, Step.REQUEST_EXTENSION]


def test_a_deactivated_account_reads_nothing(world):
    env, _city, cases = world
    handler = env.users[Role.DEPARTMENT_HANDLER]
    with env.database.write() as s:
        s.get(UserAccount, handler).active = False
    with env.database.read() as s:
        for read in (lambda: q.queue_ids(s, actor=handler),
                     lambda: q.case_detail(s, cases["a1"].case_id, actor=handler)):
            with pytest.raises(PermissionDenied) as refused:
                read()
            assert refused.value.code == "account_inactive"


def test_the_python_rule_and_the_sql_rule_agree(world):
    """Scope.covers (the steps) and Scope.clause (the reads) pick the same cases, for every
    role and for odd accounts (no department, no staff, a grid leader)."""
    env, city, cases = world
    with env.database.write() as s:
        s.get(Grid, city["south"]).leader_id = city["lao_li"]  # now they lead grid S too
    with env.database.read() as s:
        rows = s.scalars(select(Case)).all()
        scopes = [actor_scope(s, uid) for uid in env.users.values()]
        scopes += [Scope(actor_id=None, role=Role.DEPARTMENT_HANDLER),
                   Scope(actor_id=10**6, role=Role.FIELD_OFFICER), SYSTEM]
        officer = scope_of(s, s.get(UserAccount, env.users[Role.FIELD_OFFICER]))
        assert officer.grid_ids == {city["north"], city["south"]}
        for scope in scopes:
            clause = scope.clause()
            stmt = select(Case.id) if clause is None else select(Case.id).where(clause)
            in_sql = set(s.scalars(stmt))
            in_python = {c.id for c in rows if scope.covers(c)}
            assert in_sql == in_python, scope
    assert len(rows) == len(cases)
