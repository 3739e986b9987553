"""One clock, the database's (db.core.dbclock): event times from the server, read after the row
lock; a caller's time refused outside demo and tests, and a case's history never backwards."""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from db.alerts import ingest
from db.alerts import lifecycle as alerts
from db.auth.roles import Role
from db.cases.workflow import State, Step
from db.core import dbclock
from db.core.dbclock import CallerTimeRefused
from db.core.engine import open_database
from db.core.errors import ValidationError
from db.demo.build import DEMO_MARK_REFUSED, DEMO_SETTING, build_demo
from db.devices import positions
from db.models import (
    Alert,
    AppSetting,
    CallerTimeAllowed,
    Case,
    CaseHistory,
    SensorReading,
    Staff,
    StaffPosition,
    UserAccount,
)
from tests.db.alerts.test_alerts import add_sensor, transfer
from tests.helpers import case_in_state, owner_database, production, report, take

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)


def history_times(env, case_id: int) -> list[dt.datetime]:
    with env.database.read() as s:
        return list(s.scalars(select(CaseHistory.at).where(CaseHistory.case_id == case_id)
                              .order_by(CaseHistory.id)))


def clock(env) -> dt.datetime:
    with env.database.read() as s:
        return dbclock.server_now(s)


# -- the database's clock -------------------------------------------------------------------

def test_without_a_time_every_event_is_dated_by_the_database(env):
    before = clock(env)
    r = case_in_state(env, State.HANDLING)  # report, accept, open, dispatch: no now= anywhere
    after = clock(env)
    times = history_times(env, r.case_id)
    assert len(times) == 4
    assert all(before <= t <= after for t in times)
    assert times == sorted(times)
    with env.database.read() as s:
        case = s.get(Case, r.case_id)
        # The deadline runs from the dispatch's server time, the history row's time.
        assert case.dispatched_at == times[-1] and case.updated_at == times[-1]


def test_postgresql_dates_a_step_after_the_row_lock_not_at_transaction_start(pg_env):
    """A step that waited for another's lock is dated after that one committed: the clock is
    read after ``lock_row`` (``now()`` would give the transaction's start, before the wait)."""
    r = case_in_state(pg_env, State.PENDING_ACCEPT)
    holder = pg_env.database.engine.connect()
    trans = holder.begin()
    holder.execute(text("SELECT id FROM \"case\" WHERE id = :id FOR UPDATE"), {"id": r.case_id})
    done: list = []
    worker = threading.Thread(target=lambda: done.append(take(pg_env, r, Step.ACCEPT)))
    worker.start()
    # Wait until the step is blocked on the row lock (its transaction has started by then).
    # Each look in its own transaction: pg_stat_activity is a snapshot within one.
    with pg_env.database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watch:
        step_started = None
        for _ in range(600):
            step_started = watch.execute(text(
                "SELECT xact_start FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND xact_start IS NOT NULL")).scalar()
            if step_started is not None:
                break
            time.sleep(0.05)
        assert step_started is not None
    released = holder.execute(text("SELECT clock_timestamp()")).scalar()
    trans.commit()
    holder.close()
    worker.join(30)
    assert done and done[0].state == State.PENDING_OPEN
    accepted_at = history_times(pg_env, r.case_id)[-1]
    # step_started < released (the step waited) <= accepted_at: dated after the wait.
    assert step_started < released <= accepted_at


# -- a caller's time: demo and tests only ------------------------------------------------------

def test_tests_may_date_events_by_hand(env):
    """The test templates carry the mark (tests/conftest.py): a caller's time is taken as is."""
    at = dt.datetime(2026, 3, 18, 2, 30, tzinfo=UTC)
    r = report(env, now=at)
    assert history_times(env, r.case_id) == [at]


def test_application_role_cannot_backdate_a_feedback_on_a_production_database(pg_env):
    """The attack of the issue: a feedback dated 30 days before its dispatch was accepted and
    counted on time. As the application role on a database not marked demo or test, a caller's
    ``now`` is refused with a declared error and nothing is written; the role cannot add the
    mark, and a demo setting alone (real accounts present) does not make a demo database."""
    r = case_in_state(pg_env, State.HANDLING)
    production(pg_env)
    back = clock(pg_env) - dt.timedelta(days=30)

    def backdated_feedback():
        take(pg_env, r, Step.FEEDBACK, now=back)

    with pytest.raises(CallerTimeRefused) as refused:
        backdated_feedback()
    assert isinstance(refused.value, ValidationError)
    assert refused.value.code == "caller_time_refused"
    with pg_env.database.read() as s:
        case = s.get(Case, r.case_id)
        assert (case.version, case.state, case.handled_at) == (r.version, State.HANDLING, None)

    # The mark is the owner's to give: the application role may only read the table.
    with pytest.raises(DBAPIError, match="permission denied"), pg_env.database.write() as s:
        s.add(CallerTimeAllowed(id=1, reason="attacker"))
    with pg_env.database.write() as s:  # not its table: PostgreSQL grants nothing (a warning)
        s.execute(text("GRANT INSERT ON caller_time_allowed TO CURRENT_USER"))
    with pytest.raises(DBAPIError, match="permission denied"), pg_env.database.write() as s:
        s.add(CallerTimeAllowed(id=1, reason="attacker"))
    with pytest.raises(DBAPIError, match="must be owner"), pg_env.database.write() as s:
        s.execute(text("ALTER TABLE caller_time_allowed OWNER TO CURRENT_USER"))
    # Claiming demo mode: the setting is the owner's too (migration 0012) …
    with pytest.raises(DBAPIError, match=DEMO_MARK_REFUSED), pg_env.database.write() as s:
        s.add(AppSetting(key=DEMO_SETTING, value_json="{}"))
    # … and even the owner's setting alone leaves it a production database: real accounts.
    with owner_database(pg_env) as owner, owner.write() as s:
        s.add(AppSetting(key=DEMO_SETTING, value_json="{}"))
    with pytest.raises(CallerTimeRefused):
        backdated_feedback()

    # Without a time, the database's clock: after the dispatch, on time.
    done = take(pg_env, r, Step.FEEDBACK)
    times = history_times(pg_env, r.case_id)
    with pg_env.database.read() as s:
        case = s.get(Case, r.case_id)
        assert done.state == State.PENDING_CHECK
        assert case.handled_at == times[-1] > times[-2] > back
        assert case.handled_on_time is True


def test_sqlite_without_the_mark_refuses_a_caller_time_too(sqlite_env):
    """SQLite has no roles (whoever holds the file holds the database), but the rule is the
    same: without the mark, a caller's time is refused."""
    r = case_in_state(sqlite_env, State.HANDLING)
    production(sqlite_env)
    with pytest.raises(CallerTimeRefused):
        take(sqlite_env, r, Step.FEEDBACK, now=clock(sqlite_env) - dt.timedelta(days=30))
    with pytest.raises(CallerTimeRefused):
        report(sqlite_env, now=clock(sqlite_env))


def test_alarms_readings_and_fixes_take_the_database_clock_on_production(env):
    sensor = add_sensor(env)
    r = case_in_state(env, State.PENDING_ACCEPT)
    with env.database.write() as s:
        staff = Staff(code="T-001", name="测试网格员", title="协管员")
        s.add(staff)
        s.flush()
        staff_id = staff.id
    production(env)
    past = clock(env) - dt.timedelta(days=30)
    alarm = transfer("T1", "major")
    with pytest.raises(CallerTimeRefused):
        alerts.raise_alert(env.database, **alarm, now=past)
    with pytest.raises(CallerTimeRefused), env.database.write() as s:
        ingest.record_readings(s, [(sensor, 0.9)], past)
    with pytest.raises(CallerTimeRefused), env.database.write() as s:
        positions.record_positions(s, [{"staff_id": staff_id, "lat": 23.02, "lon": 113.75,
                                        "at": past}])
    before = clock(env)
    aid = alerts.raise_alert(env.database, **alarm)
    with env.database.read() as s:
        version = s.get(Alert, aid).version
    with pytest.raises(CallerTimeRefused):
        alerts.acknowledge(env.database, env.users[Role.DUTY_OFFICER], aid, version, now=past)
    alerts.acknowledge(env.database, env.users[Role.DUTY_OFFICER], aid, version)
    with env.database.write() as s:
        ingest.record_readings(s, [(sensor, 0.9)])
        positions.record_positions(s, [{"staff_id": staff_id, "lat": 23.02, "lon": 113.75}])
    after = clock(env)
    with env.database.read() as s:
        alert = s.get(Alert, aid)
        reading = s.scalar(select(SensorReading.at).where(SensorReading.sensor_id == sensor))
        fix = s.scalar(select(StaffPosition.at).where(StaffPosition.staff_id == staff_id))
        assert before <= alert.first_at <= alert.acknowledged_at <= after
        assert before <= reading <= after and before <= fix <= after
        assert s.get(Case, r.case_id).version == r.version


def test_a_demo_database_takes_the_simulators_time(tmp_path):
    """A demo database (no mark needed) takes a caller's time, as the simulator's compressed
    time needs; the same database with a real account in it refuses."""
    database = open_database(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    try:
        now = dt.datetime(2026, 3, 18, 2, 30, tzinfo=UTC)
        build_demo(database, cases=5, days=1, now=now)
        aid = alerts.raise_alert(database, **transfer("D1", "minor"), now=now + HOUR)
        with database.read() as s:
            assert s.get(Alert, aid).first_at == now + HOUR
            admin = s.scalar(select(UserAccount).where(UserAccount.role == Role.ADMIN.value))
            password_hash = admin.password_hash
        with database.write() as s:
            s.add(UserAccount(username="zhang.wei", display_name="张伟", role=Role.DUTY_OFFICER.value,
                              password_hash=password_hash))
        with pytest.raises(CallerTimeRefused):
            alerts.raise_alert(database, **transfer("D2", "minor"), now=now + 2 * HOUR)
    finally:
        database.dispose()


# -- never backwards --------------------------------------------------------------------------

def test_a_case_history_never_goes_back_when_the_server_clock_does(env):
    """After a failover the new server's clock may be behind the old one's. Worked by hand:
    the case's last history time is T = (server now) + 1 h, as written by a server whose clock
    ran an hour ahead. The next step, dated by a clock reading about T - 1 h, gets
    max(T - 1 h, T) = T exactly: the same instant, never before. A case whose last time is an
    hour in the past gets the clock's own reading, later than T - 1 h."""
    ahead = clock(env) + HOUR
    r = report(env)
    r = take(env, r, Step.ACCEPT, now=ahead)  # the history as the fast server left it
    r = take(env, r, Step.OPEN)  # the database's clock now reads about ahead - 1 h
    times = history_times(env, r.case_id)
    assert times[-2:] == [ahead, ahead]
    with env.database.read() as s:
        case = s.get(Case, r.case_id)
        assert case.opened_at == ahead and case.updated_at == ahead

    behind = clock(env) - HOUR
    r2 = take(env, report(env), Step.ACCEPT, now=behind)
    before = clock(env)
    take(env, r2, Step.OPEN)
    later = history_times(env, r2.case_id)[-1]
    assert later >= before > behind  # the clock's reading: max(before.., behind) = the clock


def test_an_alert_write_keeps_the_database_clock_when_nothing_is_behind(env):
    """The floor only lifts a time that would go backwards; an alert (no ``updated_at``) takes
    the clock's reading as is."""
    aid = alerts.raise_alert(env.database, **transfer("F1", "major"))
    with env.database.read() as s:
        alert = s.get(Alert, aid)
    before = clock(env)
    row = alerts.acknowledge(env.database, env.users[Role.DUTY_OFFICER], aid, alert.version)
    assert row.acknowledged_at >= before >= alert.first_at


# -- the workstation's offset -------------------------------------------------------------------

def test_the_offset_to_the_servers_clock_is_measured_with_the_round_trip_halved_out(env):
    """Here the server and the test share one machine's clock, so the true offset is 0. The
    server read its clock between sending (s) and the answer (b): server - s lies in
    [0, b - s], so server - (s + rtt/2) lies in [-rtt/2, rtt/2]; SQLite's clock is this
    machine's, offset and round trip 0 by definition."""
    offset, round_trip = dbclock.measure_offset(env.database)
    if env.engine_name == "sqlite":
        assert (offset, round_trip) == (0.0, 0.0)
    else:
        assert round_trip > 0
        assert abs(offset) <= round_trip / 2 + 1e-6  # + the timestamps' microsecond
