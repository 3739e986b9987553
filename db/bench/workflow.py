"""The workflow section of ``cityops bench`` (:mod:`desktop.bench.runner` runs it on a scratch
database and reports it with the others): throughput against a baseline measured in the same
run.

Figures
-------
* ``report``: cases reported per second through :func:`db.cases.workflow.report_case`.
* ``steps``: closed-loop steps per second (accept → open → dispatch → feedback → verify →
  close), each a full step: role and state checks, version guard, case + history + audit +
  change-feed rows in one transaction.
* ``steps_once``: the same loop on as many other cases, each step sent with a request id
  (:mod:`db.core.requests`: one more row inserted and updated per step), against ``steps``:
  what exactly-once costs.
* baseline: the same number of transactions, each the least the database accepts for a step
  (migration 0006): ``UPDATE case SET state, version`` along the same transitions plus the
  step's ``case_history`` row, on as many other cases reported beforehand (not timed); no
  role or data checks, no audit or change-feed rows. The ratio shows what the workflow's own
  checks and records cost on top of what the database enforces. What the database's triggers
  and the audit hash chain cost is the ``trust`` section (:mod:`db.bench.trust`).

:func:`measure` takes the database it is given; the runner gives it a scratch one
(:func:`db.core.scratch.scratch_database`), never the database the user named.
"""
from __future__ import annotations

import time

from sqlalchemy import func, insert, select, update

from db.auth.roles import Role
from db.auth.security import hash_password
from db.cases import workflow as wf
from db.core.engine import Database
from db.core.requests import new_request_id
from db.models import Case, CaseClass, CaseHistory, Department, UserAccount, utcnow
from db.reference.city import ensure_reference_data

LOOP = (wf.Step.ACCEPT, wf.Step.OPEN, wf.Step.DISPATCH, wf.Step.FEEDBACK, wf.Step.VERIFY,
        wf.Step.CLOSE)


def _accounts(database: Database) -> dict[Role, int]:
    hashed = hash_password("bench")
    with database.write() as session:
        users = {}
        for role in (Role.DUTY_OFFICER, Role.DISPATCHER, Role.DEPARTMENT_HANDLER,
                     Role.INSPECTOR, Role.SHIFT_LEADER):
            user = UserAccount(username=f"bench_{role.value}", display_name=role.label,
                               role=role.value, password_hash=hashed)
            session.add(user)
            session.flush()
            users[role] = user.id
        return users


def bare_steps(database: Database, case_id: int) -> None:
    """The loop on a freshly reported case as bare SQL: per step one transaction with the
    case's UPDATE and its history row, nothing else (what the database's triggers accept)."""
    state, version = wf.State.PENDING_ACCEPT.value, 1  # as reported
    for step in LOOP:
        target = wf.find_transition(step, state).target.value
        with database.write() as session:
            session.execute(update(Case).where(Case.id == case_id)
                            .values(state=target, version=version + 1))
            session.execute(insert(CaseHistory).values(
                case_id=case_id, step=step.value, from_state=state, to_state=target,
                actor_name="bench", at=utcnow(), opinion="", data_json="{}",
                version=version + 1))
        state, version = target, version + 1


def measure(database: Database, cases: int) -> dict:
    """Run the loop on ``cases`` new cases; return the figures."""
    city_id = ensure_reference_data(database)
    users = _accounts(database)
    with database.read() as s:
        class_id = s.scalar(select(CaseClass.id).where(CaseClass.limit_unit == "work_hours").limit(1))
        dept = s.scalar(select(func.min(Department.id)))
    with database.write() as s:  # the handler acts on its own department's cases only
        s.get(UserAccount, users[Role.DEPARTMENT_HANDLER]).department_id = dept
    who = {wf.Step.ACCEPT: Role.DUTY_OFFICER, wf.Step.OPEN: Role.DUTY_OFFICER,
           wf.Step.DISPATCH: Role.DISPATCHER, wf.Step.FEEDBACK: Role.DEPARTMENT_HANDLER,
           wf.Step.VERIFY: Role.INSPECTOR, wf.Step.CLOSE: Role.SHIFT_LEADER}
    data = {wf.Step.ACCEPT: {"class_id": class_id}, wf.Step.DISPATCH: {"department_id": dept},
            wf.Step.FEEDBACK: {"opinion": "已处置"}}

    t0 = time.perf_counter()
    results = [wf.report_case(database, users[Role.DUTY_OFFICER], source="hotline_12345",
                              lat=23.02 + (i % 50) * 1e-4, lon=113.75, city_id=city_id,
                              description=f"基准测试案件 {i}") for i in range(cases)]
    t_report = time.perf_counter() - t0

    t0 = time.perf_counter()
    for r in results:
        for step in LOOP:
            r = wf.STEP_FUNCTIONS[step](database, users[who[step]], r.case_id, r.version,
                                        **data.get(step, {}))
    t_steps = time.perf_counter() - t0
    n_steps = cases * len(LOOP)

    once = [wf.report_case(database, users[Role.DUTY_OFFICER], source="hotline_12345",
                           lat=23.02 + (i % 50) * 1e-4, lon=113.75, city_id=city_id,
                           description=f"基准测试案件（请求编号）{i}") for i in range(cases)]
    t0 = time.perf_counter()
    for r in once:
        for step in LOOP:
            r = wf.STEP_FUNCTIONS[step](database, users[who[step]], r.case_id, r.version,
                                        request_id=new_request_id(), **data.get(step, {}))
    t_once = time.perf_counter() - t0

    bare = [wf.report_case(database, users[Role.DUTY_OFFICER], source="hotline_12345",
                           lat=23.02 + (i % 50) * 1e-4, lon=113.75, city_id=city_id,
                           description=f"基准测试案件（基线）{i}") for i in range(cases)]
    t0 = time.perf_counter()
    for r in bare:
        bare_steps(database, r.case_id)
    t_base = time.perf_counter() - t0

    steps_per_s = n_steps / t_steps
    base_per_s = n_steps / t_base
    return {
        "engine": database.engine.dialect.name,
        "cases": cases,
        "report_per_s": round(cases / t_report, 1),
        "steps": n_steps,
        "steps_per_s": round(steps_per_s, 1),
        "steps_with_request_id_per_s": round(n_steps / t_once, 1),
        "baseline_bare_update_per_s": round(base_per_s, 1),  # UPDATE + history row
        "ratio_steps_to_baseline": round(steps_per_s / base_per_s, 3),
    }
