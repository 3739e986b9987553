"""The ``trust`` section of ``cityops bench``: what the database's own guards cost a workstation.

Four scratch databases of the engine named (never the named database itself), migrated to
head, then:

* ``both``: as shipped: the loop's triggers (migration 0006) and the audit hash chain (0007);
* ``loop``: the hash chain's trigger dropped;
* ``chain``: the loop's triggers, checks and history index dropped;
* ``neither``: both dropped: the baseline.

The same closed loop as the ``workflow`` section (:data:`db.bench.workflow.LOOP`, full steps
through :mod:`db.cases.workflow`) runs on each, in rounds that take the four in turn, so a
load that comes and goes on the machine falls on all of them alike. The figure is closed-loop
steps per second; each configuration's ratio to ``neither`` is what its guards cost.

A step's time is mostly Python and the commit's flush to disk, which can hide the triggers in
the noise; so each round also takes the round's closed cases five times round rework → feedback →
verify → close as bare SQL (case UPDATE, history row, audit row per step) in one transaction:
the database's own work, where the triggers' share shows.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import func, insert, select, text, update

from db.bench.workflow import LOOP, _accounts
from db.cases import workflow as wf
from db.cases.guards import SQLITE_CASE_TRIGGERS, SQLITE_HISTORY_GUARDS
from db.core.engine import Database
from db.core.scratch import scratch_database
from db.models import AuditLog, Case, CaseClass, CaseHistory, Department, UserAccount, utcnow
from db.reference.city import ensure_reference_data

CONFIGS = ("both", "loop", "chain", "neither")
#: A closed case can go round this cycle again and again (the bare-SQL figure).
BARE_CYCLE = (wf.Step.REWORK, wf.Step.FEEDBACK, wf.Step.VERIFY, wf.Step.CLOSE)
BARE_CYCLES = 5
WHO = {wf.Step.ACCEPT: "duty_officer", wf.Step.OPEN: "duty_officer",
       wf.Step.DISPATCH: "dispatcher", wf.Step.FEEDBACK: "department_handler",
       wf.Step.VERIFY: "inspector", wf.Step.CLOSE: "shift_leader"}


def drop_chain(database: Database) -> None:
    """Drop the audit log's hash-chain trigger (a scratch database only)."""
    with database.write() as s:
        if database.is_postgres:
            s.execute(text("DROP TRIGGER audit_log_chain ON audit_log"))
        else:
            s.execute(text("DROP TRIGGER audit_log_chain"))
            s.execute(text("DROP TRIGGER audit_log_hashes_are_set_here"))


def drop_loop_guards(database: Database) -> None:
    """Drop what migration 0006 made the database check (a scratch database only)."""
    with database.write() as s:
        if database.is_postgres:
            for trigger in ("case_state_guard", "case_history_required_insert",
                            "case_history_required_update"):
                s.execute(text(f'DROP TRIGGER {trigger} ON "case"'))
            s.execute(text("DROP TRIGGER case_history_no_change ON case_history"))
            s.execute(text('ALTER TABLE "case" DROP CONSTRAINT ck_case_state'))
            s.execute(text("ALTER TABLE case_history DROP CONSTRAINT ck_case_history_to_state"))
            s.execute(text("ALTER TABLE case_history DROP CONSTRAINT ck_case_history_from_state"))
        else:
            for name, _ddl in (*SQLITE_CASE_TRIGGERS, *SQLITE_HISTORY_GUARDS):
                s.execute(text(f"DROP TRIGGER {name}"))
            s.execute(text("DROP TRIGGER case_history_state_value"))
            s.execute(text("DROP TABLE case_check"))  # and its own triggers with it
            s.execute(text("DROP INDEX uq_case_history_case_id_version_to_state"))
        s.execute(text("DROP INDEX uq_case_history_case_id_version"))


class _Loop:
    """One scratch database ready to run the loop on new cases."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.city_id = ensure_reference_data(database)
        self.users = {role.value: uid for role, uid in _accounts(database).items()}
        with database.read() as s:
            cls = s.scalar(select(CaseClass.id).where(CaseClass.limit_unit == "work_hours")
                           .limit(1))
            dept = s.scalar(select(func.min(Department.id)))
        with database.write() as s:  # the handler acts on its own department's cases only
            s.get(UserAccount, self.users["department_handler"]).department_id = dept
        self.data = {wf.Step.ACCEPT: {"class_id": cls}, wf.Step.DISPATCH: {"department_id": dept},
                     wf.Step.FEEDBACK: {"opinion": "已处置"}}
        self.steps = 0
        self.seconds = 0.0
        self.rounds: list[float] = []
        self.bare_steps = 0
        self.bare_seconds = 0.0
        self.closed: list[tuple[int, int]] = []

    def run(self, cases: int) -> None:
        reported = [wf.report_case(self.database, self.users["duty_officer"],
                                   source="hotline_12345", lat=23.02 + (i % 50) * 1e-4,
                                   lon=113.75, city_id=self.city_id, description=f"信任基准 {i}")
                    for i in range(cases)]
        t0 = time.perf_counter()
        reported_done = []
        for r in reported:
            for step in LOOP:
                r = wf.STEP_FUNCTIONS[step](self.database, self.users[WHO[step]], r.case_id,
                                            r.version, **self.data.get(step, {}))
            reported_done.append(r)
        took = time.perf_counter() - t0
        self.closed = [(r.case_id, r.version) for r in reported_done]
        self.seconds += took
        self.steps += cases * len(LOOP)
        self.rounds.append(round(cases * len(LOOP) / took, 1))

    def run_bare(self, cycles: int) -> None:
        """The database's share alone: the closed cases of the last :meth:`run` go round
        rework → feedback → verify → close ``cycles`` times as bare SQL (case UPDATE, history
        row, audit row per step), all in ONE transaction, so no commit's flush to disk hides
        what the triggers cost."""
        t0 = time.perf_counter()
        with self.database.write() as s:
            for case_id, version in self.closed:
                state = wf.State.CLOSED.value
                for _ in range(cycles):
                    for step in BARE_CYCLE:
                        target = wf.find_transition(step, state).target.value
                        s.execute(update(Case).where(Case.id == case_id)
                                  .values(state=target, version=version + 1))
                        s.execute(insert(CaseHistory).values(
                            case_id=case_id, step=step.value, from_state=state,
                            to_state=target, actor_name="bench", at=utcnow(), opinion="",
                            data_json="{}", version=version + 1))
                        s.execute(insert(AuditLog).values(
                            at=utcnow(), actor_name="bench", action=f"case.{step.value}",
                            entity="case", entity_id=case_id, detail_json="{}"))
                        state, version = target, version + 1
        self.bare_seconds += time.perf_counter() - t0
        self.bare_steps += len(self.closed) * cycles * len(BARE_CYCLE)

    @property
    def per_s(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0


def measure(url: str, cases: int, rounds: int = 4,
            progress: Callable[[str], None] | None = None) -> dict:
    """Run ``cases`` cases through the loop on each configuration, in ``rounds`` rounds."""
    drops = {"both": (), "loop": (drop_chain,), "chain": (drop_loop_guards,),
             "neither": (drop_chain, drop_loop_guards)}
    per_round = max(1, cases // rounds)
    with (scratch_database(url) as d_both, scratch_database(url) as d_loop,
          scratch_database(url) as d_chain, scratch_database(url) as d_none):
        databases = dict(zip(CONFIGS, (d_both, d_loop, d_chain, d_none)))
        loops = {}
        for name, database in databases.items():
            for drop in drops[name]:
                drop(database)
            loops[name] = _Loop(database)
        for i in range(rounds):
            for name in CONFIGS:
                loops[name].run(per_round)
                loops[name].run_bare(BARE_CYCLES)
            if progress:
                progress(f"round {i + 1}/{rounds}: " + ", ".join(
                    f"{n} {loops[n].per_s:.0f}/s" for n in CONFIGS))
        rates = {name: round(loop.per_s, 1) for name, loop in loops.items()}
        per_round_rates = {name: loop.rounds for name, loop in loops.items()}
        bare = {name: round(loop.bare_steps / loop.bare_seconds, 1) for name, loop in loops.items()}
    base = rates["neither"]
    return {
        "rounds_steps_per_s": per_round_rates,
        "bare_steps_per_s": bare,
        "engine": d_both.engine.dialect.name,
        "cases_per_config": per_round * rounds,
        "steps_per_config": per_round * rounds * len(LOOP),
        "rounds": rounds,
        "steps_per_s": rates,
        "cost_percent": {name: round(100 * (1 - rates[name] / base), 1) if base else None
                         for name in ("both", "loop", "chain")},
    }


__all__ = ["CONFIGS", "drop_chain", "drop_loop_guards", "measure"]
