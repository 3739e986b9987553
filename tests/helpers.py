"""Shared test helpers: create cases and drive them to any state through the real steps."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import func, select

from db.auth.roles import Role
from db.cases import workflow as wf
from db.cases.workflow import State, Step
from db.models import CallerTimeAllowed, CaseClass, Department

CENTRE = (23.02, 113.75)  # 东莞 city centre, inside the outline

# How to reach each state from 待受理, and who takes each step on the way.
PATHS: dict[State, list[Step]] = {
    State.PENDING_ACCEPT: [],
    State.PENDING_OPEN: [Step.ACCEPT],
    State.PENDING_DISPATCH: [Step.ACCEPT, Step.OPEN],
    State.HANDLING: [Step.ACCEPT, Step.OPEN, Step.DISPATCH],
    State.EXTENSION_PENDING: [Step.ACCEPT, Step.OPEN, Step.DISPATCH, Step.REQUEST_EXTENSION],
    State.PARKED: [Step.ACCEPT, Step.OPEN, Step.DISPATCH, Step.PARK],
    State.PENDING_CHECK: [Step.ACCEPT, Step.OPEN, Step.DISPATCH, Step.FEEDBACK],
    State.PENDING_CLOSE: [Step.ACCEPT, Step.OPEN, Step.DISPATCH, Step.FEEDBACK, Step.VERIFY],
    State.CLOSED: [Step.ACCEPT, Step.OPEN, Step.DISPATCH, Step.FEEDBACK, Step.VERIFY, Step.CLOSE],
    State.VOID: [Step.VOID],
}


def allow_caller_time(database) -> None:
    """Mark a test database as taking event times from its callers (``now=``), as only the
    owner or a superuser can (db.core.dbclock): tests date their events by hand. The test
    templates carry the mark (tests/conftest.py); a test making a database of its own adds it."""
    with database.write() as session:
        if session.get(CallerTimeAllowed, 1) is None:
            session.add(CallerTimeAllowed(id=1, reason="tests"))


def any_class_id(env, unit: str = "work_hours") -> int:
    with env.database.read() as s:
        return s.scalar(select(CaseClass.id).where(CaseClass.limit_unit == unit)
                        .order_by(CaseClass.id).limit(1))


def any_department_id(env) -> int:
    with env.database.read() as s:
        return s.scalar(select(func.min(Department.id)))


def report(env, role: Role = Role.DUTY_OFFICER, **kw) -> wf.StepResult:
    args = dict(source=wf.Source.HOTLINE_12345, lat=CENTRE[0], lon=CENTRE[1],
                description="东城街道某路段垃圾暴露", city_id=env.city_id)
    args.update(kw)
    return wf.report_case(env.database, env.users[role], **args)


def step_args(env, step: Step) -> dict:
    """Valid data for each step."""
    return {
        Step.ACCEPT: {"class_id": any_class_id(env)},
        # To the department the test department handler works for, and by name to the test
        # field officer: both may then act on it (db.auth.scope).
        Step.DISPATCH: {"department_id": any_department_id(env),
                        "user_id": env.users[Role.FIELD_OFFICER]},
        Step.REQUEST_EXTENSION: {"amount": 2, "unit": "work_hours", "opinion": "需协调供电部门"},
    }.get(step, {"opinion": "按规定办理"})


def first_role(step: Step, state: State) -> Role:
    return sorted(wf.find_transition(step, state).roles)[0]


def take(env, result: wf.StepResult, step: Step, role: Role | None = None, **extra) -> wf.StepResult:
    role = role or first_role(step, result.state)
    args = step_args(env, step)
    args.update(extra)
    return wf.STEP_FUNCTIONS[step](env.database, env.users[role], result.case_id, result.version,
                                   **args)


def case_in_state(env, state: State) -> wf.StepResult:
    result = report(env)
    for step in PATHS[state]:
        result = take(env, result, step)
    assert result.state == state
    return result


@contextmanager
def owner_database(env):
    """The test database as its owner (PostgreSQL: ``env.owner_url``; SQLite has no roles and
    gives ``env.database``), for what only an owner may do: migrate, lift a trigger."""
    if env.owner_url is None:
        yield env.database
        return
    from db.core.engine import open_database

    database = open_database(env.owner_url, migrate=False)
    try:
        yield database
    finally:
        database.dispose()


def production(env) -> None:
    """Make the test database a production one: the owner takes the caller-time mark away."""
    from sqlalchemy import delete

    with owner_database(env) as owner, owner.write() as s:
        s.execute(delete(CallerTimeAllowed))
