"""Demo data: counts, the closed-loop invariants, determinism, refusal and rebuilds."""
from __future__ import annotations

import collections
import datetime as dt
import json
import random
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from db.auth.roles import Role
from db.auth.security import hash_password, verify_password
from db.cases.workflow import (
    DISPATCHED_STATES,
    FINAL_STATES,
    Source,
    State,
    case_number,
    check_invariants,
    report_case,
)
from db.core.engine import open_database
from db.core.errors import CityOpsError
from db.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from db.demo.build import DEMO_SETTING, DemoRefused, DemoStats, build_demo
from db.demo.world import _Outline
from db.geo.polygons import in_polygons, rings_of
from db.models import (
    Alert,
    AppSetting,
    AuditLog,
    BlackSpot,
    Camera,
    Case,
    CaseClass,
    CaseHistory,
    ChangeLog,
    City,
    Department,
    Grid,
    GridMember,
    Inspection,
    InspectionFinding,
    Sensor,
    SensorReading,
    Staff,
    StaffPosition,
    Town,
    UserAccount,
    Village,
)
from db.reference.city import ensure_reference_data
from db.worktime.calendar_data import load_calendar
from tests.conftest import PG_ADMIN_URL as PG_URL
from tests.conftest import SKIP_PG
from tests.helpers import allow_caller_time

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 18, 2, 30, tzinfo=UTC)  # a Wednesday, 10:30 in Dongguan
CASES, DAYS = 2500, 20  # dense enough for every open state to show up


def _open(path) -> object:
    return open_database(f"sqlite:///{path}")


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    database = _open(tmp_path_factory.mktemp("demo") / "d.db")
    messages: list[str] = []
    stats = build_demo(database, cases=CASES, seed=7, days=DAYS, now=NOW, progress=messages.append)
    yield database, stats, messages
    database.dispose()


def _outline(session):
    return rings_of(json.loads(session.scalar(select(City.outline_geojson))))


# -- what gets built ------------------------------------------------------------------------

def test_counts(built):
    database, stats, messages = built
    assert isinstance(stats, DemoStats)
    with database.read() as s:
        assert _count(s, Town) == 36
        assert _count(s, Village) == 609
        assert _count(s, Village, Village.lat.is_(None)) == 0
        assert _count(s, Grid) == stats.grids >= 609
        assert 3500 <= _count(s, Staff) == stats.staff <= 4500
        assert 280 <= _count(s, Camera) == stats.cameras <= 320
        assert 180 <= _count(s, Sensor) == stats.sensors <= 220
        assert _count(s, Case) == stats.cases == CASES
        assert _count(s, CaseHistory) == stats.history_rows > CASES * 4
        # Three departments per town, each under the city department of its kind.
        assert _count(s, Department, Department.town_id.is_not(None)) == 36 * 3
        assert _count(s, Department, Department.town_id.is_not(None),
                      Department.parent_id.is_(None)) == 0
        low = set(s.scalars(select(Town.name).where(Town.low_lying.is_(True))))
        assert {"麻涌镇", "中堂镇", "万江街道", "东莞滨海湾新区"} <= low and len(low) == 11
        titles = dict(s.execute(select(Staff.title, func.count()).group_by(Staff.title)).all())
        assert titles["公务员"] == 324 and titles["事业编"] == 843
        assert 80 <= _count(s, BlackSpot) <= 100
        assert _count(s, BlackSpot, BlackSpot.status == "removed") >= 80
        assert _count(s, Inspection, Inspection.kind == "mandatory") >= 36 * (DAYS // 7)
        assert _count(s, InspectionFinding, InspectionFinding.black_spot_id.is_not(None)) > 0
        assert _count(s, InspectionFinding, InspectionFinding.case_id.is_not(None)) > 0
        marker = json.loads(s.get(AppSetting, DEMO_SETTING).value_json)
        assert marker["seed"] == 7 and marker["cases"] == CASES and "built_at" in marker
        assert _count(s, AuditLog, AuditLog.action == "demo.build") == 1
        assert _count(s, AuditLog, AuditLog.action.like("case.%")) == 0  # no per-case audit
        assert _count(s, ChangeLog, ChangeLog.op == "reload") >= 1
    assert any("完成" in m for m in messages)


def test_every_case_keeps_the_closed_loop_invariants(built):
    database, _, _ = built
    with database.read() as s:
        problems = {i: p for i in s.scalars(select(Case.id)) if (p := check_invariants(s, i))}
    assert problems == {}


def test_a_parked_demo_case_keeps_its_time_left_and_an_unparked_one_resumed_it(built):
    database, _, _ = built
    with database.read() as s:
        parked = s.scalars(select(Case).where(Case.state == "parked")).all()
        assert parked and all(c.paused_left_seconds is not None for c in parked)
        unparks = s.scalars(select(CaseHistory).where(CaseHistory.step == "unpark")).all()
        assert unparks
        calendar = load_calendar(s)
        for h in unparks:  # the deadline set at un-parking = un-park time + the time left
            data = json.loads(h.data_json)
            if data["unit"] == "minutes":
                expected = h.at + dt.timedelta(seconds=data["left_seconds"])
            else:
                expected = calendar.add_working_seconds(h.at, data["left_seconds"]).at
            assert dt.datetime.fromisoformat(data["deadline_at"]) == expected


def test_case_rows_are_consistent(built):
    database, _, _ = built
    with database.read() as s:
        minutes = set(s.scalars(select(CaseClass.id).where(CaseClass.limit_unit == "minutes")))
        grid_town = dict(s.execute(select(Grid.id, Grid.town_id)).all())
        grid_village = dict(s.execute(select(Grid.id, Grid.village_id)).all())
        history = collections.defaultdict(list)
        for row in s.execute(select(CaseHistory.case_id, CaseHistory.at, CaseHistory.step,
                                    CaseHistory.actor_id).order_by(CaseHistory.id)):
            history[row.case_id].append(row)
        for c in s.scalars(select(Case)):
            assert c.number == case_number(c.reported_at, c.id)
            assert c.version == len(history[c.id])
            assert grid_town[c.grid_id] == c.town_id and grid_village[c.grid_id] == c.village_id
            assert (c.urgency == "emergency") == (c.class_id in minutes)
            times = [h.at for h in history[c.id]]
            assert times == sorted(times) and len(set(times)) == len(times)
            assert NOW - dt.timedelta(days=DAYS) <= c.reported_at == times[0] and times[-1] < NOW
            assert c.updated_at == times[-1] and all(h.actor_id for h in history[c.id])
            assert (c.reporter_name is not None) == (
                c.source in (Source.HOTLINE_12345, Source.WALK_IN, Source.ENTERPRISE))
            assert c.description and c.title and c.address.startswith("东莞市")
            if c.state in DISPATCHED_STATES or c.resolution == "closed":
                assert c.assignee_department_id is not None and c.opened_at is not None
            if c.handled_on_time is not None:
                assert c.handled_on_time == (c.handled_at <= c.deadline_at)
            if c.state == State.EXTENSION_PENDING:
                assert json.loads(c.pending_extension_json)["amount"] > 0
            assert c.extension_count == sum(h.step == "approve_extension" for h in history[c.id])
            assert c.rework_count == sum(h.step == "rework" for h in history[c.id])


def test_channel_and_state_spreads_are_plausible(built):
    database, _, _ = built
    with database.read() as s:
        sources = dict(s.execute(select(Case.source, func.count()).group_by(Case.source)).all())
        states = dict(s.execute(select(Case.state, func.count()).group_by(Case.state)).all())
        on_time = dict(s.execute(select(Case.handled_on_time, func.count())
                                 .where(Case.handled_on_time.is_not(None))
                                 .group_by(Case.handled_on_time)).all())
        overdue = _count(s, Case, Case.state.in_([State.HANDLING, State.EXTENSION_PENDING]),
                         Case.deadline_at < NOW)
        resolutions = dict(s.execute(select(Case.resolution, func.count())
                                     .group_by(Case.resolution)).all())
    assert set(sources) == {s.value for s in Source}
    assert 0.29 <= sources["hotline_12345"] / CASES <= 0.39
    assert 0.25 <= sources["inspector"] / CASES <= 0.35
    assert 0.08 <= sources["video"] / CASES <= 0.16
    open_states = {st for st in states if State(st) not in FINAL_STATES}
    assert len(open_states) >= 5, states
    assert {State.HANDLING, State.PENDING_CHECK, State.PARKED} <= open_states
    assert 0.03 <= sum(states[st] for st in open_states) / CASES <= 0.25
    assert overdue > 0
    assert 0.88 <= on_time[True] / (on_time[True] + on_time.get(False, 0)) <= 0.97
    assert resolutions["closed"] > 0.75 * CASES
    assert 0.04 <= resolutions["on_spot"] / CASES <= 0.13
    assert 0.01 <= resolutions["void"] / CASES <= 0.06


def test_places_and_cases_lie_inside_the_city(built):
    database, _, _ = built
    with database.read() as s:
        outline = _outline(s)
        for lat, lon in s.execute(select(Village.lat, Village.lon)):
            assert in_polygons(lon, lat, outline)
        for lat, lon in s.execute(select(Case.lat, Case.lon)):
            assert in_polygons(lon, lat, outline)
        for lat, lon in s.execute(select(StaffPosition.lat, StaffPosition.lon)):
            assert in_polygons(lon, lat, outline)
        for grid in s.scalars(select(Grid)):
            ring = json.loads(grid.polygon_geojson)["coordinates"][0]
            assert len(ring) == 7 and ring[0] == ring[-1] and grid.code.startswith("DG-")
            assert grid.leader_id is not None
            duties = [d for (d,) in s.execute(select(GridMember.duty)
                                              .where(GridMember.grid_id == grid.id))]
            assert duties.count("网格长") == 1 and 5 <= duties.count("网格员") <= 8
        positions = s.execute(select(StaffPosition.at)).scalars().all()
        assert positions and all(NOW - dt.timedelta(minutes=10) <= at <= NOW for at in positions)


def test_fast_outline_agrees_with_db_geo(built):
    database, _, _ = built
    with database.read() as s:
        polygons = _outline(s)
    fast = _Outline(polygons)
    rng = random.Random(3)
    points = [(rng.uniform(22.5, 23.2), rng.uniform(113.5, 114.3)) for _ in range(3000)]
    assert [fast.contains(lat, lon) for lat, lon in points] == \
        [in_polygons(lon, lat, polygons) for lat, lon in points]


def test_demo_accounts_sign_in(built):
    database, _, _ = built
    with database.read() as s:
        users = {u.username: u for u in s.scalars(
            select(UserAccount).where(UserAccount.username.in_(list(DEMO_ACCOUNTS))))}
        assert {name: u.role for name, u in users.items()} == DEMO_ACCOUNTS
        assert len({u.password_hash for u in users.values()}) == 1  # hashed once
        assert verify_password(users["duty1"].password_hash, DEMO_PASSWORD)
        assert all(u.active and u.display_name for u in users.values())
        for n in range(1, 21):
            assert users[f"inspector{n}"].staff_id and users[f"field{n}"].staff_id
            assert users[f"field{n}"].display_name == s.get(Staff, users[f"field{n}"].staff_id).name
        city_depts = {d.kind: d.id for d in s.scalars(
            select(Department).where(Department.town_id.is_(None)))}
        for kind, dept_id in city_depts.items():
            assert users[f"dept_{kind}"].department_id == dept_id


def test_devices(built):
    database, _, _ = built
    with database.read() as s:
        cameras = s.scalars(select(Camera)).all()
        assert all(c.stream_url == f"http://127.0.0.1:8890/cam/{c.code}.ts" for c in cameras)
        assert 0.2 <= sum(c.analytics for c in cameras) / len(cameras) <= 0.45
        kinds = dict(s.execute(select(Sensor.kind, func.count()).group_by(Sensor.kind)).all())
        assert 120 <= kinds["water_level"] <= 160 and 40 <= kinds["gas"] <= 80
        # The situation now: three water sensors and one gas sensor rising, each with its
        # alert; every other sensor quiet.
        alarmed = dict(s.execute(select(Alert.sensor_id, Alert.value)
                                 .where(Alert.sensor_id.is_not(None))).all())
        assert len(alarmed) == 4
        sources = s.execute(select(Alert.source, func.count()).group_by(Alert.source)).all()
        assert dict(sources) == {"sensor": 4, "camera": 3, "110": 1, "119": 1}
        for sensor in s.scalars(select(Sensor)):
            limits = json.loads(sensor.thresholds_json)
            quiet = limits["blue"] if sensor.kind == "water_level" else limits["alarm"]
            assert sensor.last_value is not None
            if sensor.id in alarmed:
                assert sensor.last_value >= quiet and alarmed[sensor.id] == sensor.last_value
            else:
                assert sensor.last_value < quiet
            assert NOW - dt.timedelta(minutes=10) < sensor.last_at <= NOW
        assert _count(s, SensorReading) == 144 * _count(s, Sensor)


# -- determinism --------------------------------------------------------------------------

def _dump(database) -> list[tuple]:
    with database.read() as s:
        cases = s.execute(select(Case.number, Case.state, Case.class_id, Case.town_id,
                                 Case.deadline_at, Case.lat, Case.lon, Case.description)
                          .order_by(Case.number)).all()
        steps = s.execute(select(Case.number, CaseHistory.step, CaseHistory.at,
                                 CaseHistory.actor_name, CaseHistory.data_json)
                          .join(Case, Case.id == CaseHistory.case_id)
                          .order_by(CaseHistory.id)).all()
    return [tuple(r) for r in cases] + [tuple(r) for r in steps]


def test_same_seed_and_now_give_the_same_rows(tmp_path):
    dumps = []
    for name, seed in (("a.db", 3), ("b.db", 3), ("c.db", 4)):
        database = _open(tmp_path / name)
        build_demo(database, cases=600, seed=seed, days=30, now=NOW)
        dumps.append(_dump(database))
        database.dispose()
    assert dumps[0] == dumps[1]
    assert dumps[0] != dumps[2]


# -- refusing and rebuilding ----------------------------------------------------------------

def _real_case(database) -> int:
    """A case reported through the workflow by a real (non-demo) account."""
    ensure_reference_data(database)
    allow_caller_time(database)  # the test dates the report (a real database would refuse)
    with database.write() as s:
        user = UserAccount(username="zhang.wei", display_name="张伟", role=Role.DUTY_OFFICER.value,
                           password_hash=hash_password("secret"))
        s.add(user)
        s.flush()
        user_id = user.id
    report_case(database, user_id, source="hotline_12345", lat=23.02, lon=113.75,
                description="东城街道路灯不亮", now=NOW)
    return user_id


def test_refuses_a_database_with_real_work(tmp_path):
    database = _open(tmp_path / "real.db")
    user_id = _real_case(database)
    with pytest.raises(DemoRefused) as refused:
        build_demo(database, cases=100, now=NOW)
    assert isinstance(refused.value, CityOpsError) and refused.value.code == "demo_refused"
    assert "--force" in refused.value.message
    with database.read() as s:
        assert _count(s, Case) == 1 and _count(s, Grid) == 0 and _count(s, Staff) == 0
        assert s.get(UserAccount, user_id).active
        assert s.get(AppSetting, DEMO_SETTING) is None

    stats = build_demo(database, cases=300, now=NOW, force=True)
    with database.read() as s:
        assert _count(s, Case) == stats.cases == 300
        assert s.get(AppSetting, DEMO_SETTING) is not None
        # The audit log names the real account, so it stays, switched off.
        assert s.get(UserAccount, user_id).active is False
        assert _count(s, AuditLog, AuditLog.action == "case.report") == 1
    database.dispose()


def test_rebuilding_a_demo_needs_no_force(tmp_path):
    database = _open(tmp_path / "demo.db")
    build_demo(database, cases=300, days=30, now=NOW)
    with database.read() as s:
        duty1 = s.scalar(select(UserAccount.id).where(UserAccount.username == "duty1"))
        first_max = s.scalar(select(func.max(Case.id)))
    # Someone used the demo: the audit log now names duty1, which can never be deleted.
    report_case(database, duty1, source="walk_in", lat=23.0, lon=113.77,
                description="南城街道占道经营", now=NOW)
    stats = build_demo(database, cases=400, days=30, now=NOW, seed=2)
    with database.read() as s:
        assert _count(s, Case) == stats.cases == 400
        assert s.scalar(select(func.min(Case.id))) > first_max + 1  # ids are never reused
        user = s.scalar(select(UserAccount).where(UserAccount.username == "duty1"))
        assert user.id == duty1 and user.active
        assert verify_password(user.password_hash, DEMO_PASSWORD)
        assert _count(s, AuditLog, AuditLog.action == "demo.build") == 2
        assert json.loads(s.get(AppSetting, DEMO_SETTING).value_json)["seed"] == 2
        problems = [p for i in s.scalars(select(Case.id)) if (p := check_invariants(s, i))]
    assert problems == []
    database.dispose()


def test_real_work_on_a_demo_database_is_not_wiped(tmp_path):
    """An officer with a real account used the demo database: that is real work."""
    from db.auth.roles import Role
    from db.auth.security import hash_password

    database = _open(tmp_path / "demo.db")
    build_demo(database, cases=200, days=30, now=NOW)
    with database.write() as s:
        officer = UserAccount(username="zhang.wei", display_name="张伟", role=Role.DUTY_OFFICER.value,
                              password_hash=hash_password("x-1234567"))
        s.add(officer)
        s.flush()
        officer_id = s.get(UserAccount, officer.id).id
    allow_caller_time(database)  # no longer a demo (a real account): the test's mark dates it
    report_case(database, officer_id, source="walk_in", lat=23.0, lon=113.77,
                description="真实来访：南城街道井盖缺失", now=NOW)
    with pytest.raises(DemoRefused):
        build_demo(database, cases=100, days=30, now=NOW)
    with database.read() as s:
        assert _count(s, Case) == 201
    database.dispose()


# -- PostgreSQL -----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(SKIP_PG, reason="CITYOPS_SKIP_PG=1")
def test_build_on_postgres():
    """A small build in a scratch database on the test server (never the database named)."""
    url = make_url(PG_URL)
    name = f"cityops_demo_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        database = open_database(url.set(database=name).render_as_string(hide_password=False))
        try:
            stats = build_demo(database, cases=1000, days=20, now=NOW)
            with database.read() as s:
                assert _count(s, Case) == stats.cases == 1000
                ids = s.scalars(select(Case.id).order_by(Case.id)).all()
                sample = ids[::5]
                assert [p for i in sample if (p := check_invariants(s, i))] == []
                duty1 = s.scalar(select(UserAccount.id).where(UserAccount.username == "duty1"))
            # Sequences were moved past the ids the demo set: a new case gets a fresh id.
            new = report_case(database, duty1, source="hotline_12345", lat=23.02, lon=113.75,
                              description="测试", now=NOW)
            assert new.case_id > ids[-1]
        finally:
            database.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
