"""One way to run an operation: busy, offline with "try again", every outcome worded once, the
heavy lane never holding up reads and writes, and a widget told its own change."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QWidget
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from db.auth.roles import Role
from db.auth.scope import SYSTEM
from db.cases import queries
from db.cases import workflow as wf
from db.cases.workflow import State, Step
from db.core import requests
from db.core.engine import open_database
from db.core.entities import Entity
from db.core.errors import DatabaseUnavailable
from db.models import Case, CaseHistory
from desktop.cases.detail import CaseDetailPanel
from desktop.core.errors import Outcome
from tests.conftest import Env
from tests.helpers import any_class_id, report
from tests.tcp_proxy import TcpProxy


def _run(qtbot, ctx, origin, fn, **kw):
    reports = []
    ctx.operations.run(origin, "Test", fn, on_done=reports.append, **kw)
    qtbot.waitUntil(lambda: bool(reports), timeout=10_000)
    return reports[0]


def test_busy_then_done_then_offline_and_retry(qtbot, sqlite_env, ctx_factory):
    ctx = ctx_factory(sqlite_env)
    origin = QWidget()
    qtbot.addWidget(origin)
    gate = threading.Event()
    first, second = [], []
    assert ctx.operations.run(origin, "Slow", lambda _rid: gate.wait(10), on_done=first.append)
    assert not ctx.operations.run(origin, "Again", lambda _rid: 1, on_done=second.append)
    assert second[0].outcome == Outcome.BUSY and not first  # said at once, the first still runs
    gate.set()
    qtbot.waitUntil(lambda: bool(first), timeout=10_000)
    assert first[0].outcome == Outcome.DONE and first[0].text == "Slow done."

    ctx.online = False
    calls = []
    offline = []
    assert not ctx.operations.run(origin, "Count", lambda _rid: calls.append(1) or len(calls),
                                  on_done=offline.append)
    assert offline[0].outcome == Outcome.OFFLINE and offline[0].retry and calls == []
    ctx.online = True
    assert ctx.operations.retry(origin)  # the very same request, sent again
    qtbot.waitUntil(lambda: len(offline) == 2, timeout=10_000)
    assert offline[1].outcome == Outcome.DONE and offline[1].value == 1 and calls == [1]


def test_refusal_conflict_and_failure_are_worded(qtbot, sqlite_env, ctx_factory):
    ctx = ctx_factory(sqlite_env)
    origin = QWidget()
    qtbot.addWidget(origin)
    r = report(sqlite_env)
    database, me = sqlite_env.database, sqlite_env.users[Role.DUTY_OFFICER]
    refused = _run(qtbot, ctx, origin, lambda rid: wf.void(database, me, r.case_id, r.version,
                                                             opinion=" ", request_id=rid))
    assert refused.outcome == Outcome.REFUSED and refused.text == "Please fill in the opinion."
    wf.accept(database, sqlite_env.users[Role.SHIFT_LEADER], r.case_id, r.version,
              class_id=any_class_id(sqlite_env))
    conflict = _run(qtbot, ctx, origin, lambda rid: wf.void(database, me, r.case_id, r.version,
                                                              opinion="重复", request_id=rid))
    assert conflict.outcome == Outcome.CONFLICT
    assert conflict.text.startswith("This case was changed by 测试值班长 at ")

    def boom(_rid):
        raise ZeroDivisionError("boom")

    failed = _run(qtbot, ctx, origin, boom)
    assert failed.outcome == Outcome.FAILED and "boom" in failed.text


def test_the_heavy_lane_never_holds_up_a_read_or_a_step(qtbot, sqlite_env, ctx_factory):
    """A report that reads for a long time (here: until released) runs on ctx.heavy; the queue's
    read and a workflow step finish meanwhile."""
    ctx = ctx_factory(sqlite_env)
    r = report(sqlite_env)
    release = threading.Event()
    heavy_done = []
    ctx.heavy.run(lambda: release.wait(30), heavy_done.append)
    database = ctx.database
    ids = []

    def read_queue():
        with database.read() as s:
            return queries.queue_ids(s, queries.QueueFilter(city_id=ctx.city_id), actor=SYSTEM)

    ctx.reads.run(read_queue, ids.append)
    origin = QWidget()
    qtbot.addWidget(origin)
    step = _run(qtbot, ctx, origin, lambda rid: wf.accept(
        database, ctx.user.id, r.case_id, r.version, class_id=any_class_id(sqlite_env),
        request_id=rid))
    qtbot.waitUntil(lambda: bool(ids), timeout=10_000)
    assert step.outcome == Outcome.DONE and step.value.state == State.PENDING_OPEN
    assert r.case_id in list(ids[0])
    assert ctx.heavy.pending == 1 and not heavy_done  # still reading, and nobody waited for it
    release.set()
    qtbot.waitUntil(lambda: bool(heavy_done), timeout=10_000)


def test_the_detail_does_not_read_its_own_change_twice(qtbot, sqlite_env, ctx_factory,
                                                       monkeypatch):
    """Its step's change reaches every subscriber with the detail as origin: the queue re-reads
    the row, the detail (which reloads after its own step) does not read it a second time."""
    reads = []
    real = queries.case_detail

    def counted(session, case_id, **kw):
        reads.append(case_id)
        return real(session, case_id, **kw)

    monkeypatch.setattr(queries, "case_detail", counted)
    ctx = ctx_factory(sqlite_env)
    panel = CaseDetailPanel(ctx)
    qtbot.addWidget(panel)
    r = report(sqlite_env)
    with qtbot.waitSignal(panel.sig_loaded, timeout=10_000):
        panel.show_case(r.case_id)
    others = []
    ctx.changes.subscribe(Entity.CASE, lambda ids, origin: others.append((ids, origin)))
    loads = []
    panel.sig_loaded.connect(loads.append)
    reads.clear()
    with qtbot.waitSignal(panel.sig_step_finished, timeout=10_000) as finished:
        panel.run_step(Step.ACCEPT, class_id=any_class_id(sqlite_env))
    assert finished.args == [Step.ACCEPT.value, "done"]
    qtbot.waitUntil(lambda: bool(loads), timeout=10_000)
    qtbot.wait(300)  # room for a second read, if one were made
    assert loads == [r.case_id] and reads == [r.case_id]  # one read after the step, not two
    assert others == [({r.case_id}, panel)]


def test_try_again_sends_the_same_request_id_so_a_write_is_never_done_twice(
        qtbot, sqlite_env, ctx_factory):
    """The officer's first send is written but its answer is lost (here: the widget is told
    offline after the write); "try again" sends the same id and gets the first result."""
    ctx = ctx_factory(sqlite_env)
    origin = QWidget()
    qtbot.addWidget(origin)
    sent: list[str] = []
    database = sqlite_env.database

    def send(rid):
        sent.append(rid)
        result = report(sqlite_env, request_id=rid)
        if len(sent) == 1:
            raise DatabaseUnavailable()  # the answer lost after the write
        return result

    first = _run(qtbot, ctx, origin, send)
    assert first.outcome == Outcome.OFFLINE and first.retry
    reports: list = []
    ctx.operations._last[origin].on_done = reports.append
    assert ctx.operations.retry(origin)
    qtbot.waitUntil(lambda: bool(reports), timeout=10_000)
    assert reports[0].outcome == Outcome.DONE
    assert sent[0] == sent[1]  # one request, one id
    with database.read() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1


@pytest.mark.postgres
def test_an_unknown_outcome_is_settled_when_the_database_is_back(qtbot, pg_env, ctx_factory,
                                                                 monkeypatch):
    """The link drops at COMMIT (the server commits) and the line stays down while the data
    layer asks: the officer is told the outcome is unknown, not "not done". When the window is
    back online the operation asks by its id and reports the step done, with its result."""
    monkeypatch.setattr(requests, "ASK_PAUSES", (0.05, 0.1))
    proxy = TcpProxy()
    proxy.start()
    url = make_url(pg_env.database.url).set(port=proxy.port).render_as_string(hide_password=False)
    via = open_database(url, migrate=False)
    try:
        ctx = ctx_factory(Env(via, pg_env.users, pg_env.city_id, "postgresql"))
        origin = QWidget()
        qtbot.addWidget(origin)
        r = report(pg_env)
        original = requests.outcome

        def line_down_while_asking(database, request_id):
            proxy.stop()
            return original(database, request_id)

        monkeypatch.setattr(requests, "outcome", line_down_while_asking)
        proxy.cut_at_commit("after")
        reports: list = []
        ctx.operations.run(origin, "Accept", lambda rid: wf.accept(
            via, ctx.user.id, r.case_id, r.version, class_id=any_class_id(pg_env),
            request_id=rid), on_done=reports.append)
        qtbot.waitUntil(lambda: bool(reports), timeout=20_000)
        assert reports[0].outcome == Outcome.UNKNOWN and reports[0].retry
        assert reports[0].text.startswith("The connection dropped while saving")
        assert ctx.operations.unsettled == 1
        monkeypatch.setattr(requests, "outcome", original)
        proxy.start()
        ctx.operations.settle_unknown()  # what the window does when it is back online
        qtbot.waitUntil(lambda: len(reports) == 2, timeout=20_000)
        assert reports[1].outcome == Outcome.DONE
        assert reports[1].value.state == State.PENDING_OPEN and reports[1].value.version == 2
        assert ctx.operations.unsettled == 0
        with pg_env.database.read() as s:
            assert s.scalar(select(func.count()).select_from(CaseHistory).where(
                CaseHistory.case_id == r.case_id, CaseHistory.step == Step.ACCEPT.value)) == 1
    finally:
        via.dispose()
        proxy.stop()
