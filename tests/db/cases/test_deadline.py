"""The one deadline-clock rule (db.cases.deadline): which states run the clock, and a case's
countdown in the unit its limit is counted in. Every expected value is worked out by hand.

The calendar is the official one (``chinese-calendar``, as the database seeds it). The dates
used, 2026-11-16 .. 2026-12-11, hold no public holiday and no make-up working day: Monday to
Friday work, weekends off (checked in :func:`test_the_chosen_weeks_are_plain_weeks`).
Office hours 08:30-12:00 and 14:00-17:30: 3.5 h + 3.5 h = 7 h a working day.
"""
from __future__ import annotations

import datetime as dt

import pytest

from db.auth.scope import SYSTEM
from db.cases import deadline
from db.cases import queries as q
from db.cases.deadline import Countdown, clock_phase, countdown
from db.cases.workflow import State
from db.worktime.calendar_data import official_days
from db.worktime.clock import SHANGHAI, WorkCalendar
from tests.helpers import case_in_state

UTC = dt.UTC
H = 3600


def local(y, m, d, hh=0, mm=0, ss=0):
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar({r["day"]: r["is_workday"] for r in official_days(2026)}, [2026])


def test_the_chosen_weeks_are_plain_weeks(cal):
    day = dt.date(2026, 11, 16)
    while day <= dt.date(2026, 12, 11):
        assert cal.is_workday(day) == (day.weekday() < 5, False), day
        day += dt.timedelta(days=1)
    assert cal.day_seconds == 7 * H


def test_working_days_left(cal):
    # 3 working days = 3 x 7 h = 21 h, dispatched Fri 2026-12-04 15:00:
    # Fri 15:00-17:30 2.5 h; Mon 7 h (9.5); Tue 7 h (16.5); Wed 08:30-12:00 3.5 h (20.0),
    # then 1 h from 14:00 -> deadline Wed 2026-12-09 15:00.
    due = cal.deadline(local(2026, 12, 4, 15), 3, "work_days").at
    assert due == local(2026, 12, 9, 15)
    # Now Mon 2026-12-07 09:30: Mon 09:30-12:00 2.5 h + 14:00-17:30 3.5 h = 6 h; Tue 7 h (13 h);
    # Wed 3.5 h + 1 h (17.5 h). 17.5 h / 7 h = 2.5 working days. A quarter of the 21 h limit
    # is 5.25 h < 17.5 h: on track.
    now = local(2026, 12, 7, 9, 30)
    c = countdown(cal, now, State.HANDLING, due, 3, "work_days")
    assert c == Countdown(phase="running", status="on_track", seconds_left=17.5 * H,
                          unit="work_days", deadline_at=due, day_seconds=7 * H, limit_amount=3)
    assert c.working_days_left == 2.5
    assert c.running and not c.overdue


def test_working_days_overdue(cal):
    # Deadline Tue 2026-11-17 12:00 (a 5-working-day limit); now Wed 2026-12-02 09:18.
    # Working time since the deadline: Tue 17th 14:00-17:30 3.5 h; Wed 18-Fri 20 3 x 7 = 21 h
    # (24.5); Mon 23-Fri 27 5 x 7 = 35 h (59.5); Mon 30 7 h (66.5); Tue Dec 1 7 h (73.5);
    # Wed Dec 2 08:30-09:18 0.8 h (74.3). So -74.3 h = -74.3 / 7 = -10.614 working days.
    due = local(2026, 11, 17, 12).astimezone(UTC)
    now = local(2026, 12, 2, 9, 18).astimezone(UTC)
    c = countdown(cal, now, State.HANDLING, due, 5, "work_days")
    assert c.phase == "running" and c.status == "overdue" and c.overdue
    assert c.seconds_left == pytest.approx(-74.3 * H)
    assert c.working_days_left == pytest.approx(-10.614, abs=0.001)
    assert (c.unit, c.deadline_at, c.day_seconds) == ("work_days", due, 7 * H)


def test_working_hours_left_and_due_soon(cal):
    # A 10-working-hour limit due Tue 2026-12-08 16:35; now the same day 14:30: 14:30-16:35 is
    # 2 h 05 min = 7500 s of working time. A quarter of 10 h is 2.5 h = 9000 s > 7500 s: due soon.
    due = local(2026, 12, 8, 16, 35)
    c = countdown(cal, local(2026, 12, 8, 14, 30), State.EXTENSION_PENDING, due, 10,
                  "work_hours")
    assert c == Countdown("running", "due_soon", 7500.0, "work_hours", due, 7 * H, 10)
    # Over lunch the working clock stands still: at 12:00 and at 13:59 the same 2 h 35 min
    # (14:00-16:35) are left.
    at_noon = countdown(cal, local(2026, 12, 8, 12), State.HANDLING, due, 10, "work_hours")
    at_1359 = countdown(cal, local(2026, 12, 8, 13, 59), State.HANDLING, due, 10, "work_hours")
    assert at_noon.seconds_left == at_1359.seconds_left == 2 * H + 35 * 60


def test_calendar_minutes_overdue(cal):
    # An emergency (30 calendar minutes), due Tue 2026-12-08 09:42; now 09:49:30:
    # 7 min 30 s late = -450 s.
    due = local(2026, 12, 8, 9, 42)
    c = countdown(cal, local(2026, 12, 8, 9, 49, 30), State.HANDLING, due, 30, "minutes")
    assert c == Countdown("running", "overdue", -450.0, "minutes", due, 7 * H, 30)
    # Calendar minutes run through lunch, where working time would not: due 12:05, now 12:12:30
    # is 450 s late although no working second passed.
    lunch = countdown(cal, local(2026, 12, 8, 12, 12, 30), State.HANDLING,
                      local(2026, 12, 8, 12, 5), 30, "minutes")
    assert lunch.seconds_left == -450.0 and lunch.status == "overdue"


@pytest.mark.parametrize(("state", "phase"), [
    (State.PARKED, "parked"),
    (State.PENDING_CHECK, "handled"),
    (State.PENDING_CLOSE, "handled"),
    (State.CLOSED, "none"),
])
def test_a_stopped_clock_has_no_time_left_and_no_status(cal, state, phase):
    # Long past the deadline (Mon 2026-12-07 09:00, now Fri 12-11 17:00): still no status,
    # because the department's clock does not run in these states.
    due = local(2026, 12, 7, 9)
    c = countdown(cal, local(2026, 12, 11, 17), state, due, 2, "work_hours")
    assert c == Countdown(phase, "none", None, "work_hours", due, 7 * H, 2)
    assert not c.running and c.working_days_left is None
    assert clock_phase(state.value) == phase  # the plain value, as rows carry it


def test_no_deadline_no_countdown(cal):
    now = local(2026, 12, 7, 10)
    before_dispatch = countdown(cal, now, State.PENDING_DISPATCH, None, 3, "work_days")
    assert before_dispatch == Countdown("none", "none", None, "work_days", None, 7 * H, 3)
    # Running state without a deadline (cannot happen by the invariants): nothing to count.
    no_deadline = countdown(cal, now, State.HANDLING, None, 3, "work_days")
    assert (no_deadline.phase, no_deadline.status, no_deadline.seconds_left) == \
        ("running", "none", None)


def test_a_deadline_without_a_known_limit_counts_calendar_time(cal):
    # Due Mon 2026-12-07 10:00, now 09:00: one calendar hour left; after it, overdue.
    due = local(2026, 12, 7, 10)
    c = countdown(cal, local(2026, 12, 7, 9), State.HANDLING, due, None, None)
    assert (c.status, c.seconds_left, c.unit) == ("on_track", 3600.0, None)
    assert countdown(cal, due, State.HANDLING, due, None, None).status == "overdue"


def test_the_rule_is_today_handling_and_extension_pending():
    assert {s for s in State if clock_phase(s) == "running"} == \
        {State.HANDLING, State.EXTENSION_PENDING}
    assert q.overdue_states() == ["extension_pending", "handling"]


def test_the_overdue_filter_and_sort_follow_the_rule(sqlite_env, monkeypatch):
    handled = case_in_state(sqlite_env, State.PENDING_CHECK)
    live = case_in_state(sqlite_env, State.HANDLING)
    later = dt.datetime.now(UTC) + dt.timedelta(days=60)  # both deadlines long passed
    overdue_only = q.QueueFilter(overdue_only=True)
    with sqlite_env.database.read() as s:
        assert q.queue_ids(s, overdue_only, now=later, actor=SYSTEM) == [live.case_id]
        # handled: its clock stopped, so it sorts after the live work despite its earlier deadline
        assert q.queue_ids(s, sort=q.QueueSort("deadline_at"), actor=SYSTEM) == [live.case_id, handled.case_id]
    # Change the rule in one place: a case awaiting the check runs the clock too.
    monkeypatch.setattr(deadline, "RUNNING_STATES",
                        deadline.RUNNING_STATES | {State.PENDING_CHECK})
    with sqlite_env.database.read() as s:
        assert set(q.queue_ids(s, overdue_only, now=later, actor=SYSTEM)) == {live.case_id, handled.case_id}
        assert q.queue_ids(s, sort=q.QueueSort("deadline_at"), actor=SYSTEM) == [handled.case_id, live.case_id]
