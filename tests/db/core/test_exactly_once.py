"""Exactly once (db.core.requests): a write sent with a request id happens once whatever the link
does, and the client learns for certain whether it happened.

The ambiguous commit is made for real: a TCP proxy between the application and PostgreSQL passes
the COMMIT to the server, drops the server's answer and cuts the link (tests/tcp_proxy.py), for
the report, every step of the loop and every alert action.
"""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from db.alerts import lifecycle as alerts
from db.auth.roles import Role
from db.cases import workflow as wf
from db.cases.workflow import State, Step
from db.core import jobs, requests
from db.core.engine import open_database
from db.core.errors import DatabaseUnavailable, ValidationError
from db.core.requests import OutcomeUnknown, new_request_id, outcome
from db.models import Alert, AuditLog, Case, CaseHistory, RequestLog
from db.settings import REQUEST_RETENTION_DAYS, put
from tests.conftest import Env
from tests.helpers import CENTRE, any_class_id, case_in_state, first_role, report, step_args
from tests.tcp_proxy import TcpProxy

UTC = dt.UTC


def _count(env, model, *where) -> int:
    with env.database.read() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _history(env, case_id: int, step: str) -> int:
    return _count(env, CaseHistory, CaseHistory.case_id == case_id, CaseHistory.step == step)


def _alarm(number: str, severity: str = "major") -> dict:
    return {"source": "110", "type": "transfer", "severity": severity,
            "dedup_key": f"110:{number}", "title": f"110转办：交通事故占道 {number}",
            "detail": "两车碰撞后停在车道上", "lat": CENTRE[0], "lon": CENTRE[1]}


# -- a retry is a no-op that returns the first result (both engines) -------------------------

def test_a_report_sent_twice_with_one_id_is_one_case_and_the_same_answer(env):
    rid = new_request_id()
    first = report(env, request_id=rid)
    again = report(env, request_id=rid)
    assert again == first  # the first result, rebuilt from the log: number, state, version
    assert _count(env, Case) == 1
    assert _count(env, AuditLog, AuditLog.action == "case.report") == 1
    with env.database.read() as s:
        row = s.get(RequestLog, rid)
        assert (row.operation, row.actor_id) == ("case.report", env.users[Role.DUTY_OFFICER])


def test_a_step_sent_twice_with_one_id_is_taken_once(env):
    case = report(env)
    rid = new_request_id()
    leader = env.users[Role.SHIFT_LEADER]
    accepted = wf.accept(env.database, leader, case.case_id, case.version,
                         class_id=any_class_id(env), request_id=rid)
    # The retry names the version seen before the first send: without the id this would be a
    # conflict ("changed by you"); with it, it is the same request and gets the same answer.
    again = wf.accept(env.database, leader, case.case_id, case.version,
                      class_id=any_class_id(env), request_id=rid)
    assert again == accepted and again.version == case.version + 1
    assert _history(env, case.case_id, "accept") == 1


def test_without_an_id_nothing_changes(env):
    case = report(env)
    assert _count(env, RequestLog) == 0
    wf.accept(env.database, env.users[Role.SHIFT_LEADER], case.case_id, case.version,
              class_id=any_class_id(env))
    assert _count(env, RequestLog) == 0


def test_a_refused_write_leaves_no_id_so_a_corrected_retry_runs(env):
    case = report(env)
    rid = new_request_id()
    with pytest.raises(ValidationError):  # voiding needs an opinion
        wf.void(env.database, env.users[Role.SHIFT_LEADER], case.case_id, case.version,
                opinion="  ", request_id=rid)
    assert _count(env, RequestLog) == 0
    done = wf.void(env.database, env.users[Role.SHIFT_LEADER], case.case_id, case.version,
                   opinion="重复上报", request_id=rid)
    assert done.state == State.VOID


@pytest.mark.parametrize("bad", ["", "short", "x" * 65, "has space in it 1234", 12345678901234567,
                                 None.__class__, "../../etc/passwd-----"])
def test_a_malformed_request_id_is_refused_before_anything_is_written(env, bad):
    with pytest.raises(ValidationError) as refused:
        report(env, request_id=bad)
    assert refused.value.code == "request_id_invalid"
    assert _count(env, Case) == 0


# -- an insider replaying someone else's request id --------------------------------------------

def test_another_accounts_request_id_is_refused_and_reveals_nothing(env):
    """An officer who saw a colleague's request id (a log, a screen) sends it with a write of
    their own: refused, nothing written, and the colleague's result is not handed over."""
    rid = new_request_id()
    theirs = report(env, role=Role.DUTY_OFFICER, request_id=rid)
    with pytest.raises(ValidationError) as refused:
        report(env, role=Role.SHIFT_LEADER, request_id=rid, description="另一件事")
    assert refused.value.code == "request_id_reused"
    assert theirs.number not in refused.value.message
    # The same account using the id for another kind of write: refused too.
    with pytest.raises(ValidationError) as other:
        wf.void(env.database, env.users[Role.DUTY_OFFICER], theirs.case_id, theirs.version,
                opinion="重复", request_id=rid)
    assert other.value.code == "request_id_reused"
    assert _count(env, Case) == 1
    assert _count(env, Case, Case.state == State.VOID.value) == 0


# -- asking what happened ------------------------------------------------------------------

def test_outcome_says_done_with_the_first_result_or_not_done(env):
    rid = new_request_id()
    assert outcome(env.database, rid).done is False
    assert _count(env, RequestLog) == 0  # asking writes nothing
    first = report(env, request_id=rid)
    found = outcome(env.database, rid)
    assert found.done and found.operation == "case.report"
    assert found.result(wf.StepResult) == first


# -- pruning after the city's retention ----------------------------------------------------------

def test_request_ids_are_pruned_after_the_citys_retention(env):
    """Retention 10 days, now 2026-12-02 12:00 UTC: the cut-off is 2026-11-22 12:00. An id
    written at 11-22 11:59 (10 days and 1 minute old) goes; one at 11-22 12:01 stays."""
    now = dt.datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    with env.database.write() as s:
        put(s, REQUEST_RETENTION_DAYS, 10, None, now)
        s.add_all([
            RequestLog(request_id="old-" + "a" * 28, operation="case.report",
                       at=dt.datetime(2026, 11, 22, 11, 59, tzinfo=UTC), result_json="null"),
            RequestLog(request_id="new-" + "b" * 28, operation="case.report",
                       at=dt.datetime(2026, 11, 22, 12, 1, tzinfo=UTC), result_json="null")])
    assert "requests.prune" in jobs.registry()
    jobs.registry().get("requests.prune").func(env.database, now)
    with env.database.read() as s:
        assert s.scalars(select(RequestLog.request_id)).all() == ["new-" + "b" * 28]


# -- the ambiguous commit, for real (PostgreSQL through a proxy) --------------------------------

@pytest.fixture
def cut(pg_env, monkeypatch):
    """The test database through a proxy that can cut a link at its COMMIT."""
    monkeypatch.setattr(requests, "ASK_PAUSES", (0.05, 0.1, 0.2))
    proxy = TcpProxy()
    proxy.start()
    url = make_url(pg_env.database.url).set(port=proxy.port).render_as_string(hide_password=False)
    database = open_database(url, migrate=False)
    yield proxy, Env(database, pg_env.users, pg_env.city_id, "postgresql")
    database.dispose()
    proxy.stop()


def _through(cut, when: str, call):
    proxy, via = cut
    proxy.cut_at_commit(when)
    before = proxy.commits_cut
    try:
        return call(via)
    finally:
        assert proxy.commits_cut == before + 1, "the proxy never saw the COMMIT it was to cut"


@pytest.mark.postgres
def test_a_report_whose_commit_answer_is_lost_is_reported_done_and_not_doubled(pg_env, cut):
    rid = new_request_id()
    result = _through(cut, "after", lambda via: report(via, request_id=rid))
    assert result.state == State.PENDING_ACCEPT
    # The officer presses "retry" anyway: the same id, the same case, no second one.
    assert report(cut[1], request_id=rid) == result
    assert _count(pg_env, Case) == 1


@pytest.mark.postgres
def test_a_report_cut_before_its_commit_is_reported_not_done_and_a_retry_writes_it_once(pg_env, cut):
    rid = new_request_id()
    with pytest.raises(DatabaseUnavailable) as lost:
        _through(cut, "before", lambda via: report(via, request_id=rid))
    assert lost.value.code == "database_unavailable"  # "not done", known, not a guess
    assert _count(pg_env, Case) == 0
    again = report(cut[1], request_id=rid)
    assert _count(pg_env, Case) == 1 and again.state == State.PENDING_ACCEPT


STEP_FROM = {
    Step.ACCEPT: State.PENDING_ACCEPT, Step.OPEN: State.PENDING_OPEN,
    Step.DISPATCH: State.PENDING_DISPATCH, Step.RETURN: State.HANDLING,
    Step.FEEDBACK: State.HANDLING, Step.REQUEST_EXTENSION: State.HANDLING,
    Step.APPROVE_EXTENSION: State.EXTENSION_PENDING, Step.REJECT_EXTENSION: State.EXTENSION_PENDING,
    Step.PARK: State.HANDLING, Step.UNPARK: State.PARKED, Step.VERIFY: State.PENDING_CHECK,
    Step.REWORK: State.PENDING_CHECK, Step.CLOSE: State.PENDING_CLOSE,
    Step.FIX_ON_SPOT: State.PENDING_ACCEPT, Step.VOID: State.PENDING_ACCEPT,
}


def test_every_step_is_tried_from_a_state_it_is_allowed_in():
    assert set(STEP_FROM) == set(Step)
    assert all(wf.find_transition(step, state) for step, state in STEP_FROM.items())


@pytest.mark.postgres
@pytest.mark.parametrize("step", list(Step), ids=lambda s: s.value)
def test_every_step_whose_commit_answer_is_lost_is_reported_done_and_taken_once(pg_env, cut, step):
    case = case_in_state(pg_env, STEP_FROM[step])
    role = Role.INSPECTOR if step == Step.FIX_ON_SPOT else first_role(step, case.state)
    args = step_args(pg_env, step)
    if step in (Step.RETURN, Step.PARK, Step.REWORK, Step.VOID, Step.REJECT_EXTENSION):
        args.setdefault("opinion", "按规定办理")
    fn = wf.STEP_FUNCTIONS[step]
    rid = new_request_id()
    result = _through(cut, "after", lambda via: fn(
        via.database, via.users[role], case.case_id, case.version, request_id=rid, **args))
    assert result.version == case.version + 1
    assert result.state == wf.find_transition(step, case.state).target
    again = fn(cut[1].database, pg_env.users[role], case.case_id, case.version, request_id=rid,
               **args)
    assert again == result
    assert _history(pg_env, case.case_id, step.value) == 1


def _alert_action(action: str, env, alert_id: int, case_no: str):
    officer, version = env.users[Role.DUTY_OFFICER], 1
    return {
        "acknowledge": lambda rid: alerts.acknowledge(env.database, officer, alert_id, version,
                                                      request_id=rid),
        "acknowledge_many": lambda rid: alerts.acknowledge_many(env.database, officer,
                                                                [(alert_id, version)],
                                                                request_id=rid),
        "clear": lambda rid: alerts.clear(env.database, officer, alert_id, version,
                                          note="误报", request_id=rid),
        "link_case": lambda rid: alerts.link_case(env.database, officer, alert_id, version,
                                                  case_no, request_id=rid),
        "to_case": lambda rid: alerts.to_case(env.database, officer, alert_id, version,
                                              class_id=None, request_id=rid),
    }[action]


@pytest.mark.postgres
@pytest.mark.parametrize("action", ["acknowledge", "acknowledge_many", "clear", "link_case",
                                    "to_case"])
def test_every_alert_action_whose_commit_answer_is_lost_is_reported_done_and_done_once(
        pg_env, cut, action):
    alert_id = alerts.raise_alert(pg_env.database, **_alarm("A1", "critical"))
    existing = report(pg_env)
    audited = _count(pg_env, AuditLog, AuditLog.entity == "alert", AuditLog.entity_id == alert_id)
    rid = new_request_id()
    first = _through(cut, "after",
                     lambda via: _alert_action(action, via, alert_id, existing.number)(rid))
    again = _alert_action(action, cut[1], alert_id, existing.number)(rid)
    assert again == first
    with pg_env.database.read() as s:
        alert = s.get(Alert, alert_id)
        assert alert.version == 2  # changed once, not twice
    assert _count(pg_env, AuditLog, AuditLog.entity == "alert",
                  AuditLog.entity_id == alert_id) == audited + 1
    assert _count(pg_env, Case) == (2 if action == "to_case" else 1)


@pytest.mark.postgres
def test_a_lost_commit_answer_with_the_database_gone_is_unknown_then_settled(pg_env, cut,
                                                                             monkeypatch):
    """The link drops at COMMIT and the database cannot be asked (the whole line is down):
    the client is told the outcome is unknown, never "not done"; once the line is back, asking
    by the id says done, with the first result."""
    proxy, via = cut
    rid = new_request_id()
    proxy.cut_at_commit("after")
    original_outcome = requests.outcome

    def line_down_while_asking(database, request_id):
        proxy.stop()  # every new connection refused until start()
        return original_outcome(database, request_id)

    monkeypatch.setattr(requests, "outcome", line_down_while_asking)
    with pytest.raises(OutcomeUnknown) as unknown:
        report(via, request_id=rid)
    monkeypatch.setattr(requests, "outcome", original_outcome)
    assert unknown.value.code == "outcome_unknown" and unknown.value.request_id == rid
    proxy.start()
    found = outcome(via.database, rid)
    assert found.done
    assert _count(pg_env, Case) == 1
    assert report(via, request_id=rid) == found.result(wf.StepResult)
    assert _count(pg_env, Case) == 1


@pytest.mark.postgres
def test_two_sends_of_one_id_at_once_write_once(pg_env):
    """Two threads (a double click, a retry racing the first send) with one id: the second
    waits for the first's transaction and gets its result."""
    rid = new_request_id()
    results: list = []
    errors: list = []
    start = threading.Barrier(2)

    def send():
        start.wait()
        try:
            results.append(report(pg_env, request_id=rid))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(results) == 2 and results[0] == results[1]
    assert _count(pg_env, Case) == 1


def test_every_public_versioned_write_in_db_takes_a_request_id():
    """The rule holds for records later issues add: a public function of db/ that writes through
    the versioned-write frame (directly or through its module's private frame helper) is
    decorated with ``exactly_once``; a new one without it fails here."""
    import ast
    from pathlib import Path

    frames = {"versioned_write", "versioned_write_in", "_run_step", "_alert_write"}
    missing, found = [], []
    for path in sorted(Path("db").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            calls = {n.func.id for n in ast.walk(node)
                     if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
            if not calls & frames or node.name in frames:
                continue
            decorated = any(isinstance(d, ast.Call) and getattr(d.func, "id", "") == "exactly_once"
                            for d in node.decorator_list)
            (found if decorated else missing).append(f"{path}:{node.name}")
    assert not missing, f"versioned writes without a request id: {missing}"
    assert len(found) >= 20  # the 15 case steps and the 5 alert actions
