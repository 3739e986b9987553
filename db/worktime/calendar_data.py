"""The official calendar as data: seeded from ``chinese-calendar``, extended by hand.

``chinese-calendar`` covers 2004 up to the last year the State Council has announced (2026 in
the version pinned here). A later year is added with :func:`set_year` (or day by day with
:func:`set_day`, source ``manual``) when the announcement comes out; until then
:mod:`db.worktime.clock` counts the missing days Monday-Friday and marks deadlines as estimated.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.core import feed
from db.core.entities import Entity
from db.models import AppSetting, CalendarDay
from db.worktime.clock import (
    DEFAULT_OFFICE_HOURS,
    OFFICE_HOURS_SETTING,
    WorkCalendar,
    parse_office_hours,
)

FIRST_SEEDED_YEAR = 2020


def official_days(year: int) -> list[dict]:
    """The official status of every day of ``year`` from ``chinese-calendar``.

    Raises ``NotImplementedError`` for a year the package does not know.
    """
    import chinese_calendar as cc

    days = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        working = cc.is_workday(day)  # raises NotImplementedError outside its range
        on_holiday, holiday = cc.get_holiday_detail(day)
        if working and day.weekday() >= 5:
            kind = "makeup"
        elif working:
            kind = "workday"
        elif holiday is not None:
            kind = "holiday"
        else:
            kind = "weekend"
        name = str(holiday) if holiday is not None else ""
        days.append({"day": day, "is_workday": working, "kind": kind, "name": name,
                     "source": "chinese-calendar"})
        day += dt.timedelta(days=1)
    return days


def seed_calendar(session: Session, first_year: int = FIRST_SEEDED_YEAR) -> list[int]:
    """Insert every day ``chinese-calendar`` knows from ``first_year`` on that the table lacks
    (days entered by hand are kept); return the years the package covers."""
    years = []
    year = first_year
    while True:
        try:
            rows = official_days(year)
        except NotImplementedError:
            break
        have = set(session.scalars(select(CalendarDay.day).where(
            CalendarDay.day >= dt.date(year, 1, 1), CalendarDay.day <= dt.date(year, 12, 31))))
        missing = [r for r in rows if r["day"] not in have]
        if missing:
            session.execute(CalendarDay.__table__.insert(), missing)
        years.append(year)
        year += 1
    return years


def set_day(session: Session, day: dt.date, is_workday: bool, kind: str, name: str = "",
            *, publish: bool = True) -> None:
    """Add or correct one day by hand. Every workstation reloads its calendar (change feed)."""
    row = session.get(CalendarDay, day)
    if row is None:
        session.add(CalendarDay(day=day, is_workday=is_workday, kind=kind, name=name, source="manual"))
    else:
        row.is_workday, row.kind, row.name, row.source = is_workday, kind, name, "manual"
    if publish:
        feed.publish(session, Entity.CALENDAR, [None])


def set_year(session: Session, year: int, holidays: dict[dt.date, str],
             makeup_days: list[dt.date]) -> None:
    """Write a whole announced year (e.g. the State Council's 2027 notice): the holidays with
    their names, the make-up working days, every other day Monday-Friday."""
    day = dt.date(year, 1, 1)
    while day.year == year:
        if day in holidays:
            set_day(session, day, False, "holiday", holidays[day], publish=False)
        elif day in makeup_days:
            set_day(session, day, True, "makeup", publish=False)
        else:
            weekday = day.weekday() < 5
            set_day(session, day, weekday, "workday" if weekday else "weekend", publish=False)
        day += dt.timedelta(days=1)
    feed.publish(session, Entity.CALENDAR, [None])


def load_calendar(session: Session) -> WorkCalendar:
    """Read the calendar and office hours into a :class:`WorkCalendar`.

    A year counts as covered only when all its days are in the table.
    """
    days = dict(session.execute(select(CalendarDay.day, CalendarDay.is_workday)).all())
    per_year: dict[int, int] = {}
    for day in days:
        per_year[day.year] = per_year.get(day.year, 0) + 1
    covered = [y for y, n in per_year.items() if n >= (366 if _leap(y) else 365)]
    setting = session.get(AppSetting, OFFICE_HOURS_SETTING)
    hours = parse_office_hours(setting.value_json) if setting else DEFAULT_OFFICE_HOURS
    return WorkCalendar(days, covered, hours)


def office_hours_json(hours=DEFAULT_OFFICE_HOURS) -> str:
    return json.dumps([[s.strftime("%H:%M"), e.strftime("%H:%M")] for s, e in hours])


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
