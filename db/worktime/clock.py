"""The deadline clock: working hours and working days on the official calendar.

Rules (see README, "The deadline clock"):

* The clock starts at dispatch. Time outside office hours, on weekends and on public holidays
  does not count; make-up working days (调休) do.
* ``work_days`` count as that many full office days of working time, so 2 working days from
  Tuesday 10:00 end on Thursday 10:00; dispatch outside office hours starts at the next opening.
* ``minutes`` (emergencies) are calendar minutes: a 30-minute on-site clock runs through nights.
* Days the calendar table does not hold count Monday-Friday, and any deadline whose count
  touched such a day is marked *estimated*.

All inputs and outputs are aware UTC datetimes; office hours are Asia/Shanghai wall time.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
UNITS = ("work_hours", "work_days", "minutes")
DEFAULT_OFFICE_HOURS: tuple[tuple[dt.time, dt.time], ...] = (
    (dt.time(8, 30), dt.time(12, 0)),
    (dt.time(14, 0), dt.time(17, 30)),
)
OFFICE_HOURS_SETTING = "office_hours"
DUE_SOON_FRACTION = 0.25  # due soon when less than a quarter of the allowed time is left
MAX_DAYS_SCANNED = 3 * 366  # a limit no real time limit reaches; stops a runaway loop


@dataclass(frozen=True)
class Deadline:
    at: dt.datetime
    estimated: bool


class CalendarError(ValueError):
    pass


def parse_office_hours(value: str | Iterable[Iterable[str]]) -> tuple[tuple[dt.time, dt.time], ...]:
    """Parse ``[["08:30","12:00"],["14:00","17:30"]]`` (JSON text or list) into sorted periods."""
    raw = json.loads(value) if isinstance(value, str) else value
    periods = []
    for pair in raw:
        start, end = (dt.time.fromisoformat(x) for x in pair)
        if end <= start:
            raise CalendarError(f"office period ends before it starts: {start}-{end}")
        periods.append((start, end))
    periods.sort()
    for (_, e1), (s2, _) in zip(periods, periods[1:]):
        if s2 < e1:
            raise CalendarError("office periods overlap")
    if not periods:
        raise CalendarError("at least one office period is needed")
    return tuple(periods)


class WorkCalendar:
    """Working time on an official calendar.

    Parameters
    ----------
    days
        Official status of each known day: ``True`` working day, ``False`` day off.
    covered_years
        Years the calendar data is complete for (informational: lookups go by day).
    office_hours
        Office periods of a working day, local Shanghai time.
    """

    def __init__(
        self,
        days: Mapping[dt.date, bool],
        covered_years: Iterable[int],
        office_hours: tuple[tuple[dt.time, dt.time], ...] = DEFAULT_OFFICE_HOURS,
    ) -> None:
        self._days = dict(days)
        self.covered_years = frozenset(covered_years)
        self.office_hours = office_hours
        self.day_seconds = sum(_seconds(s, e) for s, e in office_hours)

    # -- days --------------------------------------------------------------------------
    def is_workday(self, day: dt.date) -> tuple[bool, bool]:
        """Return ``(is_workday, estimated)``: a day in the table is official, any other day is
        guessed Monday-Friday (and makes a deadline that counts it estimated)."""
        official = self._days.get(day)
        if official is not None:
            return official, False
        return day.weekday() < 5, True

    def limit_seconds(self, amount: int, unit: str) -> float:
        """The working (or calendar) seconds a time limit allows."""
        if unit == "work_hours":
            return amount * 3600.0
        if unit == "work_days":
            return amount * float(self.day_seconds)
        if unit == "minutes":
            return amount * 60.0
        raise CalendarError(f"unknown time-limit unit {unit!r}")

    # -- adding time -------------------------------------------------------------------
    def deadline(self, start: dt.datetime, amount: int, unit: str) -> Deadline:
        """The deadline of a limit of ``amount`` ``unit`` that starts at ``start``."""
        _require_aware(start)
        if amount <= 0:
            raise CalendarError("a time limit must be positive")
        if unit == "minutes":
            return Deadline(start + dt.timedelta(minutes=amount), False)
        return self.add_working_seconds(start, self.limit_seconds(amount, unit))

    def add_working_seconds(self, start: dt.datetime, seconds: float) -> Deadline:
        """The moment ``seconds`` of working time after ``start``; negative ``seconds`` go
        back: the moment that much working time *before* ``start`` (an overdue clock resumed
        overdue)."""
        if seconds < 0:
            return self._back_working_seconds(start, -seconds)
        local = start.astimezone(SHANGHAI)
        remaining = seconds
        estimated = False
        day = local.date()
        for _ in range(MAX_DAYS_SCANNED):
            working, guess = self.is_workday(day)
            if working:
                estimated |= guess
                for period_start, period_end in self._periods(day):
                    begin = max(period_start, local)
                    if begin >= period_end:
                        continue
                    available = (period_end - begin).total_seconds()
                    if remaining <= available:
                        at = begin + dt.timedelta(seconds=remaining)
                        return Deadline(at.astimezone(dt.UTC), estimated)
                    remaining -= available
            elif guess:
                estimated = True
            day += dt.timedelta(days=1)
        raise CalendarError("time limit too long for the calendar")

    def _back_working_seconds(self, end: dt.datetime, seconds: float) -> Deadline:
        local = end.astimezone(SHANGHAI)
        remaining = seconds
        estimated = False
        day = local.date()
        for _ in range(MAX_DAYS_SCANNED):
            working, guess = self.is_workday(day)
            if working:
                estimated |= guess
                for period_start, period_end in reversed(self._periods(day)):
                    finish = min(period_end, local)
                    if finish <= period_start:
                        continue
                    available = (finish - period_start).total_seconds()
                    if remaining <= available:
                        at = finish - dt.timedelta(seconds=remaining)
                        return Deadline(at.astimezone(dt.UTC), estimated)
                    remaining -= available
            elif guess:
                estimated = True
            day -= dt.timedelta(days=1)
        raise CalendarError("time limit too long for the calendar")

    # -- measuring time ----------------------------------------------------------------
    def working_seconds_between(self, a: dt.datetime, b: dt.datetime) -> float:
        """Working seconds from ``a`` to ``b``; negative when ``b`` is before ``a``."""
        _require_aware(a)
        _require_aware(b)
        if b < a:
            return -self.working_seconds_between(b, a)
        la, lb = a.astimezone(SHANGHAI), b.astimezone(SHANGHAI)
        total = 0.0
        day = la.date()
        while day <= lb.date():
            if self.is_workday(day)[0]:
                for ps, pe in self._periods(day):
                    begin, end = max(ps, la), min(pe, lb)
                    if end > begin:
                        total += (end - begin).total_seconds()
            day += dt.timedelta(days=1)
        return total

    def remaining_seconds(self, now: dt.datetime, deadline: dt.datetime, unit: str) -> float:
        """Time left before the deadline (negative when overdue), in the limit's own time."""
        if unit == "minutes":
            return (deadline - now).total_seconds()
        return self.working_seconds_between(now, deadline)

    def status(self, now: dt.datetime, deadline: dt.datetime | None, amount: int, unit: str) -> str:
        """``none``, ``overdue``, ``due_soon`` or ``on_track``."""
        if deadline is None:
            return "none"
        if now >= deadline:
            return "overdue"
        left = self.remaining_seconds(now, deadline, unit)
        if left < DUE_SOON_FRACTION * self.limit_seconds(amount, unit):
            return "due_soon"
        return "on_track"

    def _periods(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        return [
            (dt.datetime.combine(day, s, SHANGHAI), dt.datetime.combine(day, e, SHANGHAI))
            for s, e in self.office_hours
        ]


def _seconds(start: dt.time, end: dt.time) -> int:
    return (end.hour * 3600 + end.minute * 60) - (start.hour * 3600 + start.minute * 60)


def _require_aware(value: dt.datetime) -> None:
    if value.tzinfo is None:
        raise CalendarError("naive datetime given; use aware UTC times")
