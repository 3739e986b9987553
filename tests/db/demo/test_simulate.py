"""The live simulator: determinism, the closed loop on both engines, scenarios, interruption."""
from __future__ import annotations

import datetime as dt
import shutil
import threading
import uuid

import pytest
from sqlalchemy import func, select, text

from db.cases.workflow import check_invariants
from db.core.engine import open_database
from db.core.scratch import scratch_database
from db.demo.build import build_demo
from db.demo.simulate import NotADemoDatabase, SimStats, simulate
from db.demo.world import LOW_LYING_TOWNS
from db.models import (
    Alert,
    AuditLog,
    Case,
    CaseHistory,
    Sensor,
    SensorReading,
    StaffPosition,
    StaffTrack,
    Town,
)
from tests.conftest import PG_ADMIN_URL, SKIP_PG

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 18, 2, 30, tzinfo=UTC)  # a Wednesday, 10:30 in Dongguan


def fake_clock(step: float = 5.0, start: dt.datetime = NOW + dt.timedelta(hours=1)):
    """Moves ``step`` seconds per call: the run's time is the same on every machine."""
    t = [start]

    def clock() -> dt.datetime:
        t[0] += dt.timedelta(seconds=step)
        return t[0]

    return clock


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("simdemo") / "demo.sqlite3"
    database = open_database(f"sqlite:///{path}")
    build_demo(database, cases=300, days=10, now=NOW)
    with database.engine.connect() as conn:  # fold the WAL in so a file copy is whole
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


@pytest.fixture
def demo_copy(demo_file, tmp_path):
    """A fresh copy of the same starting demo database for each use."""
    opened = []

    def make():
        target = tmp_path / f"sim-{uuid.uuid4().hex[:8]}.sqlite3"
        shutil.copy(demo_file, target)
        database = open_database(f"sqlite:///{target}")
        opened.append(database)
        return database

    yield make
    for database in opened:
        database.dispose()


def _broken_cases(database) -> list:
    with database.read() as s:
        ids = s.scalars(select(Case.id).order_by(Case.id)).all()
        return [(i, p) for i in ids if (p := check_invariants(s, i))]


def _dump(database) -> dict:
    with database.read() as s:
        return {
            "cases": s.execute(select(
                Case.id, Case.number, Case.state, Case.version, Case.class_id, Case.town_id,
                Case.lat, Case.lon, Case.urgency, Case.source, Case.assignee_department_id,
                Case.deadline_at, Case.description, Case.updated_at).order_by(Case.id)).all(),
            "history": s.execute(select(
                CaseHistory.id, CaseHistory.case_id, CaseHistory.step, CaseHistory.to_state,
                CaseHistory.actor_id, CaseHistory.at, CaseHistory.opinion,
                CaseHistory.data_json).order_by(CaseHistory.id)).all(),
            "alerts": s.execute(select(
                Alert.id, Alert.dedup_key, Alert.severity, Alert.repeat_count, Alert.value,
                Alert.lat, Alert.lon, Alert.last_at).order_by(Alert.id)).all(),
            "positions": s.execute(select(StaffPosition.staff_id, StaffPosition.lat,
                                          StaffPosition.lon, StaffPosition.at)
                                   .order_by(StaffPosition.staff_id)).all(),
            "readings": s.execute(select(func.count(), func.sum(SensorReading.value))).one(),
            "tracks": s.scalar(select(func.count()).select_from(StaffTrack)),
        }


# -- determinism ------------------------------------------------------------------------------

def test_same_seed_same_database_same_clock_same_rows(demo_copy):
    runs = []
    for _ in range(2):
        database = demo_copy()
        stats = simulate(database, seed=5, rate=3, duration=120, clock=fake_clock())
        runs.append((stats, _dump(database)))
    (a, dump_a), (b, dump_b) = runs
    assert a.cases_reported > 0 and a.steps > 0 and a.positions > 0 and a.readings > 0
    assert (a.events, a.cases_reported, a.steps, a.positions, a.readings, a.alerts) == \
        (b.events, b.cases_reported, b.steps, b.positions, b.readings, b.alerts)
    assert dump_a == dump_b
    other = demo_copy()
    simulate(other, seed=6, rate=3, duration=120, clock=fake_clock())
    assert _dump(other)["cases"] != dump_a["cases"]


# -- the closed loop on both engines ------------------------------------------------------------

def test_short_run_keeps_every_case_valid_on_sqlite(demo_copy):
    database = demo_copy()
    stats = simulate(database, seed=2, rate=5, duration=150, clock=fake_clock())
    assert isinstance(stats, SimStats)
    assert stats.cases_reported > 10 and stats.steps > 50
    assert stats.events == (stats.cases_reported + stats.steps + stats.positions
                            + stats.readings + stats.alerts)
    assert _broken_cases(database) == []
    with database.read() as s:  # the run went beyond the first steps of the loop
        states = set(s.scalars(select(CaseHistory.step).where(CaseHistory.at > NOW)))
    assert {"report", "accept", "open", "dispatch", "feedback", "verify", "close"} <= states


@pytest.fixture(scope="module")
def pg_demo():
    """A small demo in a scratch database on the test server (never the database named)."""
    if SKIP_PG:
        pytest.skip("CITYOPS_SKIP_PG=1")
    with scratch_database(PG_ADMIN_URL) as database:
        build_demo(database, cases=300, days=10, now=NOW)
        yield database


@pytest.mark.postgres
def test_short_run_keeps_every_case_valid_on_postgres(pg_demo):
    stats = simulate(pg_demo, seed=2, rate=5, duration=120, clock=fake_clock())
    assert stats.cases_reported > 5 and stats.steps > 30 and stats.readings > 0
    assert _broken_cases(pg_demo) == []


@pytest.mark.postgres
def test_two_simulators_share_one_postgres_database(pg_demo):
    """Same seed and clock: both go for the same cases and the same alarms at once. The loser
    of each step counts a conflict; an alert is opened once and bumped by the other."""
    results: list = []

    def run():
        results.append(simulate(pg_demo, scenario="gas-leak", seed=9, rate=20, duration=30,
                                clock=fake_clock(2, NOW + dt.timedelta(hours=3))))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2, "a simulator died"
    assert sum(r.conflicts for r in results) > 0
    assert _broken_cases(pg_demo) == []
    with pg_demo.read() as s:
        dupes = s.execute(select(Alert.dedup_key).where(Alert.state != "cleared")
                          .group_by(Alert.dedup_key).having(func.count() > 1)).all()
    assert dupes == []


def test_refuses_a_database_without_demo_data(sqlite_env):
    with pytest.raises(NotADemoDatabase):
        simulate(sqlite_env.database, duration=10, clock=fake_clock())


# -- scenarios and alerts -----------------------------------------------------------------------

def _sensor_alerts(database, after: int = 0):
    """Sensor alerts with ids above ``after`` (the demo's own, seeded ones have lower ids)."""
    with database.read() as s:
        return s.execute(
            select(Alert.type, Alert.severity, Alert.dedup_key, Alert.repeat_count, Alert.value,
                   Town.name, Alert.sensor_id)
            .join(Town, Town.id == Alert.town_id)
            .where(Alert.source == "sensor", Alert.id > after)
            .order_by(Alert.id)).all()


def _last_alert_id(database) -> int:
    with database.read() as s:
        return s.scalar(select(func.coalesce(func.max(Alert.id), 0)))


def test_typhoon_raises_water_alerts_in_low_lying_towns(demo_copy):
    database = demo_copy()
    seeded = _last_alert_id(database)
    simulate(database, scenario="typhoon", seed=1, rate=10, duration=70, clock=fake_clock(2))
    alerts = _sensor_alerts(database, seeded)
    assert alerts, "no water-level alert at all"
    assert {a.type for a in alerts} == {"water_level"}  # and no gas alarm
    assert {a.name for a in alerts} <= set(LOW_LYING_TOWNS)
    assert {"major", "critical"} <= {a.severity for a in alerts}
    assert all(a.dedup_key == f"sensor:{a.sensor_id}:water_level" for a in alerts)


def test_gas_leak_climbs_past_both_thresholds_in_one_town(demo_copy):
    database = demo_copy()
    seeded = _last_alert_id(database)
    simulate(database, scenario="gas-leak", seed=1, rate=10, duration=90, clock=fake_clock(2))
    alerts = _sensor_alerts(database, seeded)
    assert {a.type for a in alerts} == {"gas"}  # and no water alarm
    assert len({a.name for a in alerts}) == 1  # one area leaks
    assert len(alerts) >= 2  # on several sensors
    assert {a.severity for a in alerts} == {"critical"}  # past 35 %LEL by the end
    with database.read() as s:
        values = s.scalars(select(SensorReading.value).join(Sensor)
                           .where(Sensor.kind == "gas", SensorReading.at > NOW)).all()
        escalations = s.scalars(select(AuditLog.detail_json)
                                .where(AuditLog.action == "alert.severity")).all()
    assert any(20 <= v < 35 for v in values) and any(v >= 35 for v in values)
    assert any('"from": "major", "to": "critical"' in d for d in escalations)


def test_a_repeating_alarm_bumps_repeat_count_instead_of_adding_rows(demo_copy):
    database = demo_copy()
    simulate(database, scenario="gas-leak", seed=1, rate=10, duration=90, clock=fake_clock(2))
    alerts = _sensor_alerts(database)
    keys = [a.dedup_key for a in alerts]
    assert len(keys) == len(set(keys))  # one row per alarm source
    assert max(a.repeat_count for a in alerts) > 5
    with database.read() as s:  # a cleared alert lets the next alarm open a new row
        s.execute(text("UPDATE alert SET state = 'cleared'"))
        s.commit()
    before = len(alerts)
    simulate(database, scenario="gas-leak", seed=1, rate=10, duration=30,
             clock=fake_clock(2, NOW + dt.timedelta(hours=2)))
    assert len(_sensor_alerts(database)) > before


# -- stopping at any moment ---------------------------------------------------------------------

def test_keyboard_interrupt_from_on_event_leaves_every_case_valid(demo_copy):
    database = demo_copy()
    seen = []

    def on_event(kind, count):
        seen.append(kind)
        if len(seen) >= 40:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate(database, seed=4, rate=5, clock=fake_clock(), on_event=on_event)
    assert "steps" in seen
    assert _broken_cases(database) == []


def test_stop_from_another_thread_ends_a_real_time_run(demo_copy):
    database = demo_copy()
    stop = threading.Event()
    threading.Timer(2.5, stop.set).start()
    stats = simulate(database, seed=4, rate=20, stop=stop)  # the real clock, paced
    assert stop.is_set() and 1 <= stats.ticks <= 5
    assert stats.positions > 0
    assert _broken_cases(database) == []
