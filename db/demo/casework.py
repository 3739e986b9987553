"""Months of casework: when reports arrive on each channel (hour by hour, workdays and days off),
which class, town, grid and place each one names, how its path through the closed loop is
planned up front (fixed on the spot, voided, returned, extended, parked, reworked, late) and who
takes each step; :func:`_build_cases` generates the cases with their full history and inserts
them in chunks.
"""
from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.orm import Session

from db.cases.workflow import Source, State, Urgency, case_number
from db.core.pii import PhoneCipher
from db.demo.case_steps import _Sim
from db.demo.places import TOWN_KINDS
from db.demo.vocabulary import (
    COMPANY_TRADES,
    COMPANY_WORDS,
    HOTLINE_TAILS,
    OPINIONS,
    ROADS,
    SOURCE_LEADS,
)
from db.demo.world import (
    CHUNK,
    _Actor,
    _Class,
    _cum,
    _from_local,
    _Grid,
    _insert,
    _local,
    _mobile,
    _name,
    _Town,
    _World,
)
from db.models import Case, CaseHistory

# -- case flow ------------------------------------------------------------------------------

SOURCE_SHARES = {
    Source.HOTLINE_12345: 0.34, Source.INSPECTOR: 0.30, Source.VIDEO: 0.12, Source.WALK_IN: 0.08,
    Source.LEADER: 0.06, Source.TRANSFER_110: 0.04, Source.SENSOR: 0.03, Source.ENTERPRISE: 0.02,
    Source.TRANSFER_119: 0.01,
}
# Reports per local hour 0..23. Hotline peaks 9-11 and 19-21; inspectors walk 8:30-17:30; video
# runs round the clock but sees less at night.
_HOTLINE_HOURS = (0.2, 0.1, 0.08, 0.06, 0.06, 0.1, 0.3, 0.8, 1.5, 2.6, 2.8, 2.4,
                  1.4, 1.2, 1.8, 2.0, 1.9, 1.7, 1.6, 2.3, 2.6, 2.2, 1.2, 0.5)
_OFFICE_HOURS = (0, 0, 0, 0, 0, 0, 0, 0, 0.5, 2.0, 2.4, 2.2,
                 0.6, 0.4, 1.6, 2.2, 2.2, 0.9, 0, 0, 0, 0, 0, 0)
_VIDEO_HOURS = (0.5, 0.4, 0.3, 0.3, 0.3, 0.4, 0.7, 1.0, 1.3, 1.4, 1.4, 1.4,
                1.3, 1.2, 1.2, 1.3, 1.4, 1.5, 1.5, 1.5, 1.4, 1.2, 0.9, 0.7)
_POLICE_HOURS = (0.8, 0.6, 0.4, 0.3, 0.3, 0.3, 0.5, 0.8, 1.0, 1.1, 1.1, 1.1,
                 1.0, 1.0, 1.0, 1.1, 1.2, 1.3, 1.4, 1.6, 1.7, 1.6, 1.4, 1.1)
_LEADER_HOURS = (0, 0, 0, 0, 0, 0, 0.2, 1.0, 2.0, 2.0, 2.0, 1.5,
                 0.5, 0.5, 1.5, 2.0, 2.0, 1.5, 0.8, 0.8, 0.6, 0.3, 0, 0)
_SENSOR_HOURS = tuple(0.8 if h < 7 else 1.0 for h in range(24))
SOURCE_HOURS = {
    Source.HOTLINE_12345: _HOTLINE_HOURS, Source.INSPECTOR: _OFFICE_HOURS,
    Source.VIDEO: _VIDEO_HOURS, Source.WALK_IN: _OFFICE_HOURS, Source.LEADER: _LEADER_HOURS,
    Source.TRANSFER_110: _POLICE_HOURS, Source.SENSOR: _SENSOR_HOURS,
    Source.ENTERPRISE: _OFFICE_HOURS, Source.TRANSFER_119: _POLICE_HOURS,
}
#: Office-hours channels start at 8:30 and stop at 17:30.
HALF_HOURS = frozenset({Source.INSPECTOR, Source.WALK_IN, Source.ENTERPRISE})
#: Share of a channel's weekday volume that still arrives on a day off.
OFFDAY_SHARE = {Source.INSPECTOR: 0.35, Source.WALK_IN: 0.2, Source.ENTERPRISE: 0.3,
                Source.LEADER: 0.5, Source.HOTLINE_12345: 0.9}
#: Channels that only report some classes, with their own relative weights.
SOURCE_CLASSES = {
    Source.SENSOR: {"道路积水/内涝": 7, "燃气泄漏": 1, "井盖缺失": 2},
    Source.TRANSFER_119: {"燃气泄漏": 3, "树木倒伏": 2, "户外设施倒塌坠落": 1.5, "电力线缆断落": 1.5,
                          "露天焚烧": 2, "路面塌陷": 1, "自来水管破裂": 1},
    Source.TRANSFER_110: {"机动车乱停放": 3, "施工扰民": 2, "社会生活噪声扰民": 3, "流浪乞讨": 1,
                          "无照经营游商": 1.5, "露天烧烤": 1.5, "井盖缺失": 1, "树木倒伏": 1,
                          "占道堆物": 1, "私设地锁地桩": 1},
    Source.VIDEO: {name: 1.0 for name in (
        "暴露垃圾", "机动车乱停放", "非机动车乱停放", "无照经营游商", "店外经营", "占道堆物", "沿街晾挂",
        "露天烧烤", "道路不洁", "占道洗车修车", "施工占道", "道路积水/内涝", "违规悬挂横幅",
        "占道废品收购", "道路遗撒")},  # 1.0 = keep the class's own weight
}
URGENT_SHARE = {Source.LEADER: 0.25, Source.TRANSFER_110: 0.3, Source.ENTERPRISE: 0.15}
URGENT_DEFAULT = 0.035
FIX_ON_SPOT_SHARE = {Source.INSPECTOR: 0.22, Source.VIDEO: 0.05, Source.HOTLINE_12345: 0.035,
                     Source.WALK_IN: 0.04, Source.TRANSFER_110: 0.03}
VOID_SHARE = {Source.HOTLINE_12345: 0.05, Source.WALK_IN: 0.05, Source.VIDEO: 0.04,
              Source.TRANSFER_110: 0.03, Source.ENTERPRISE: 0.02, Source.INSPECTOR: 0.008}
VOID_DEFAULT = 0.01
RETURN_SHARE, REWORK_SHARE, EXTENSION_SHARE, PARK_SHARE = 0.022, 0.016, 0.022, 0.005
LATE_SHARE = 0.07  # handled after the deadline
TOWN_LEVEL_SHARE = 0.85  # enforcement/sanitation/municipal work goes to the town's own branch


@dataclass
class _Plan:
    """How one case will go, decided up front."""

    path: str = "loop"  # loop / on_spot / void
    void_stage: int = 0  # 0 pending_accept, 1 pending_open, 2 pending_dispatch
    accept_first: bool = False  # on_spot after acceptance
    returned: bool = False
    reworked: bool = False
    rework_by_inspector: bool = True
    extended: bool = False
    parked: bool = False
    unparked: bool = False


class _CaseMaker:
    def __init__(self, world: _World, rng: random.Random, phones: PhoneCipher) -> None:
        self.world = world
        self.rng = rng
        self.phones = phones  # seals the invented reporters' numbers (db.core.pii)
        self.cal = world.calendar
        self.now = world.now
        self.cast = world.cast
        self.sources = [s.value for s in SOURCE_SHARES]  # plain str for the driver
        self.source_cum = _cum(list(SOURCE_SHARES.values()))
        self.hour_cum = {s: _cum(SOURCE_HOURS[s]) for s in self.sources}
        self.class_pick = {s: self._class_table(SOURCE_CLASSES.get(s)) for s in self.sources}
        self.town_cum = _cum([t.weight for t in world.towns])
        # Waterlogging happens where the land is low.
        self.wet_town_cum = _cum([t.weight * (4 if t.low_lying else 1) for t in world.towns])
        #: (town id, local date) -> inspector cases, for linking inspection findings.
        self.links: dict[tuple[int, dt.date], list[tuple[int, float, float, str]]] = {}
        self.workday: dict[dt.date, bool] = {}

    def _class_table(self, only: dict[str, float] | None) -> tuple[list[_Class], list[float]]:
        classes = self.world.classes
        if only:
            chosen = [c for c in classes if c.minor_name in only]
            if chosen:
                weights = [c.weight if only[c.minor_name] == 1.0 else only[c.minor_name]
                           for c in chosen]
                return chosen, _cum(weights)
        return list(classes), _cum([c.weight for c in classes])

    # -- when ------------------------------------------------------------------------------
    def timeline(self, n: int) -> list[tuple[dt.datetime, str]]:
        """``n`` report times with their channels over the last ``days``, oldest first."""
        rng, now = self.rng, self.now
        start = now - dt.timedelta(days=self.world.days)
        first = _local(start).date()
        span = (_local(now).date() - first).days + 1
        out = []
        for _ in range(n):
            source = rng.choices(self.sources, cum_weights=self.source_cum)[0]
            while True:  # re-draw the time, never the channel, so the channel shares hold
                day = first + dt.timedelta(days=rng.randrange(span))
                if not self._is_workday(day) and rng.random() > OFFDAY_SHARE.get(source, 1.0):
                    continue
                hour = rng.choices(range(24), cum_weights=self.hour_cum[source])[0]
                lo, hi = 0, 3600
                if source in HALF_HOURS:  # 8:30-17:30
                    lo, hi = (1800, 3600) if hour == 8 else (0, 1800) if hour == 17 else (0, 3600)
                at = _from_local(day, hour * 3600 + rng.randrange(lo, hi))
                if start <= at < now:
                    out.append((at, source))
                    break
        out.sort(key=lambda pair: pair[0])  # stable: ties keep their drawing order
        return out

    def _is_workday(self, day: dt.date) -> bool:
        known = self.workday.get(day)
        if known is None:
            known = self.workday[day] = self.cal.is_workday(day)[0]
        return known

    def _minutes(self, lo: float, hi: float, pace: float = 1.0) -> dt.timedelta:
        return dt.timedelta(seconds=self.rng.randint(int(lo * 60 * pace), int(hi * 60 * pace)))

    def _work_after(self, start: dt.datetime, lo_hours: float, hi_hours: float) -> dt.datetime:
        """Some working hours after ``start``: departments and inspectors keep office hours."""
        seconds = int(self.rng.uniform(lo_hours, hi_hours) * 3600)
        return self.cal.add_working_seconds(start, seconds).at

    def _handled_at(self, start: dt.datetime, deadline: dt.datetime, cls: _Class) -> dt.datetime:
        """When the department reports back: usually well inside the limit, sometimes late."""
        rng, cal = self.rng, self.cal
        late = rng.random() < LATE_SHARE
        if cls.emergency:
            span = (deadline - start).total_seconds()
            if not late and span > 120:
                return start + dt.timedelta(seconds=int(span * rng.uniform(0.3, 0.95)))
            return max(deadline, start) + self._minutes(3, 90)
        left = cal.working_seconds_between(start, deadline)
        if not late and left > 120:
            return cal.add_working_seconds(start, int(left * rng.uniform(0.1, 0.95))).at
        limit = cal.limit_seconds(cls.amount, cls.unit)
        # Late work runs up to two and a half limits over: the overdue list has a long tail.
        over = 60 + int(limit * rng.uniform(0.05, 2.5))
        return cal.add_working_seconds(max(deadline, start), over).at

    # -- what and where --------------------------------------------------------------------
    def make(self, case_id: int, at: dt.datetime, source: str) -> tuple[dict, list[dict]]:
        """One case and its history."""
        rng, w = self.rng, self.world
        classes, cum = self.class_pick[source]
        cls = rng.choices(classes, cum_weights=cum)[0]
        town_cum = self.wet_town_cum if cls.minor_name == "道路积水/内涝" else self.town_cum
        town = rng.choices(w.towns, cum_weights=town_cum)[0]
        grid = town.pick_grid(rng)
        lat, lon = w.point_in(rng, grid)
        if cls.emergency:
            urgency = Urgency.EMERGENCY.value
        elif rng.random() < URGENT_SHARE.get(source, URGENT_DEFAULT):
            urgency = Urgency.URGENT.value
        else:
            urgency = Urgency.NORMAL.value
        road = rng.choice(ROADS)
        title, description = self._describe(source, cls, town, grid, road)
        reporter = reporter_phone = external_ref = None
        local_day = _local(at)
        if source in (Source.HOTLINE_12345, Source.WALK_IN, Source.ENTERPRISE):
            reporter, reporter_phone = _name(rng), _mobile(rng)
        if source == Source.HOTLINE_12345:
            external_ref = f"GD12345-{local_day:%Y%m%d}-{rng.randrange(10 ** 6):06d}"
        elif source in (Source.TRANSFER_110, Source.TRANSFER_119):
            external_ref = f"{source[-3:]}-{local_day:%Y%m%d}-{rng.randrange(10 ** 5):05d}"
        elif source == Source.ENTERPRISE:
            external_ref = f"QYZTC-{local_day:%Y%m%d}-{rng.randrange(10 ** 4):04d}"
        reporter_actor = self._reporter(source, town, at)
        phone_enc, phone_hash = self.phones.seal(reporter_phone)
        row = {
            "id": case_id, "number": case_number(at, case_id), "city_id": w.city_id,
            "source": source, "state": State.PENDING_ACCEPT.value, "urgency": urgency,
            # Every channel arrives classified here (12345 work orders carry a category too),
            # so urgency "emergency" always matches an emergency class.
            "class_id": cls.id, "lat": lat, "lon": lon,
            "address": f"东莞市{town.name}{grid.place if grid.village_id else ''}{road}"
                       f"{rng.randint(1, 300)}号附近",
            "town_id": town.id, "village_id": grid.village_id, "grid_id": grid.id,
            "title": title, "description": description, "reporter_name": reporter,
            "reporter_phone_enc": phone_enc, "reporter_phone_hash": phone_hash,
            "media_json": "[]", "external_ref": external_ref,
            "reported_at": at, "opened_at": None, "dispatched_at": None, "deadline_at": None,
            "deadline_estimated": False, "handled_at": None, "closed_at": None,
            "handled_on_time": None, "resolution": None, "assignee_department_id": None,
            "assignee_staff_id": None, "assignee_user_id": None, "created_by_id": reporter_actor.id,
            "extension_count": 0, "rework_count": 0, "pending_extension_json": None,
            "paused_left_seconds": None, "updated_at": at, "version": 1,
        }
        sim = _Sim(self, row, cls)
        sim.report(reporter_actor)
        self._walk(sim, self._plan(source, cls), town, grid, reporter_actor)
        if source == Source.INSPECTOR:
            key = (town.id, local_day.date())
            found = self.links.setdefault(key, [])
            if len(found) < 4:
                found.append((case_id, lat, lon, f"{grid.place}{cls.minor_name}"))
        return row, sim.history

    def _describe(self, source: str, cls: _Class, town: _Town, grid: _Grid,
                  road: str) -> tuple[str, str]:
        rng = self.rng
        lead = SOURCE_LEADS[Source(source)]
        if source == Source.VIDEO and town.cameras:
            lead = f"视频智能识别（{rng.choice(town.cameras)}）："
        elif source == Source.SENSOR:
            sensors = town.sensors["gas" if cls.minor_name == "燃气泄漏" else "water_level"]
            if sensors:
                lead = f"物联感知报警（{rng.choice(sensors)}）："
        elif source == Source.ENTERPRISE:
            lead += (f"东莞市{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_TRADES)}有限公司反映，")
        place = grid.place if grid.village_id else f"{town.name}中心区"
        tail = rng.choice(HOTLINE_TAILS) if source == Source.HOTLINE_12345 else ""
        description = f"{lead}{place}{road}附近{cls.minor_name}，{rng.choice(cls.details)}。{tail}"
        return f"{place}{cls.minor_name}", description

    def _reporter(self, source: str, town: _Town, at: dt.datetime) -> _Actor:
        if source == Source.INSPECTOR:
            return self.cast.inspector(town)
        if source == Source.LEADER:
            return self.cast.chief
        return self.cast.duty_at(self.rng, at)  # the control room records every other channel

    def _plan(self, source: str, cls: _Class) -> _Plan:
        rng = self.rng
        plan = _Plan()
        fix = 0.0 if cls.emergency else FIX_ON_SPOT_SHARE.get(source, 0.0)
        roll = rng.random()
        if roll < fix:
            plan.path = "on_spot"
            plan.accept_first = rng.random() < 0.2
        elif roll < fix + VOID_SHARE.get(source, VOID_DEFAULT):
            plan.path = "void"
            plan.void_stage = rng.choices((0, 1, 2), cum_weights=(55, 85, 100))[0]
        else:
            plan.returned = rng.random() < RETURN_SHARE
            plan.reworked = rng.random() < REWORK_SHARE
            plan.rework_by_inspector = rng.random() < 0.7
            if not cls.emergency:
                plan.parked = rng.random() < PARK_SHARE
                plan.unparked = rng.random() < 0.5
                plan.extended = not plan.parked and rng.random() < EXTENSION_SHARE
        return plan

    def _assignee(self, town: _Town, grid: _Grid, cls: _Class,
                  wrong: bool) -> tuple[int, int | None, _Actor]:
        """Department, staff member and handling account of a dispatch. ``wrong`` picks a
        plausible but mistaken department (one that will return the case)."""
        rng, w = self.rng, self.world
        kind = cls.dept_kind
        if wrong:
            others = [k for k in ("enforcement", "sanitation", "municipal", "landscape", "water")
                      if k != kind and k in w.city_depts]
            kind = rng.choice(others) if others else kind
        if kind in TOWN_KINDS and kind in town.depts and rng.random() < TOWN_LEVEL_SHARE:
            handler = self.cast.handler(town, kind)
            staff_id = handler.staff_id
            if staff_id is None or kind != "enforcement":
                people = town.dept_staff.get(kind) or grid.members or town.staff
                staff_id = rng.choice(people).id
            return town.depts[kind], staff_id, handler
        dept = w.city_depts.get(kind) or w.city_depts["enforcement"]
        return dept, None, self.cast.handler(None, kind)

    # -- how it went -----------------------------------------------------------------------
    def _walk(self, sim: _Sim, plan: _Plan, town: _Town, grid: _Grid, reporter: _Actor) -> None:
        rng, cast, cls = self.rng, self.cast, sim.cls
        say = lambda key: rng.choice(OPINIONS[key])  # noqa: E731 - a one-line lookup
        t = sim.last
        night = _local(t).hour < 7
        pace = 0.4 if sim.row["urgency"] != Urgency.NORMAL.value else 2.0 if night else 1.0
        if cls.emergency:
            pace = 0.1

        if plan.path == "on_spot":
            if plan.accept_first:
                at = t + self._minutes(2, 20, pace)
                if (t := sim.accept(at, cast.duty_at(rng, at))) is None:
                    return
            fixer = reporter if reporter in cast.inspectors else (
                cast.fields[town.index] if town.index < len(cast.fields) else cast.inspector(town))
            sim.fix_on_spot(t + self._minutes(1, 20), fixer, say("on_spot"))
            return

        at = t + self._minutes(2, 25, pace)
        if plan.path == "void" and plan.void_stage == 0:
            sim.void(at, cast.duty_at(rng, at), say("void"))
            return
        if (t := sim.accept(at, cast.duty_at(rng, at))) is None:
            return
        at = t + self._minutes(3, 45, pace)
        if plan.path == "void" and plan.void_stage == 1:
            sim.void(at, cast.duty_at(rng, at), say("void"))
            return
        if (t := sim.open(at, cast.leader_at(at), say("open"))) is None:
            return
        at = t + self._minutes(5, 60, pace)
        if plan.path == "void":
            sim.void(at, cast.leader_at(at), say("void"))
            return

        order = say("dispatch_emergency") if cls.emergency else say("dispatch")
        dept, staff, handler = self._assignee(town, grid, cls, wrong=plan.returned)
        if (t := sim.dispatch(at, cast.dispatcher_at(at), dept, staff, handler.id, order)) is None:
            return
        if plan.returned:
            at = t + self._minutes(3, 15) if cls.emergency else self._work_after(t, 0.3, 3.0)
            if (t := sim.return_(at, handler, say("return"))) is None:
                return
            at = t + self._minutes(10, 90, pace)
            dept, staff, handler = self._assignee(town, grid, cls, wrong=False)
            t = sim.dispatch(at, cast.dispatcher_at(at), dept, staff, handler.id, order)
            if t is None:
                return
        if plan.parked:
            at = self._work_after(t, 2, 16)
            if (t := sim.park(at, cast.leader_at(at), say("park"))) is None or not plan.unparked:
                return
            at = t + dt.timedelta(seconds=rng.randrange(7 * 86400, 40 * 86400))
            if (t := sim.unpark(at, cast.leader_at(at), say("unpark"))) is None:
                return
        if plan.extended:
            left = self.cal.working_seconds_between(t, sim.row["deadline_at"])
            at = self.cal.add_working_seconds(t, max(600, int(left * rng.uniform(0.3, 0.8)))).at
            amount, unit = (rng.choice((2, 3, 5)), "work_days") if cls.unit == "work_days" \
                else (rng.choice((4, 8)), "work_hours")
            if (t := sim.request_extension(at, handler, amount, unit, say("extension"))) is None:
                return
            at = t + self._minutes(20, 240)
            if (t := sim.approve_extension(at, cast.leader_at(at), say("approve"))) is None:
                return

        for round_ in range(2 if plan.reworked else 1):
            at = self._handled_at(t, sim.row["deadline_at"], cls)
            if (t := sim.feedback(at, handler, say("feedback"))) is None:
                return
            # Inspectors check on site within about a working day; emergencies the same day.
            at = t + self._minutes(20, 180) if cls.emergency else self._work_after(t, 0.5, 8.0)
            inspector = cast.inspector(town)
            if round_ == 0 and plan.reworked and plan.rework_by_inspector:
                if (t := sim.rework(at, inspector, say("rework"))) is None:
                    return
                continue
            if (t := sim.verify(at, inspector, say("verify"))) is None:
                return
            at = t + self._minutes(10, 720)  # shift leaders close in batches
            if round_ == 0 and plan.reworked:  # the shift leader sends it back at closing
                if (t := sim.rework(at, cast.leader_at(at), say("rework"))) is None:
                    return
                continue
            sim.close(at, cast.leader_at(at), say("close"))


def _build_cases(session: Session, maker: _CaseMaker, total: int,
                 say: Callable[[str], None]) -> int:
    """Generate and insert ``total`` cases in chunks; return the number of history rows."""
    cases_table, history_table = Case.__table__, CaseHistory.__table__
    world = maker.world
    case_rows: list[dict] = []
    history_rows: list[dict] = []
    written = 0

    def flush() -> None:
        nonlocal written
        if case_rows:
            session.execute(insert(cases_table), case_rows)
            _insert(session, history_table, history_rows)
            written += len(history_rows)
            case_rows.clear()
            history_rows.clear()

    for done, (at, source) in enumerate(maker.timeline(total), 1):
        row, history = maker.make(world.next_id("case"), at, source)
        case_rows.append(row)
        history_rows.extend(history)
        if len(case_rows) >= CHUNK:
            flush()
        if done % 10_000 == 0:
            say(f"案件 {done:,}/{total:,}")
    flush()
    return written
