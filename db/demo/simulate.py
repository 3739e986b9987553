"""A city that moves: live traffic written into a demo database (issue 5).

:func:`simulate` drives the database the way the control room and the field do, through the
same ``db/`` operations the workstations use: new cases through :func:`db.cases.workflow.report_case`
by the demo accounts, progress through :data:`db.cases.workflow.STEP_FUNCTIONS` by an account whose
role the transition table allows, and batched telemetry (staff positions, sensor readings,
alerts through :func:`db.alerts.lifecycle.raise_alerts`, 110/119 transfers) published on the change feed.

Every report and step carries a request id (:mod:`db.core.requests`): a write whose answer a
lost link or a failover swallowed is settled by asking the database, never done twice.

Time: each *tick* reads the clock once. With the default clock (real UTC time) ticks are paced
at :data:`TICK_SECONDS` of wall time; with a caller's ``clock`` ticks run back to back and the
clock alone says how much simulated time passed (tests use a fake clock that moves a fixed step
per call). ``duration`` is measured on the clock.

Determinism: every draw comes from ``random.Random(seed)`` or from a generator seeded by
``(seed, case id, case version)``; every query is ordered. Same seed + same starting database +
same clock = same rows (change-feed timestamps aside, which :mod:`db.core.feed` stamps itself).

Consistency: every write is one transaction and nothing spans ticks, so stopping at any moment
(``stop``, ``duration``, Ctrl+C, kill) leaves every case in a valid state with its history.

Outages: a lost or busy database ends the tick, not the run; the run waits with back-off and
jitter (:mod:`db.core.backoff`), reads its state back from the database and goes on (see
:func:`simulate`).
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from db.alerts import ingest
from db.alerts import lifecycle as alerts
from db.alerts.sensors import SensorSite
from db.auth.roles import Role
from db.auth.scope import SYSTEM, Scope, scope_of
from db.cases import workflow as wf
from db.cases.workflow import Source, State, Step, Urgency
from db.core.backoff import Backoff, pause
from db.core.engine import Database
from db.core.errors import (
    CityOpsError,
    ConflictError,
    OutsideCity,
    is_connection_lost,
    is_database_busy,
)
from db.core.requests import new_request_id
from db.demo.accounts import DEMO_ACCOUNTS
from db.demo.build import demo_marker
from db.demo.casework import SOURCE_HOURS, SOURCE_SHARES
from db.demo.vocabulary import DETAILS, OPINIONS, SOURCE_LEADS
from db.devices import positions
from db.geo.distance import bearing, distance_km, offset
from db.geo.polygons import city_geo
from db.models import (
    Alert,
    Camera,
    Case,
    CaseClass,
    Department,
    Grid,
    Sensor,
    Staff,
    StaffPosition,
    Town,
    UserAccount,
    utcnow,
)

log = logging.getLogger(__name__)
SCENARIOS = ("normal", "typhoon", "gas-leak")
TICK_SECONDS = 1.0  # wall time per tick with the real clock
MAX_TICK_SECONDS = 60.0  # a tick after a pause (laptop lid, debugger) never bursts beyond this
RECONNECT_FIRST_S = 1.0  # back-off after a lost database: up to this long first (full jitter)
RECONNECT_CAP_S = 30.0  # ... doubling up to this
CASES_PER_SECOND = 0.05  # 3 new cases a minute at rate 1, before the daily rhythm
FIX_EVERY = (10.0, 30.0)  # one position fix per person every 10-30 s
SENSOR_EVERY = 10.0  # seconds between reading rounds at rate 1
RAMP_SECONDS = 900.0  # a scenario reaches its peak after 15 minutes at rate 1
CAMERA_DETECTIONS_PER_SECOND = 1 / 120  # one detection every two minutes at rate 1
TRANSFERS_PER_SECOND = 1 / 600  # one 110/119 transfer every ten minutes at rate 1
TRANSFER_REPEAT_SHARE = 0.25  # of transfers, a follow-up call about an incident already sent
HOME_RADIUS_M = 800.0  # a person walks within this of where the run found them
CST = dt.timedelta(hours=8)

VIDEO_LABELS = (("garbage", "暴露垃圾", "minor"), ("street_vending", "占道经营", "minor"),
                ("illegal_parking", "机动车乱停放", "warning"), ("crowd", "人员聚集", "minor"),
                ("smoke", "烟火", "major"))
#: 110/119 incidents the police and fire control rooms hand over: (source, what, detail,
#: severities). The alert is per incident (its transfer number), typed "transfer".
TRANSFER_INCIDENTS = (
    ("119", "垃圾焚烧起火", "群众报警称有人露天焚烧垃圾，现场浓烟较大", ("major",)),
    ("119", "燃气泄漏", "居民报称楼下燃气管道有明显燃气味", ("critical",)),
    ("119", "树木倒伏压车", "大树倒伏横在路面，压住一辆停放车辆", ("major", "critical")),
    ("119", "广告牌松动", "临街广告牌被风吹松动，有坠落危险", ("major", "critical")),
    ("110", "交通事故占道", "两车碰撞后停在车道上，造成交通拥堵", ("major",)),
    ("110", "人员聚集", "商场门口人员聚集，秩序混乱", ("major", "critical")),
    ("110", "路面积水车辆受困", "下穿通道积水较深，有车辆熄火受困", ("critical",)),
    ("110", "占道摆卖纠纷", "流动摊贩占道摆卖，与行人发生纠纷", ("major",)),
)

#: Seconds (at rate 1) a case waits in each state before the simulated people act.
DELAYS = {
    State.PENDING_ACCEPT: (30, 180), State.PENDING_OPEN: (60, 300),
    State.PENDING_DISPATCH: (60, 600), State.HANDLING: (600, 3600),
    State.EXTENSION_PENDING: (300, 1800), State.PARKED: (3600, 7200),
    State.PENDING_CHECK: (300, 1800), State.PENDING_CLOSE: (120, 900),
}
# Which way a case goes from each state: (step, share); the last entry takes the rest.
CHOICES: dict[State, tuple[tuple[Step, float], ...]] = {
    State.PENDING_ACCEPT: ((Step.VOID, 0.04), (Step.ACCEPT, 1.0)),
    State.PENDING_OPEN: ((Step.VOID, 0.02), (Step.OPEN, 1.0)),
    State.PENDING_DISPATCH: ((Step.DISPATCH, 1.0),),
    State.HANDLING: ((Step.RETURN, 0.03), (Step.REQUEST_EXTENSION, 0.04), (Step.PARK, 0.01),
                     (Step.FEEDBACK, 1.0)),
    State.EXTENSION_PENDING: ((Step.REJECT_EXTENSION, 0.2), (Step.APPROVE_EXTENSION, 1.0)),
    State.PARKED: ((Step.UNPARK, 1.0),),
    State.PENDING_CHECK: ((Step.REWORK, 0.08), (Step.VERIFY, 1.0)),
    State.PENDING_CLOSE: ((Step.REWORK, 0.03), (Step.CLOSE, 1.0)),
}
#: Who usually takes a desk step when the table allows several roles.
PREFERRED = {Step.ACCEPT: Role.DUTY_OFFICER, Step.VOID: Role.DUTY_OFFICER,
             Step.DISPATCH: Role.DISPATCHER}
FIX_ON_SPOT_SHARE = 0.2  # of inspector reports, fixed by the inspector at once
OPINION_KEYS = {Step.VOID: "void", Step.OPEN: "open", Step.DISPATCH: "dispatch",
                Step.RETURN: "return", Step.FEEDBACK: "feedback",
                Step.REQUEST_EXTENSION: "extension", Step.APPROVE_EXTENSION: "approve",
                Step.REJECT_EXTENSION: "approve", Step.PARK: "park", Step.UNPARK: "unpark",
                Step.VERIFY: "verify", Step.REWORK: "rework", Step.CLOSE: "close",
                Step.FIX_ON_SPOT: "on_spot"}
REJECT_OPINION = "理由不充分，不同意延期"


class NotADemoDatabase(CityOpsError):
    """The simulator writes invented traffic: it runs only on a demo database."""

    code = "not_demo"


@dataclass
class SimStats:
    """What a run wrote. ``events`` = cases reported + steps + position fixes + readings +
    alerts raised or repeated (conflicts are not events: nothing was written)."""

    events: int = 0
    cases_reported: int = 0
    steps: int = 0
    positions: int = 0
    readings: int = 0
    alerts: int = 0
    conflicts: int = 0
    seconds: float = 0.0
    ticks: int = 0
    late_ticks: int = 0  # real clock only: ticks whose work took longer than TICK_SECONDS
    reconnects: int = 0  # outages (a lost or busy database) the run waited out


# =============================================================================================
# What the simulator knows about the demo city (loaded once, ordered, so runs repeat)
# =============================================================================================

@dataclass
class _Account:
    id: int
    username: str
    role: Role
    department_id: int | None
    town_id: int | None
    scope: Scope = SYSTEM  # the cases it may act on (db.auth.scope), read with the account


@dataclass
class _Walker:
    staff_id: int
    lat: float
    lon: float
    home_lat: float
    home_lon: float


@dataclass
class _SensorState:
    id: int
    kind: str
    town_id: int | None
    name: str
    lat: float
    lon: float
    thresholds: str
    base: float
    peak: float = 0.0  # how far the scenario lifts this sensor at full ramp


@dataclass
class _City:
    city_id: int
    accounts: list[_Account]
    classes: list[tuple[int, str, float, int | None]]  # id, minor name, weight, department
    dept_kind: dict[int, str]
    town_depts: dict[tuple[int, str], int]  # (town, kind) -> department
    city_depts: dict[str, int]  # kind -> city-level department
    grids: list[tuple[int, int, float, float]]  # id, town, lat, lon
    town_names: dict[int, str]
    low_lying: list[int]
    walkers: list[_Walker]
    sensors: list[_SensorState]
    cameras: list[tuple[int, str, float, float, int | None]]  # id, name, lat, lon, town
    by_role: dict[Role, list[_Account]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for account in self.accounts:
            self.by_role.setdefault(account.role, []).append(account)


def _load_city(database: Database) -> _City:
    with database.read() as s:
        if demo_marker(s) is None:  # not marked demo, or it holds a real account
            raise NotADemoDatabase("模拟器只能在演示数据库上运行（请先生成演示数据：cityops demo；"
                                   "库中有真实账号时不再是演示库）")
        staff_town = dict(s.execute(select(Staff.id, Staff.town_id)).all())
        accounts = [
            _Account(a.id, a.username, Role(a.role), a.department_id, staff_town.get(a.staff_id),
                     scope_of(s, a))
            for a in s.scalars(
                select(UserAccount)
                .where(UserAccount.username.in_(list(DEMO_ACCOUNTS)),
                       UserAccount.active.is_(True))
                .order_by(UserAccount.id)).all()]
        depts = s.execute(select(Department.id, Department.kind, Department.town_id)
                          .order_by(Department.id)).all()
        towns = s.execute(select(Town.id, Town.name, Town.low_lying).order_by(Town.id)).all()
        city = _City(
            city_id=s.scalar(select(Town.city_id).order_by(Town.id).limit(1)),
            accounts=accounts,
            classes=[tuple(r) for r in s.execute(
                select(CaseClass.id, CaseClass.minor_name, CaseClass.weight,
                       CaseClass.department_id)
                .where(CaseClass.active.is_(True)).order_by(CaseClass.id))],
            dept_kind={d.id: d.kind for d in depts},
            town_depts={(d.town_id, d.kind): d.id for d in depts if d.town_id is not None},
            city_depts={d.kind: d.id for d in reversed(depts) if d.town_id is None},
            grids=[tuple(r) for r in s.execute(
                select(Grid.id, Grid.town_id, Grid.center_lat, Grid.center_lon)
                .order_by(Grid.id))],
            town_names={t.id: t.name for t in towns},
            low_lying=[t.id for t in towns if t.low_lying],
            walkers=[_Walker(sid, lat, lon, lat, lon) for sid, lat, lon in s.execute(
                select(StaffPosition.staff_id, StaffPosition.lat, StaffPosition.lon)
                .order_by(StaffPosition.staff_id))],
            sensors=[_SensorState(i, kind, town, name, lat, lon, th, value or 0.0)
                     for i, kind, town, name, lat, lon, th, value in s.execute(
                         select(Sensor.id, Sensor.kind, Sensor.town_id, Sensor.name, Sensor.lat,
                                Sensor.lon, Sensor.thresholds_json, Sensor.last_value)
                         .where(Sensor.active.is_(True)).order_by(Sensor.id))],
            cameras=[tuple(r) for r in s.execute(
                select(Camera.id, Camera.name, Camera.lat, Camera.lon, Camera.town_id)
                .where(Camera.active.is_(True), Camera.analytics.is_(True))
                .order_by(Camera.id))],
        )
    missing = [r for r in (Role.DUTY_OFFICER, Role.DISPATCHER, Role.SHIFT_LEADER,
                           Role.INSPECTOR, Role.FIELD_OFFICER) if not city.by_role.get(r)]
    if missing or not city.grids or not city.classes:
        raise NotADemoDatabase(f"演示数据不完整，缺少：{', '.join(missing) or '网格或案件类别'}")
    return city


# =============================================================================================
# The run
# =============================================================================================

@dataclass
class _Run:
    database: Database
    city: _City
    rng: random.Random
    seed: int
    rate: float
    scenario: str
    stats: SimStats
    on_event: Callable[[str, int], None] | None
    started_at: dt.datetime | None = None
    next_readings_at: dt.datetime | None = None
    transfers: list[dict] = field(default_factory=list)  # recent 110/119 alarms, for follow-ups
    sites: dict[int, SensorSite] | None = None  # what each sensor's alarm names, made once
    walker_ids: frozenset[int] | None = None  # staff known to exist: their fixes need no look-up

    def emit(self, kind: str, count: int) -> None:
        if self.on_event is not None:
            self.on_event(kind, count)


def simulate(database: Database, *, scenario: str = "normal", seed: int = 1, rate: float = 1.0,
             duration: float | None = None, stop: threading.Event | None = None,
             clock: Callable[[], dt.datetime] | None = None,
             on_event: Callable[[str, int], None] | None = None,
             backoff: Backoff | None = None) -> SimStats:
    """Write live traffic into the demo ``database`` until ``stop`` is set or ``duration``
    seconds (on the clock) have passed; return what was written.

    ``on_event(kind, count)`` is called after each committed transaction (and each conflict)
    with ``kind`` one of ``cases_reported``, ``steps``, ``conflicts``, ``positions``,
    ``readings`` or ``alerts`` (the :class:`SimStats` field it adds to); an exception it raises
    (KeyboardInterrupt included) ends the run between transactions.

    A lost or busy database (a server restart, a failover, a lock timeout) does not end the run:
    the rest of that tick is dropped, never retried (a transaction whose COMMIT reached the
    server but whose answer was lost must not be written twice), the loss is logged once, and
    the run waits with ``backoff`` (default: :data:`RECONNECT_FIRST_S` doubling up to
    :data:`RECONNECT_CAP_S`, full jitter), reads back from the database what it keeps in memory
    (:func:`_reload`) and goes on with the next tick.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {SCENARIOS}")
    if not rate > 0:
        raise ValueError("rate must be > 0")
    paced = clock is None
    clock = clock or utcnow
    retry = backoff or Backoff(RECONNECT_FIRST_S, RECONNECT_CAP_S)
    rng = random.Random(seed)
    stats = SimStats()
    run: _Run | None = None
    started = time.perf_counter()
    previous: dt.datetime | None = None
    try:
        while not (stop is not None and stop.is_set()):
            tick_started = time.perf_counter()
            try:
                if run is None:
                    run = _Run(database, _load_city(database), rng, seed, rate, scenario, stats,
                               on_event)
                    _plan_scenario(run)
                elif retry.failing:
                    _reload(run)
                now = clock()
                if run.started_at is None:
                    run.started_at = now
                if duration is not None and (now - run.started_at).total_seconds() >= duration:
                    break
                elapsed = TICK_SECONDS if previous is None else \
                    min(MAX_TICK_SECONDS, max(0.0, (now - previous).total_seconds()))
                previous = now
                _tick(run, now, elapsed)
                stats.ticks += 1
            except Exception as exc:
                if not (is_connection_lost(exc) or is_database_busy(exc)):
                    raise
                previous = None  # the first tick after the outage is an ordinary one, no burst
                if _wait_for_database(retry, exc, stop) or _over(run, clock, duration):
                    break
                continue
            if retry.failing:
                attempts, down = retry.attempts, retry.reset()
                stats.reconnects += 1
                log.warning("数据库已恢复（中断约 %.0f 秒，重试 %d 次），模拟继续", down or 0.0,
                            attempts)
            if paced:
                _pace(run, stop, time.perf_counter() - tick_started)
    finally:
        stats.seconds = round(time.perf_counter() - started, 3)
    return stats


def _over(run: _Run | None, clock: Callable[[], dt.datetime], duration: float | None) -> bool:
    """``duration`` ran out during an outage (a run with a duration ends even if the database
    never comes back)."""
    if duration is None or run is None or run.started_at is None:
        return False
    return (clock() - run.started_at).total_seconds() >= duration


def _wait_for_database(retry: Backoff, exc: BaseException, stop: threading.Event | None) -> bool:
    """Log the loss (once per outage; later failures at debug level) and sleep the back-off;
    True when ``stop`` was set meanwhile."""
    first = not retry.failing
    delay = retry.next_delay()
    what = "数据库连接中断" if is_connection_lost(exc) else "数据库繁忙"
    source = exc  # the driver's words, not the workflow's translation of them
    if isinstance(exc, CityOpsError) and exc.__cause__ is not None:
        source = exc.__cause__
    lines = str(getattr(source, "orig", None) or source).strip().splitlines()
    reason = lines[0] if lines else type(source).__name__
    if first:
        log.warning("%s，%.1f 秒后重试（本轮未完成的写入不再补写）：%s", what, delay, reason)
    else:
        log.debug("%s，第 %d 次重试失败，%.1f 秒后再试：%s", what, retry.attempts - 1, delay,
                  reason)
    return pause(delay, stop)


def _reload(run: _Run) -> None:
    """After an outage, read back what the run keeps in memory instead of trusting it: a
    transaction that failed may have moved a walker or queued a transfer that never reached the
    database, and one whose answer was lost may have committed. Kept: the scenario's plan (each
    sensor's peak) and each walker's home, so the city goes on where it was."""
    database, old = run.database, run.city
    city = _load_city(database)  # accounts, scopes, sensors, cameras and positions as stored
    peaks = {s.id: s.peak for s in old.sensors}
    for s in city.sensors:
        s.peak = peaks.get(s.id, 0.0)
    homes = {w.staff_id: (w.home_lat, w.home_lon) for w in old.walkers}
    for w in city.walkers:
        w.home_lat, w.home_lon = homes.get(w.staff_id, (w.home_lat, w.home_lon))
    keys = [t["dedup_key"] for t in run.transfers]
    with database.read() as s:
        last_reading = s.scalar(select(func.max(Sensor.last_at)).where(Sensor.active.is_(True)))
        stored = set(s.scalars(select(Alert.dedup_key).where(Alert.dedup_key.in_(keys)))) \
            if keys else set()
    run.city, run.sites, run.walker_ids = city, None, None
    run.transfers = [t for t in run.transfers if t["dedup_key"] in stored]  # follow-ups only
    if last_reading is not None:  # never a second round of readings at a time already stored
        if last_reading.tzinfo is None:  # SQLite hands back naive UTC
            last_reading = last_reading.replace(tzinfo=dt.UTC)
        after = last_reading + dt.timedelta(seconds=SENSOR_EVERY / run.rate)
        run.next_readings_at = max(run.next_readings_at or after, after)


def _pace(run: _Run, stop: threading.Event | None, took: float) -> None:
    wait = TICK_SECONDS - took
    if wait <= 0:
        run.stats.late_ticks += 1
    elif stop is not None:
        stop.wait(wait)
    else:
        time.sleep(wait)


def _tick(run: _Run, now: dt.datetime, elapsed: float) -> None:
    """One tick: each kind of traffic in its own transaction(s), none spanning ticks."""
    _report_cases(run, now, elapsed)
    _progress_cases(run, now, elapsed)
    _move_staff(run, now, elapsed)
    _sensor_rounds(run, now, elapsed)
    _camera_detections(run, now, elapsed)
    _transfers(run, now, elapsed)


def _sensor_rounds(run: _Run, now: dt.datetime, elapsed: float) -> None:
    """Every SENSOR_EVERY / rate seconds a round of readings, one transaction each; at high
    rates several rounds fall in one tick, each stamped with its own time."""
    every = dt.timedelta(seconds=SENSOR_EVERY / run.rate)
    due = run.next_readings_at or now
    earliest = now - dt.timedelta(seconds=elapsed)  # never replay time before this tick
    while due <= now:
        if due > earliest or due == now:
            _read_sensors(run, due)
        due += every
        run.next_readings_at = due  # at once: a later round failing must not repeat this one
    run.next_readings_at = due


def _count(rng: random.Random, expected: float) -> int:
    """An integer count whose mean is ``expected``."""
    whole = int(expected)
    return whole + (1 if rng.random() < expected - whole else 0)


def _local_hour(now: dt.datetime) -> int:
    return (now.astimezone(dt.UTC) + CST).hour


def _offset(lat: float, lon: float, metres: float, heading: float) -> tuple[float, float]:
    """The point ``metres`` away on compass ``heading`` (degrees), to six decimals (~0.1 m)."""
    lat2, lon2 = offset(lat, lon, metres / 1000, heading)
    return round(lat2, 6), round(lon2, 6)


def _record(run: _Run, name: str, count: int) -> None:
    setattr(run.stats, name, getattr(run.stats, name) + count)
    if name != "conflicts":
        run.stats.events += count
    run.emit(name, count)


# =============================================================================================
# New cases
# =============================================================================================

_HOUR_MEANS = {src: sum(hours) / 24 for src, hours in SOURCE_HOURS.items()}


def _report_cases(run: _Run, now: dt.datetime, elapsed: float) -> None:
    hour = _local_hour(now)
    for source, share in SOURCE_SHARES.items():  # dict order: deterministic
        rhythm = SOURCE_HOURS[source][hour] / _HOUR_MEANS[source]
        expected = CASES_PER_SECOND * run.rate * elapsed * share * rhythm
        for _ in range(_count(run.rng, expected)):
            _report_one(run, source, now)


def _reporter(run: _Run, source: Source, now: dt.datetime) -> _Account:
    by_role, rng = run.city.by_role, run.rng
    if source == Source.INSPECTOR:
        return rng.choice(by_role[Role.INSPECTOR])
    if source == Source.LEADER and by_role.get(Role.LEADER):
        return rng.choice(by_role[Role.LEADER])
    duty = by_role[Role.DUTY_OFFICER]  # the control room records every other channel
    shift = 0 if 8 <= _local_hour(now) < 16 else 1 if _local_hour(now) >= 16 else 2
    on_shift = duty[shift * 2: shift * 2 + 2] or duty
    return rng.choice(on_shift)


def _report_one(run: _Run, source: Source, now: dt.datetime) -> None:
    rng, city = run.rng, run.city
    actor = _reporter(run, source, now)
    grids = [g for g in city.grids if g[1] == actor.town_id] if source == Source.INSPECTOR else []
    _gid, _town, glat, glon = rng.choice(grids or city.grids)
    lat, lon = _offset(glat, glon, rng.uniform(0, 400), rng.uniform(0, 360.0))
    cid, name, _w, _dept = rng.choices(city.classes, weights=[c[2] for c in city.classes])[0]
    detail = rng.choice(DETAILS.get(name) or (f"{name}问题",))
    phone = f"13{rng.randrange(10 ** 9):09d}" if source == Source.HOTLINE_12345 else None
    report = functools.partial(
        wf.report_case, run.database, actor.id, source=source, city_id=city.city_id,
        description=SOURCE_LEADS[source] + detail, title=name[:100],
        class_id=cid if source in (Source.INSPECTOR, Source.VIDEO) else None,
        urgency=Urgency.URGENT if rng.random() < 0.04 else Urgency.NORMAL,
        reporter_name="市民" if phone else None, reporter_phone=phone, now=now,
        request_id=new_request_id())  # one request: a refused first try leaves no id behind
    try:
        result = report(lat=lat, lon=lon)
    except OutsideCity:  # a grid on the city's edge: report at its centre instead
        result = report(lat=glat, lon=glon)
    _record(run, "cases_reported", 1)
    if source == Source.INSPECTOR and rng.random() < FIX_ON_SPOT_SHARE:
        _take(run, result.case_id, result.version, Step.FIX_ON_SPOT, actor, now,
              {"opinion": rng.choice(OPINIONS["on_spot"])})


# =============================================================================================
# Progress of open cases
# =============================================================================================

@dataclass(frozen=True)
class _Open:
    id: int
    state: State
    version: int
    updated_at: dt.datetime
    urgency: str
    class_id: int | None
    town_id: int | None
    department_id: int | None
    pending_extension: bool
    grid_id: int | None = None
    assignee_user_id: int | None = None
    assignee_staff_id: int | None = None

    @property
    def assignee_department_id(self) -> int | None:  # what db.auth.scope reads
        return self.department_id


OPEN_STATES = [s.value for s in DELAYS]


def _open_cases(run: _Run) -> list[_Open]:
    with run.database.read() as s:
        rows = s.execute(
            select(Case.id, Case.state, Case.version, Case.updated_at, Case.urgency,
                   Case.class_id, Case.town_id, Case.assignee_department_id,
                   Case.pending_extension_json, Case.grid_id, Case.assignee_user_id,
                   Case.assignee_staff_id)
            .where(Case.state.in_(OPEN_STATES)).order_by(Case.updated_at, Case.id)).all()
    return [_Open(r[0], State(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), r[9],
                  r[10], r[11])
            for r in rows]


def _case_rng(run: _Run, case: _Open) -> random.Random:
    """The fate of one case at one version: independent of what else happens in the tick."""
    return random.Random(f"cityops-sim/{run.seed}/{case.id}/{case.version}")


def _progress_cases(run: _Run, now: dt.datetime, elapsed: float) -> None:
    budget = max(3, _count(run.rng, 2.0 * run.rate * elapsed))  # a backlog drains gradually
    for case in _open_cases(run):
        if budget <= 0:
            break
        crng = _case_rng(run, case)
        lo, hi = DELAYS[case.state]
        pace = 0.4 if case.urgency != Urgency.NORMAL else 1.0
        if (now - case.updated_at).total_seconds() < crng.uniform(lo, hi) * pace / run.rate:
            continue
        step = _choose_step(crng, case)
        actor = _actor_for(run, crng, step, case)
        if actor is None:
            continue
        _take(run, case.id, case.version, step, actor, now, _step_args(run, crng, step, case))
        budget -= 1


def _choose_step(crng: random.Random, case: _Open) -> Step:
    if case.state == State.EXTENSION_PENDING and not case.pending_extension:
        return Step.REJECT_EXTENSION  # nothing to approve (a human cleared it): just decide
    roll = crng.random()
    for step, share in CHOICES[case.state]:
        if roll < share:
            return step
        roll -= share
    return CHOICES[case.state][-1][0]


def _actor_for(run: _Run, crng: random.Random, step: Step, case: _Open) -> _Account | None:
    """A demo account whose role the table allows for ``step`` here and whose scope holds the
    case (:mod:`db.auth.scope`), preferring the people who would really do it (the
    department's own handler, the town's inspector)."""
    roles = wf.find_transition(step, case.state).roles
    candidates = [a for a in run.city.accounts if a.role in roles and a.scope.covers(case)]
    if Role.DEPARTMENT_HANDLER in roles or Role.FIELD_OFFICER in roles:
        own = [a for a in candidates if a.role == Role.DEPARTMENT_HANDLER]
        candidates = own or candidates
    elif Role.INSPECTOR in roles:
        candidates = [a for a in candidates if a.role == Role.INSPECTOR and
                      a.town_id == case.town_id] or \
            [a for a in candidates if a.role == Role.INSPECTOR] or candidates
    elif step in PREFERRED:
        candidates = [a for a in candidates if a.role == PREFERRED[step]] or candidates
    elif Role.SHIFT_LEADER in roles:
        candidates = [a for a in candidates if a.role == Role.SHIFT_LEADER] or candidates
    return crng.choice(candidates) if candidates else None


def _department_for(run: _Run, crng: random.Random, case: _Open) -> int:
    city = run.city
    class_dept = next((c[3] for c in city.classes if c[0] == case.class_id), None)
    kind = city.dept_kind.get(class_dept, "enforcement") if class_dept else "enforcement"
    town_dept = city.town_depts.get((case.town_id, kind))
    if town_dept is not None and crng.random() < 0.85:
        return town_dept
    return class_dept or city.city_depts.get(kind) or next(iter(city.dept_kind))


def _assignee_for(run: _Run, crng: random.Random, case: _Open) -> dict:
    """Whom a case is dispatched to: a department, and for a town's department the town's
    field officer by name, so that someone whose scope holds the case (db.auth.scope) can
    report back; a town without a demo field account sends it to the city's department of
    the same kind, whose handler can."""
    city = run.city
    department = _department_for(run, crng, case)
    handled = {a.department_id for a in city.by_role.get(Role.DEPARTMENT_HANDLER, [])}
    if department in handled:
        return {"department_id": department}
    fields = city.by_role.get(Role.FIELD_OFFICER, [])
    field = next((a for a in fields if case.grid_id is not None
                  and case.grid_id in a.scope.grid_ids), None) \
        or next((a for a in fields if a.town_id is not None and a.town_id == case.town_id), None)
    if field is not None:
        return {"department_id": department, "user_id": field.id}
    kind = city.dept_kind.get(department, "enforcement")
    return {"department_id": city.city_depts.get(kind, department)}


def _step_args(run: _Run, crng: random.Random, step: Step, case: _Open) -> dict:
    args: dict = {}
    key = OPINION_KEYS.get(step)
    if key:
        args["opinion"] = REJECT_OPINION if step == Step.REJECT_EXTENSION else \
            crng.choice(OPINIONS[key])
    if step == Step.ACCEPT:
        args["class_id"] = case.class_id or crng.choices(
            run.city.classes, weights=[c[2] for c in run.city.classes])[0][0]
    elif step == Step.DISPATCH:
        args.update(_assignee_for(run, crng, case))
    elif step == Step.REQUEST_EXTENSION:
        args.update(amount=crng.choice((2, 4, 8)), unit="work_hours")
    return args


def _take(run: _Run, case_id: int, version: int, step: Step, actor: _Account,
          now: dt.datetime, args: dict) -> None:
    """One step through the workflow; a human who acted first wins (counted, skipped)."""
    try:
        wf.STEP_FUNCTIONS[step](run.database, actor.id, case_id, version, now=now,
                                request_id=new_request_id(), **args)
    except ConflictError:
        _record(run, "conflicts", 1)
        return
    _record(run, "steps", 1)


# =============================================================================================
# Staff positions
# =============================================================================================

def _move_staff(run: _Run, now: dt.datetime, elapsed: float) -> None:
    """The tick's fixes in one transaction. At high rates a person gets several fixes a tick
    (in rounds, spread over the tick): all go to the track, the last one to staff_position."""
    walkers, rng = run.city.walkers, run.rng
    if not walkers:
        return
    mean_every = sum(FIX_EVERY) / 2
    k = _count(rng, len(walkers) * elapsed * run.rate / mean_every)
    rounds = math.ceil(k / len(walkers))
    track: list[dict] = []
    for r in range(rounds):
        at = now - dt.timedelta(seconds=elapsed * (rounds - 1 - r) / rounds)
        for i in sorted(rng.sample(range(len(walkers)), min(len(walkers), k - len(track)))):
            w = walkers[i]
            _walk(rng, w)
            track.append({"staff_id": w.staff_id, "lat": w.lat, "lon": w.lon, "at": at})
    if not track:
        return
    if run.walker_ids is None:
        run.walker_ids = frozenset(w.staff_id for w in walkers)
    with run.database.write() as session:  # the one way fixes enter the database
        positions.record_positions(session, track, known_staff=run.walker_ids)
    _record(run, "positions", len(track))


def _walk(rng: random.Random, w: _Walker) -> None:
    """A few tens of metres; back towards home once beyond HOME_RADIUS_M."""
    if distance_km(w.lat, w.lon, w.home_lat, w.home_lon) * 1000 > HOME_RADIUS_M:
        home = bearing(w.lat, w.lon, w.home_lat, w.home_lon)
        heading = home + math.degrees(rng.uniform(-0.5, 0.5))  # within ~29° of home
    else:
        heading = rng.uniform(0, 360.0)
    w.lat, w.lon = _offset(w.lat, w.lon, rng.uniform(10, 60), heading)


# =============================================================================================
# Sensors and alerts
# =============================================================================================

def _plan_scenario(run: _Run) -> None:
    """How far each sensor climbs: rain on the low-lying towns, or a leak in one town."""
    rng, city = run.rng, run.city
    if run.scenario == "typhoon":
        low = set(city.low_lying)  # membership only
        for s in city.sensors:
            if s.kind == "water_level":
                s.peak = rng.uniform(0.6, 1.4) if s.town_id in low else rng.uniform(0.0, 0.1)
    elif run.scenario == "gas-leak":
        per_town: dict[int, int] = {}
        for s in city.sensors:
            if s.kind == "gas" and s.town_id is not None:
                per_town[s.town_id] = per_town.get(s.town_id, 0) + 1
        most = max(per_town.values(), default=0)  # the leak shows on several sensors at once
        leak_town = rng.choice(sorted(t for t, n in per_town.items() if n == most)) \
            if per_town else None
        for s in city.sensors:
            if s.kind == "gas" and s.town_id == leak_town:
                s.peak = rng.uniform(37.0, 55.0)


def _value(run: _Run, s: _SensorState, now: dt.datetime) -> float:
    ramp = min(1.0, (now - run.started_at).total_seconds() * run.rate / RAMP_SECONDS)
    if s.kind == "water_level":
        return round(max(0.0, s.base + s.peak * ramp + run.rng.gauss(0.0, 0.004)), 3)
    return round(max(0.0, s.base + s.peak * ramp + run.rng.gauss(0.0, 0.3)), 1)


def _read_sensors(run: _Run, now: dt.datetime) -> None:
    sensors = run.city.sensors
    if not sensors:
        return
    readings = [(s.id, _value(run, s, now)) for s in sensors]
    if run.sites is None:
        run.sites = {s.id: _site(run, s) for s in sensors}
    sites = run.sites

    def write(session: Session) -> list[int]:
        # The one way readings enter the database (checks, rows, alarms, then the feed last).
        return ingest.record_readings(session, readings, now, sites=sites)

    alert_ids = _alert_transaction(run, write)
    _record(run, "readings", len(sensors))
    if alert_ids:
        _record(run, "alerts", len(alert_ids))


def _alert_transaction(run: _Run, write: Callable[[Session], list[int]]) -> list[int]:
    """``write`` in one transaction. Another simulator may open the same alert between our
    look-up and our insert (the partial unique index on dedup_key refuses the second row), or
    PostgreSQL may pick this transaction as a deadlock victim: then the whole transaction runs
    once more, and this time bumps the alert the other one made."""
    for attempt in (1, 2):
        try:
            with run.database.write() as session:
                return write(session)
        except DBAPIError as exc:
            retry = isinstance(exc, IntegrityError) or \
                getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")
            if attempt == 2 or not retry:
                raise
    return []


def _site(run: _Run, s: _SensorState) -> SensorSite:
    return SensorSite(s.id, s.kind, s.name, s.lat, s.lon, s.thresholds, s.town_id,
                      run.city.town_names.get(s.town_id, ""))


def _camera_detections(run: _Run, now: dt.datetime, elapsed: float) -> None:
    rng, cameras = run.rng, run.city.cameras
    n = _count(rng, CAMERA_DETECTIONS_PER_SECOND * run.rate * elapsed) if cameras else 0
    if n == 0:
        return
    alarms = []
    for _ in range(n):
        cid, name, lat, lon, town_id = rng.choice(cameras)
        label, zh, severity = rng.choice(VIDEO_LABELS)
        dlat, dlon = _offset(lat, lon, rng.uniform(5, 60), rng.uniform(0, 360.0))
        alarms.append({"source": "camera", "type": f"video:{label}", "severity": severity,
                       "dedup_key": f"camera:{cid}:video:{label}",
                       "title": f"{name}视频识别：{zh}"[:120], "detail": f"智能分析发现{zh}",
                       "lat": dlat, "lon": dlon, "town_id": town_id, "sensor_id": None,
                       "camera_id": cid, "value": None})
    def write(session: Session) -> list[int]:
        return alerts.raise_alerts(session, alarms, now)

    _record(run, "alerts", len(_alert_transaction(run, write)))


def _inside_city(run: _Run, lat: float, lon: float) -> bool:
    """So that turning the alert into a case passes the workflow's inside-city check."""
    with run.database.read() as session:  # the outline is cached after the first call
        return city_geo(run.database, session).inside_city(run.city.city_id, lat, lon)


def _transfers(run: _Run, now: dt.datetime, elapsed: float) -> None:
    """110/119 hand-overs: a new incident somewhere in the city, or now and then a follow-up
    call about a recent one (same transfer number: the alert counts it, no new row)."""
    rng, city = run.rng, run.city
    n = _count(rng, TRANSFERS_PER_SECOND * run.rate * elapsed)
    if n == 0:
        return
    alarms = []
    for _ in range(n):
        if run.transfers and rng.random() < TRANSFER_REPEAT_SHARE:
            alarms.append(dict(rng.choice(run.transfers)))
            continue
        source, what, detail, severities = rng.choice(TRANSFER_INCIDENTS)
        _gid, town_id, glat, glon = rng.choice(city.grids)
        lat, lon = _offset(glat, glon, rng.uniform(0, 150), rng.uniform(0, 360.0))
        if not _inside_city(run, lat, lon):  # a grid on the city's edge: its centre instead
            lat, lon = glat, glon
        number = f"{source}{(now.astimezone(dt.UTC) + CST):%Y%m%d}{rng.randrange(10 ** 6):06d}"
        town = city.town_names.get(town_id, "")
        alarm = {"source": source, "type": "transfer", "severity": rng.choice(severities),
                 "dedup_key": f"{source}:{number}",
                 "title": f"{source}转办：{town}{what}"[:120],
                 "detail": f"接警单号 {number}。{detail}", "lat": lat, "lon": lon,
                 "town_id": town_id, "sensor_id": None, "camera_id": None, "value": None}
        alarms.append(alarm)
        run.transfers = (run.transfers + [alarm])[-20:]

    def write(session: Session) -> list[int]:
        return alerts.raise_alerts(session, alarms, now)

    _record(run, "alerts", len(_alert_transaction(run, write)))


__all__ = ["SCENARIOS", "NotADemoDatabase", "SimStats", "simulate"]
