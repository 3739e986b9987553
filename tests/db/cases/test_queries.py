"""Read models for the queue, detail and map: filters and sorting happen in the database."""
from __future__ import annotations

import dataclasses
import datetime as dt

from db.auth.roles import Role
from db.auth.scope import SYSTEM
from db.cases import queries as q
from db.cases.workflow import State, Step
from tests.helpers import case_in_state, report, take


def test_queue_filters_sort_and_text_search(env):
    a = report(env, description="人行道井盖缺失 100%危险")
    b = case_in_state(env, State.HANDLING)
    c = case_in_state(env, State.CLOSED)
    with env.database.read() as s:
        open_ids = q.queue_ids(s, actor=SYSTEM)
        assert set(open_ids) == {a.case_id, b.case_id} and c.case_id not in open_ids
        # Not-yet-dispatched cases (no deadline) sort last both ways.
        assert q.queue_ids(s, sort=q.QueueSort("deadline_at"), actor=SYSTEM)[-1] == a.case_id
        assert q.queue_ids(s, sort=q.QueueSort("deadline_at", descending=True), actor=SYSTEM)[-1] == a.case_id
        everything = q.QueueFilter(states=frozenset())
        assert set(q.queue_ids(s, everything, actor=SYSTEM)) == {a.case_id, b.case_id, c.case_id}
        assert q.queue_ids(s, q.QueueFilter(text="井盖缺失"), actor=SYSTEM) == [a.case_id]
        assert q.queue_ids(s, q.QueueFilter(text="100%"), actor=SYSTEM) == [a.case_id]
        assert q.queue_ids(s, q.QueueFilter(text="%"), actor=SYSTEM) == [a.case_id]  # % is literal, not a wildcard
        assert q.queue_ids(s, q.QueueFilter(states=frozenset({"handling"})), actor=SYSTEM) == [b.case_id]
        assert q.queue_ids(s, q.QueueFilter(sources=frozenset({"video"})), actor=SYSTEM) == []
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=60)
        assert q.queue_ids(s, q.QueueFilter(overdue_only=True), actor=SYSTEM) == []
        assert q.queue_ids(s, q.QueueFilter(overdue_only=True), now=later, actor=SYSTEM) == [b.case_id]


def test_stopped_clocks_sort_after_live_work_by_deadline(env):
    parked = take(env, case_in_state(env, State.HANDLING), Step.PARK, Role.SHIFT_LEADER)
    handled = case_in_state(env, State.PENDING_CHECK)
    live = case_in_state(env, State.HANDLING)  # dispatched last: the latest deadline
    with env.database.read() as s:
        order = q.queue_ids(s, sort=q.QueueSort("deadline_at"), actor=SYSTEM)
    assert order.index(live.case_id) < order.index(parked.case_id)
    assert order.index(live.case_id) < order.index(handled.case_id)


def test_rows_and_detail_are_plain_values_with_masked_reporter(env):
    r = report(env, reporter_name="欧阳娜娜", reporter_phone="13912345678",
               description="<b>占道经营</b>")
    r = take(env, r, Step.ACCEPT)
    with env.database.read() as s:
        rows = q.case_rows(s, [r.case_id, 10**9], actor=SYSTEM)
        detail = q.case_detail(s, r.case_id, actor=SYSTEM)
    assert list(rows) == [r.case_id]
    row = rows[r.case_id]
    assert row.state == State.PENDING_OPEN and row.class_name and row.version == 2
    assert detail.reporter_phone_masked == "139****5678"
    assert detail.reporter_name_masked == "欧***"
    assert [h.step for h in detail.history] == ["report", "accept"]
    assert detail.history[1].actor_name == "测试值班员"
    assert detail.description == "<b>占道经营</b>"  # raw here; every view escapes it


def test_dispatch_choices_put_the_responsible_department_first(env):
    r = case_in_state(env, State.PENDING_DISPATCH)
    with env.database.read() as s:
        departments, people = q.dispatch_choices(s, r.case_id)
    assert departments and departments[0].relation == q.RESPONSIBLE
    assert people == []  # the reference data has no grids; demo data fills them


def test_count_by_state(env):
    case_in_state(env, State.HANDLING)
    take(env, report(env), Step.VOID, Role.DUTY_OFFICER)
    with env.database.read() as s:
        assert q.count_by_state(s, actor=SYSTEM) == {"handling": 1, "void": 1}


def test_filter_choices_and_sorting_by_meaning(env):
    with env.database.read() as s:
        choices = q.filter_choices(s, env.city_id)
    assert len(choices.towns) > 30 and all(t.name and t.hint for t in choices.towns)
    assert len(choices.classes) > 90 and all(c.hint for c in choices.classes)  # major names
    normal = report(env)
    emergency = report(env, urgency="emergency")
    urgent = report(env, urgency="urgent")
    handling = case_in_state(env, State.HANDLING)
    with env.database.read() as s:
        by_urgency = q.queue_ids(s, sort=q.QueueSort("urgency_rank"), actor=SYSTEM)
        assert by_urgency[:2] == [emergency.case_id, urgent.case_id]
        by_state = q.queue_ids(s, sort=q.QueueSort("state_rank"), actor=SYSTEM)
        assert by_state[-1] == handling.case_id and normal.case_id in by_state[:3]
        assert set(q.queue_ids(s, sort=q.QueueSort("assignee"), actor=SYSTEM)) == set(by_state)


def test_a_number_or_a_phone_finds_the_case_whatever_the_filters(env):
    """The queue's search looked only inside the state filter: a closed case's number typed
    while the queue showed 待受理 said "no match". The lookup ignores the filters and the
    filter says which of its fields hides the case."""
    closed = report(env, reporter_phone="0769-2233 4455")
    for step in (Step.ACCEPT, Step.OPEN, Step.DISPATCH, Step.FEEDBACK, Step.VERIFY, Step.CLOSE):
        closed = take(env, closed, step)
    waiting = report(env, reporter_phone="13812345678")
    with env.database.read() as s:
        number = q.case_rows(s, [closed.case_id], actor=SYSTEM)[closed.case_id].number
        pending_only = q.QueueFilter(states=frozenset({State.PENDING_ACCEPT.value}), text=number,
                                     city_id=env.city_id)
        assert q.queue_ids(s, pending_only, actor=SYSTEM) == []  # the list, rightly, does not have it

        found = q.find_by_number_or_phone(s, number, env.city_id, actor=SYSTEM)
        assert [m.id for m in found] == [closed.case_id]
        match = found[0]
        assert (match.number, match.state, match.overdue) == (number, State.CLOSED.value, False)
        assert pending_only.excluded_by(match) == "states"
        assert q.QueueFilter(states=frozenset()).excluded_by(match) is None
        # Closed is not open, so the default filter hides it by state before the town does.
        assert q.QueueFilter(town_ids=frozenset({-1})).excluded_by(match) == "states"
        everything = q.QueueFilter(states=frozenset())
        assert q.QueueFilter(states=frozenset(), town_ids=frozenset({-1})).excluded_by(match) \
            == "town_ids"  # reported cases here have no town (no grids in the reference data)
        assert dataclasses.replace(everything, overdue_only=True).excluded_by(match) \
            == "overdue_only"

        # The phone: exactly its digits, however either side writes the separators.
        for typed in ("076922334455", "0769 2233-4455", "(0769) 22334455"):
            assert [m.id for m in q.find_by_number_or_phone(s, typed, env.city_id, actor=SYSTEM)] \
                == [closed.case_id], typed
        assert q.find_by_number_or_phone(s, "07692233445", env.city_id, actor=SYSTEM) == []  # not a prefix
        assert [m.id for m in q.find_by_number_or_phone(s, "138 1234 5678", actor=SYSTEM)] == [waiting.case_id]
        # The queue's own search finds a phone inside its filter too.
        assert q.queue_ids(s, q.QueueFilter(text="138-1234-5678"), actor=SYSTEM) == [waiting.case_id]
        assert q.find_by_number_or_phone(s, "井盖缺失", actor=SYSTEM) == []  # words are not a number
        assert q.find_by_number_or_phone(s, number, env.city_id + 1000, actor=SYSTEM) == []  # another city
    assert not any("phone" in name for name in q.CaseMatch.__dataclass_fields__)
