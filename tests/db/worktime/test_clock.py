"""The deadline clock on the official calendar (pure: no database except the seeding test)."""
from __future__ import annotations

import datetime as dt

import pytest

from db.worktime.calendar_data import load_calendar, official_days, seed_calendar, set_day, set_year
from db.worktime.clock import SHANGHAI, CalendarError, WorkCalendar, parse_office_hours

UTC = dt.UTC


def local(y, m, d, hh=0, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    days = {}
    for year in (2025, 2026):
        days.update({r["day"]: r["is_workday"] for r in official_days(year)})
    return WorkCalendar(days, [2025, 2026])


def test_make_up_saturday_is_a_working_day(cal):
    assert dt.date(2026, 2, 14).weekday() == 5
    assert cal.is_workday(dt.date(2026, 2, 14)) == (True, False)
    # Friday 16:00 + 4 working hours: 1.5 h on Friday, then 2.5 h on the make-up Saturday.
    d = cal.deadline(local(2026, 2, 13, 16), 4, "work_hours")
    assert d.at == local(2026, 2, 14, 11) and not d.estimated


def test_spring_festival_2026_days_are_not_working_days(cal):
    for day in range(15, 24):  # 2026-02-15 .. 02-23 (the holiday)
        assert cal.is_workday(dt.date(2026, 2, day))[0] is False, day
    # Dispatched on the make-up Saturday 17:00: the next working time is after the holiday.
    d = cal.deadline(local(2026, 2, 14, 17), 2, "work_hours")
    assert d.at == local(2026, 2, 24, 10)


def test_deadline_running_into_2027_is_estimated(cal):
    d = cal.deadline(local(2026, 12, 30, 9), 5, "work_days")
    assert d.estimated
    assert d.at.astimezone(SHANGHAI).date() == dt.date(2027, 1, 6)  # Mon-Fri count in 2027
    assert not cal.deadline(local(2026, 12, 1, 9), 5, "work_days").estimated


def test_work_hours_skip_lunch_nights_and_weekends(cal):
    assert cal.deadline(local(2026, 3, 2, 11), 2, "work_hours").at == local(2026, 3, 2, 15)
    assert cal.deadline(local(2026, 3, 2, 20), 1, "work_hours").at == local(2026, 3, 3, 9, 30)
    assert cal.deadline(local(2026, 3, 6, 17), 1, "work_hours").at == local(2026, 3, 9, 9)
    assert cal.deadline(local(2026, 3, 7, 12), 1, "work_hours").at == local(2026, 3, 9, 9, 30)


def test_work_days_are_whole_office_days(cal):
    assert cal.day_seconds == 7 * 3600
    assert cal.deadline(local(2026, 3, 3, 10), 2, "work_days").at == local(2026, 3, 5, 10)
    # National Day week 2026: Oct 1-7 off, Sep 20 and Oct 10 (Saturday) are make-up days.
    assert cal.deadline(local(2026, 9, 30, 10), 1, "work_days").at == local(2026, 10, 8, 10)


def test_emergency_runs_on_calendar_minutes(cal):
    start = local(2026, 2, 17, 23, 50)  # a holiday night
    assert cal.deadline(start, 30, "minutes").at == local(2026, 2, 18, 0, 20)


def test_time_left_overdue_and_due_soon(cal):
    start = local(2026, 3, 2, 9)
    deadline = cal.deadline(start, 4, "work_hours").at  # 3 h before lunch, 1 h after
    assert deadline == local(2026, 3, 2, 15)
    assert cal.remaining_seconds(local(2026, 3, 2, 12), deadline, "work_hours") == 3600
    assert cal.status(local(2026, 3, 2, 10), deadline, 4, "work_hours") == "on_track"
    assert cal.status(local(2026, 3, 2, 14, 30), deadline, 4, "work_hours") == "due_soon"
    assert cal.status(local(2026, 3, 2, 15, 30), deadline, 4, "work_hours") == "overdue"
    assert cal.remaining_seconds(local(2026, 3, 2, 15, 30), deadline, "work_hours") == -1800
    assert cal.status(local(2026, 3, 2, 15), None, 4, "work_hours") == "none"


def test_office_hours_are_configurable_and_checked():
    hours = parse_office_hours('[["09:00","12:00"],["13:00","18:00"]]')
    cal = WorkCalendar({}, [], hours)
    assert cal.day_seconds == 8 * 3600
    assert cal.deadline(local(2026, 3, 2, 11), 2, "work_hours").at == local(2026, 3, 2, 14)
    for bad in ('[["12:00","09:00"]]', '[["09:00","12:00"],["11:00","13:00"]]', "[]"):
        with pytest.raises(CalendarError):
            parse_office_hours(bad)
    with pytest.raises(CalendarError):
        cal.deadline(dt.datetime(2026, 3, 2, 9), 1, "work_hours")  # naive
    with pytest.raises(CalendarError):
        cal.deadline(local(2026, 3, 2, 9), 1, "fortnights")


def test_calendar_lives_in_the_database_and_can_be_extended(env):
    with env.database.read() as s:
        cal = load_calendar(s)
    assert {2024, 2025, 2026} <= cal.covered_years and 2027 not in cal.covered_years
    assert cal.is_workday(dt.date(2026, 2, 14)) == (True, False)
    assert cal.is_workday(dt.date(2027, 1, 1)) == (True, True)  # a Friday, guessed
    with env.database.write() as s:  # the announcement for 2027 comes out
        set_year(s, 2027, {dt.date(2027, 1, 1): "元旦"}, makeup_days=[dt.date(2027, 1, 9)])
        seed_calendar(s)  # a later seed never overwrites days entered by hand
    with env.database.read() as s:
        cal = load_calendar(s)
    assert 2027 in cal.covered_years
    assert cal.is_workday(dt.date(2027, 1, 1)) == (False, False)
    assert cal.is_workday(dt.date(2027, 1, 9)) == (True, False)  # make-up Saturday
    d = cal.deadline(local(2026, 12, 31, 17), 1, "work_hours")  # runs into the holiday
    assert d.at == local(2027, 1, 4, 9) and not d.estimated


def test_one_known_day_counts_even_in_an_unannounced_year(env):
    with env.database.write() as s:
        set_day(s, dt.date(2027, 1, 1), False, "holiday", "元旦")
    with env.database.read() as s:
        cal = load_calendar(s)
    assert cal.is_workday(dt.date(2027, 1, 1)) == (False, False)
    assert cal.is_workday(dt.date(2027, 1, 4)) == (True, True)
    d = cal.deadline(local(2026, 12, 31, 17), 1, "work_hours")
    assert d.at == local(2027, 1, 4, 9) and d.estimated
