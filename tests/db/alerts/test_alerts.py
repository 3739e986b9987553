"""Alerts on both engines: order, acknowledge/clear, conflicts, roles, de-duplication, flapping
damping, turning into a case and linking, the change feed across processes, sensor series."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from db.alerts import lifecycle as alerts
from db.alerts.lifecycle import raise_alert
from db.auth.roles import Role
from db.cases import workflow as wf
from db.core import feed
from db.core.engine import open_database
from db.core.entities import Entity
from db.core.errors import (
    ConflictError,
    InvalidTransition,
    NotFound,
    OutsideCity,
    PermissionDenied,
    ValidationError,
)
from db.core.feed import ChangeFollower
from db.models import Alert, AuditLog, Camera, Case, CaseClass, Grid, Sensor, SensorReading
from tests.helpers import CENTRE, allow_caller_time, report

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 18, 2, 30, tzinfo=UTC)  # 10:30 in Dongguan
MIN = dt.timedelta(minutes=1)
WATER = {"blue": 0.15, "yellow": 0.3, "orange": 0.5, "red": 0.8}


def add_sensor(env, kind: str = "water_level", code: str = "WL-1") -> int:
    with env.database.write() as s:
        sensor = Sensor(code=code, name=f"{code}水位计" if kind == "water_level" else f"{code}燃气探头",
                        kind=kind, unit="m" if kind == "water_level" else "%LEL",
                        lat=CENTRE[0], lon=CENTRE[1], town_id=1,
                        thresholds_json=json.dumps(WATER if kind == "water_level"
                                                   else {"alarm": 20, "cutoff": 35}))
        s.add(sensor)
        s.flush()
        return sensor.id


def add_camera(env) -> int:
    with env.database.write() as s:
        camera = Camera(code="CAM-1", name="东城大道摄像头", lat=CENTRE[0], lon=CENTRE[1], town_id=1,
                        stream_url="rtsp://127.0.0.1/1", analytics=True)
        s.add(camera)
        s.flush()
        return camera.id


def water(sensor_id: int, severity: str = "critical", value: float = 0.9, **kw) -> dict:
    alarm = {"source": "sensor", "type": "water_level", "severity": severity,
             "title": f"水位{severity}预警", "detail": f"读数 {value} m", "lat": CENTRE[0],
             "lon": CENTRE[1], "sensor_id": sensor_id, "value": value}
    alarm.update(kw)
    return alarm


def transfer(number: str, severity: str = "major", **kw) -> dict:
    alarm = {"source": "110", "type": "transfer", "severity": severity,
             "dedup_key": f"110:{number}", "title": f"110转办：交通事故占道 {number}",
             "detail": "两车碰撞后停在车道上", "lat": CENTRE[0], "lon": CENTRE[1]}
    alarm.update(kw)
    return alarm


def row(env, alert_id: int) -> alerts.AlertRow:
    with env.database.read() as s:
        return alerts.alert_rows(s, [alert_id])[0]


def audit_actions(env, alert_id: int) -> list[str]:
    with env.database.read() as s:
        return list(s.scalars(select(AuditLog.action).where(
            AuditLog.entity == "alert", AuditLog.entity_id == alert_id).order_by(AuditLog.id)))


def user(env, role: Role = Role.DUTY_OFFICER) -> int:
    return env.users[role]


# -- the list --------------------------------------------------------------------------------

def test_active_alerts_most_severe_first_then_newest(env):
    ids = {}
    for n, (name, severity, minutes) in enumerate([
            ("old-minor", "minor", 0), ("new-major", "major", 5), ("old-critical", "critical", 1),
            ("new-critical", "critical", 9), ("warning", "warning", 20),
            ("mid-major", "major", 3)]):
        ids[name] = raise_alert(env.database, **transfer(f"A{n}", severity),
                                now=NOW + minutes * MIN)
    gone = raise_alert(env.database, **transfer("GONE", "critical"), now=NOW + 30 * MIN)
    alerts.clear(env.database, user(env), gone, 1, note="重复转办", now=NOW + 31 * MIN)
    with env.database.read() as s:
        listed = alerts.active_alerts(s)
        assert [a.id for a in alerts.active_alerts(s, limit=2)] == \
            [ids["new-critical"], ids["old-critical"]]
    assert [a.id for a in listed] == [ids[k] for k in (
        "new-critical", "old-critical", "new-major", "mid-major", "old-minor", "warning")]
    assert all(isinstance(a, alerts.AlertRow) and a.state == "active" for a in listed)
    assert listed[0].first_at == listed[0].last_at == NOW + 9 * MIN


# -- acknowledge and clear -------------------------------------------------------------------

def test_acknowledge_records_who_and_when_once(env):
    aid = raise_alert(env.database, **transfer("K1", "critical"), now=NOW)
    follower = ChangeFollower(env.database)
    try:
        acked = alerts.acknowledge(env.database, user(env), aid, 1, now=NOW + MIN)
        assert (acked.state, acked.acknowledged_by, acked.acknowledged_at, acked.version) == \
            ("acknowledged", "测试值班员", NOW + MIN, 2)
        assert [(c.entity, c.entity_id) for c in follower.fetch()] == [("alert", aid)]
        # Again with the version that shows it acknowledged: nothing to do, nothing written.
        again = alerts.acknowledge(env.database, user(env, Role.SHIFT_LEADER), aid, 2,
                                   now=NOW + 2 * MIN)
        assert again == acked
        assert follower.fetch() == []
    finally:
        follower.close()
    assert audit_actions(env, aid) == ["alert.raise", "alert.acknowledge"]
    # ... but from a stale look it is a conflict naming who acknowledged it and when.
    with pytest.raises(ConflictError) as err:
        alerts.acknowledge(env.database, user(env, Role.DISPATCHER), aid, 1)
    assert "测试值班员" in err.value.message and "10:31:00" in err.value.message
    assert err.value.current_version == 2 and err.value.entity == Entity.ALERT


def test_clear_keeps_the_row_with_who_when_and_note(env):
    aid = raise_alert(env.database, **transfer("C1"), now=NOW)
    acked = alerts.acknowledge(env.database, user(env), aid, 1, now=NOW + MIN)
    cleared = alerts.clear(env.database, user(env, Role.SHIFT_LEADER), aid, acked.version,
                           note="  现场已处置  ", now=NOW + 2 * MIN)
    assert (cleared.state, cleared.cleared_by, cleared.cleared_at, cleared.clear_note) == \
        ("cleared", "测试值班长", NOW + 2 * MIN, "现场已处置")
    assert cleared.acknowledged_by == "测试值班员"  # the history stays on the row
    with env.database.read() as s:
        assert aid not in [a.id for a in alerts.active_alerts(s)]
        assert s.scalar(select(func.count()).select_from(Alert)) == 1
    assert alerts.clear(env.database, user(env), aid, cleared.version) == cleared  # no-op
    assert audit_actions(env, aid) == ["alert.raise", "alert.acknowledge", "alert.clear"]
    with pytest.raises(InvalidTransition):
        alerts.acknowledge(env.database, user(env), aid, cleared.version)


def test_a_stale_version_is_a_conflict_and_changes_nothing(env):
    aid = raise_alert(env.database, **transfer("S1"), now=NOW)
    alerts.acknowledge(env.database, user(env, Role.LEADER), aid, 1, now=NOW + MIN)
    for act in (lambda: alerts.clear(env.database, user(env), aid, 1, note="x"),
                lambda: alerts.link_case(env.database, user(env), aid, 1, report(env).case_id)):
        with pytest.raises(ConflictError) as err:
            act()
        assert err.value.changed_by == "测试领导" and err.value.changed_at == NOW + MIN
        assert "告警已被 测试领导 于 10:31:00 修改" in err.value.message
    after = row(env, aid)
    assert (after.state, after.version, after.case_id) == ("acknowledged", 2, None)
    with pytest.raises(ValidationError):
        alerts.acknowledge(env.database, user(env), aid, 7)  # a version from the future


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.FIELD_OFFICER, Role.DEPARTMENT_HANDLER])
def test_field_roles_may_not_act_on_alerts(env, role):
    aid = raise_alert(env.database, **transfer("R1"), now=NOW)
    case_id = report(env).case_id
    for act in (lambda: alerts.acknowledge(env.database, user(env, role), aid, 1),
                lambda: alerts.clear(env.database, user(env, role), aid, 1),
                lambda: alerts.link_case(env.database, user(env, role), aid, 1, case_id),
                lambda: alerts.to_case(env.database, user(env, role), aid, 1)):
        with pytest.raises(PermissionDenied):
            act()
    assert row(env, aid).version == 1 and audit_actions(env, aid) == ["alert.raise"]


def test_desk_roles_and_admin_may_acknowledge(env):
    for n, role in enumerate([Role.DUTY_OFFICER, Role.DISPATCHER, Role.SHIFT_LEADER,
                              Role.LEADER, Role.ADMIN]):
        aid = raise_alert(env.database, **transfer(f"D{n}"), now=NOW)
        assert alerts.acknowledge(env.database, user(env, role), aid, 1).acknowledged_by == \
            f"测试{role.label}"


# -- de-duplication and flapping -------------------------------------------------------------

def test_a_repeating_alarm_raises_the_counter_on_one_row(env):
    sid = add_sensor(env)
    first = raise_alert(env.database, **water(sid, "major", 0.6), now=NOW)
    seen = row(env, first)
    ids = [raise_alert(env.database, **water(sid, "major", 0.6 + i / 100), now=NOW + i * MIN)
           for i in range(1, 4)]
    assert ids == [first] * 3
    r = row(env, first)
    assert (r.repeat_count, r.value, r.first_at, r.last_at, r.detail) == \
        (4, 0.63, NOW, NOW + 3 * MIN, "读数 0.63 m")
    assert r.version == seen.version == 1  # a plain repeat is not a change to judge ...
    assert alerts.acknowledge(env.database, user(env), first, seen.version).state == "acknowledged"
    with env.database.read() as s:  # ... and needs no audit row of its own
        assert s.scalar(select(func.count()).select_from(Alert)) == 1
    assert audit_actions(env, first) == ["alert.raise", "alert.acknowledge"]
    # Another source or type is another alert.
    other = add_sensor(env, "gas", "GS-1")
    gas = raise_alert(env.database, source="sensor", type="gas", severity="major", title="燃气报警",
                      sensor_id=other, lat=CENTRE[0], lon=CENTRE[1], value=22.0, now=NOW)
    assert gas != first and row(env, gas).town_name == "东城街道"  # the sensor's town


def test_two_writers_raising_the_same_new_alarm_make_one_row_and_lose_no_count(env):
    sid = add_sensor(env)
    errors: list[BaseException] = []

    def burst():
        try:
            for _ in range(10):
                raise_alert(env.database, **water(sid, "minor", 0.35))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=burst) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with env.database.read() as s:
        rows = s.execute(select(Alert.id, Alert.repeat_count)).all()
    assert len(rows) == 1 and rows[0].repeat_count == 30


def test_severity_holds_at_the_peak_while_the_value_shows_the_latest(env):
    sid = add_sensor(env)
    aid = raise_alert(env.database, **water(sid, "minor", 0.35), now=NOW)
    for i, (severity, value) in enumerate([("critical", 0.85), ("major", 0.6), ("critical", 0.81),
                                           ("minor", 0.4)], start=1):
        assert raise_alert(env.database, **water(sid, severity, value), now=NOW + i * MIN) == aid
    r = row(env, aid)
    assert (r.severity, r.title, r.value, r.repeat_count) == ("critical", "水位critical预警", 0.4, 5)
    assert audit_actions(env, aid) == ["alert.raise", "alert.severity"]  # one escalation only
    assert r.version == 2


def test_an_escalation_rearms_an_acknowledged_alert(env):
    sid = add_sensor(env)
    aid = raise_alert(env.database, **water(sid, "major", 0.6), now=NOW)
    alerts.acknowledge(env.database, user(env), aid, 1, now=NOW + MIN)
    raise_alert(env.database, **water(sid, "critical", 0.9), now=NOW + 2 * MIN)
    r = row(env, aid)
    assert (r.state, r.severity, r.acknowledged_by, r.version) == ("active", "critical", None, 3)
    with pytest.raises(ConflictError) as err:  # the officer saw the lesser alarm
        alerts.clear(env.database, user(env), aid, 2)
    assert err.value.changed_by == "告警源"
    with env.database.read() as s:
        detail = json.loads(s.scalars(select(AuditLog.detail_json).where(
            AuditLog.action == "alert.severity")).one())
    assert detail == {"from": "major", "to": "critical", "value": 0.9, "rearmed": True}


def test_a_realarm_within_the_window_reopens_after_it_a_new_row(env):
    sid = add_sensor(env)
    aid = raise_alert(env.database, **water(sid, "critical", 0.9), now=NOW)
    cleared = alerts.clear(env.database, user(env), aid, 1, note="已排水", now=NOW + MIN)
    # Within DAMPING_WINDOW: the same row, active again, counted.
    again = raise_alert(env.database, **water(sid, "minor", 0.32),
                        now=NOW + MIN + alerts.DAMPING_WINDOW - dt.timedelta(seconds=1))
    assert again == aid
    r = row(env, aid)
    assert (r.state, r.severity, r.repeat_count, r.reopen_count, r.version) == \
        ("active", "minor", 2, 1, cleared.version + 1)
    assert (r.cleared_by, r.cleared_at, r.clear_note, r.acknowledged_by) == (None, None, None, None)
    with env.database.read() as s:
        reopen = json.loads(s.scalars(select(AuditLog.detail_json).where(
            AuditLog.action == "alert.reopen")).one())
    assert reopen["note"] == "已排水" and reopen["cleared_by_id"] == user(env)
    # Cleared again; the next alarm comes after the window: a new row, the old one stays.
    cleared = alerts.clear(env.database, user(env), aid, r.version, now=NOW + 20 * MIN)
    later = raise_alert(env.database, **water(sid, "major", 0.6),
                        now=NOW + 20 * MIN + alerts.DAMPING_WINDOW + dt.timedelta(seconds=1))
    assert later != aid
    assert row(env, aid).state == "cleared" and row(env, later).repeat_count == 1
    with env.database.read() as s:
        assert [a.id for a in alerts.active_alerts(s)] == [later]


# -- turning into a case, linking ------------------------------------------------------------

def test_to_case_carries_the_alert_and_links_both_ways(env):
    sid = add_sensor(env)
    aid = raise_alert(env.database, **water(sid, "critical", 0.9), now=NOW)
    raise_alert(env.database, **water(sid, "critical", 0.95), now=NOW + MIN)
    with env.database.read() as s:
        draft = alerts.case_draft(s, aid)
        flood = s.scalar(select(CaseClass.id).where(CaseClass.minor_name == "道路积水/内涝"))
    assert (draft.source, draft.class_id, draft.class_name, draft.urgency) == \
        (wf.Source.SENSOR, flood, "道路积水/内涝", wf.Urgency.EMERGENCY)
    assert (draft.lat, draft.lon, draft.external_ref) == (*CENTRE, f"alert:{aid}")
    assert draft.address == "东城街道 WL-1水位计" and "最新读数 0.95 m" in draft.description
    assert "共 2 次" in draft.description
    follower = ChangeFollower(env.database)
    try:
        result, linked = alerts.to_case(env.database, user(env), aid, 1,
                                        description="东城大道积水约30厘米，车辆无法通行",
                                        now=NOW + 2 * MIN)
        changes = {(c.entity, c.entity_id) for c in follower.fetch()}
    finally:
        follower.close()
    assert changes == {("case", result.case_id), ("alert", aid)}
    assert (linked.case_id, linked.case_no, linked.state, linked.acknowledged_by) == \
        (result.case_id, result.number, "acknowledged", "测试值班员")
    with env.database.read() as s:
        case = s.get(Case, result.case_id)
        assert (case.source, case.class_id, case.lat, case.lon, case.urgency, case.external_ref,
                case.state, case.description, case.title) == \
            ("sensor", flood, *CENTRE, "emergency", f"alert:{aid}", "pending_accept",
             "东城大道积水约30厘米，车辆无法通行", "水位critical预警")
        assert [a.id for a in alerts.alerts_for_case(s, result.case_id)] == [aid]
        assert wf.check_invariants(s, result.case_id) == []
        assert s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "case.report", AuditLog.entity_id == result.case_id)) == 1
    assert audit_actions(env, aid)[-1] == "alert.to_case"
    with pytest.raises(ValidationError):  # once only: a second case would split the history
        alerts.to_case(env.database, user(env), aid, linked.version)


def test_to_case_is_one_transaction(env, monkeypatch):
    aid = raise_alert(env.database, **transfer("T1", lat=40.0, lon=116.4), now=NOW)  # Beijing
    with pytest.raises(OutsideCity):
        alerts.to_case(env.database, user(env), aid, 1, class_id=None)
    # A failure after the case row was written takes the case with it.
    real_publish = feed.publish

    def failing(session, entity, ids, op="update"):
        if entity == "alert":
            raise RuntimeError("disk full")
        return real_publish(session, entity, ids, op)

    inside = raise_alert(env.database, **transfer("T2"), now=NOW)
    monkeypatch.setattr(feed, "publish", failing)
    with pytest.raises(RuntimeError):
        alerts.to_case(env.database, user(env), inside, 1)
    monkeypatch.setattr(feed, "publish", real_publish)
    with pytest.raises(ValidationError):  # the officer's text follows the workflow's rules
        alerts.to_case(env.database, user(env), inside, 1, description="积水\u202e反转")
    with pytest.raises(PermissionDenied):  # an administrator acknowledges but reports no case
        alerts.to_case(env.database, user(env, Role.ADMIN), inside, 1)
    with env.database.read() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
    for alert_id in (aid, inside):
        r = row(env, alert_id)
        assert (r.state, r.version, r.case_id) == ("active", 1, None)
        assert audit_actions(env, alert_id) == ["alert.raise"]


def test_case_drafts_per_source(env):
    lat, lon = CENTRE
    square = [[lon - 0.01, lat - 0.01], [lon + 0.01, lat - 0.01], [lon + 0.01, lat + 0.01],
              [lon - 0.01, lat + 0.01], [lon - 0.01, lat - 0.01]]
    with env.database.write() as s:  # a grid of 南城街道 around the centre: transfers land there
        s.add(Grid(code="G-T", name="测试网格", town_id=2, center_lat=lat, center_lon=lon,
                   polygon_geojson=json.dumps({"type": "Polygon", "coordinates": [square]})))
    cam = add_camera(env)
    video = raise_alert(env.database, source="camera", type="video:garbage", severity="minor",
                        title="东城大道摄像头视频识别：暴露垃圾", camera_id=cam, lat=CENTRE[0],
                        lon=CENTRE[1])
    gas = raise_alert(env.database, **transfer("G1", "critical", source="119",
                                               dedup_key="119:G1", title="119转办：燃气泄漏"))
    odd = raise_alert(env.database, **transfer("O1", "minor", title="110转办：走失老人",
                                               detail="家属报称老人走失"))
    with env.database.read() as s:
        v, g, o = (alerts.case_draft(s, i) for i in (video, gas, odd))
        with pytest.raises(NotFound):
            alerts.case_draft(s, 999_999)
    assert (v.source, v.class_name, v.urgency, v.address) == \
        (wf.Source.VIDEO, "暴露垃圾", wf.Urgency.NORMAL, "东城街道 东城大道摄像头")
    assert (g.source, g.class_name, g.urgency) == \
        (wf.Source.TRANSFER_119, "燃气泄漏", wf.Urgency.EMERGENCY)
    assert (o.source, o.class_id, o.urgency) == (wf.Source.TRANSFER_110, None, wf.Urgency.NORMAL)
    assert o.address == "南城街道"  # located from the position (the camera: its own town)


def test_link_case_by_number_or_id(env):
    first = report(env)
    aid = raise_alert(env.database, **transfer("L1"), now=NOW)
    linked = alerts.link_case(env.database, user(env, Role.DISPATCHER), aid, 1,
                              f" {first.number} ", now=NOW + MIN)
    assert (linked.case_id, linked.case_no, linked.state, linked.acknowledged_by) == \
        (first.case_id, first.number, "acknowledged", "测试派遣员")
    with pytest.raises(NotFound):
        alerts.link_case(env.database, user(env), aid, linked.version, "20260101" + "9" * 8)
    second = report(env)
    moved = alerts.link_case(env.database, user(env), aid, linked.version, second.case_id)
    assert moved.case_id == second.case_id and moved.acknowledged_by == "测试派遣员"
    with env.database.read() as s:
        assert alerts.alerts_for_case(s, first.case_id) == []
        assert [a.id for a in alerts.alerts_for_case(s, second.case_id)] == [aid]
        detail = json.loads(s.scalars(select(AuditLog.detail_json).where(
            AuditLog.action == "alert.link_case").order_by(AuditLog.id.desc()).limit(1)).one())
    assert detail["previous_case_id"] == first.case_id and detail["case_no"] == second.number


# -- across workstations ---------------------------------------------------------------------

def _wait_for(follower, predicate, timeout=15.0):
    got = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got += follower.wait(0.5)
        if predicate(got):
            break
    return got


def test_an_alert_from_another_process_is_seen_acknowledged_here_and_there(env):
    here = ChangeFollower(env.database)
    second = open_database(env.database.url, migrate=False)  # a second workstation
    there = ChangeFollower(second)
    try:
        code = ("from db.core.engine import open_database; from db.alerts.lifecycle import raise_alert\n"
                f"d = open_database({env.database.url!r}, migrate=False)\n"
                "print(raise_alert(d, source='119', type='transfer', severity='critical',"
                " dedup_key='119:P1', title='119转办：广告牌松动', lat=23.02, lon=113.75))\n"
                "d.dispose()")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120, check=True).stdout
        aid = int(out.split()[-1])
        got = _wait_for(here, lambda g: any(c.entity == "alert" for c in g))
        assert [(c.entity, c.entity_id, c.op) for c in got] == [("alert", aid, "insert")]
        with env.database.read() as s:
            seen = [a for a in alerts.active_alerts(s) if a.id == aid][0]
        assert (seen.severity, seen.state) == ("critical", "active")
        alerts.acknowledge(env.database, user(env), aid, seen.version)
        changed = _wait_for(there, lambda g: any(c.entity == "alert" and c.op == "update"
                                                 for c in g))
        ids = [c.entity_id for c in changed if c.entity == "alert"]
        assert ids[-1] == aid
        with second.read() as s:
            shown = alerts.alert_rows(s, ids)[-1]
        assert (shown.state, shown.acknowledged_by) == ("acknowledged", "测试值班员")
    finally:
        here.close()
        there.close()
        second.dispose()


# -- sensor series ---------------------------------------------------------------------------

def test_sensor_series_returns_exactly_the_readings_in_the_window_in_order(env):
    sid, other = add_sensor(env), add_sensor(env, code="WL-2")
    start = NOW - dt.timedelta(hours=24)
    written = [(start + dt.timedelta(seconds=10 * i, microseconds=(i * 7919) % 1_000_000),
                round(0.1 + (i % 500) / 1000, 3)) for i in range(8640)]
    shuffled = written[1::2] + written[::2]  # stored out of order: the order comes from the query
    with env.database.write() as s:
        s.execute(SensorReading.__table__.insert(), [
            {"sensor_id": sid, "at": at, "value": v} for at, v in shuffled] + [
            {"sensor_id": other, "at": at, "value": 9.9} for at, _ in written[:50]] + [
            {"sensor_id": sid, "at": start - dt.timedelta(seconds=1), "value": 8.8}])
    with env.database.read() as s:
        times, values = alerts.sensor_series(s, sid, start)
        part = alerts.sensor_series(s, sid, written[100][0], written[199][0])
        empty = alerts.sensor_series(s, sid, NOW + MIN)
        with pytest.raises(ValidationError):
            alerts.sensor_series(s, sid, dt.datetime(2026, 3, 18))  # naive: which zone?
    assert times.typecode == values.typecode == "d"
    assert list(values) == [v for _, v in written]
    assert list(times) == pytest.approx([at.timestamp() for at, _ in written], abs=2e-6)
    assert list(times) == sorted(times)
    assert list(part[1]) == [v for _, v in written[100:200]]  # both ends included
    assert (len(empty[0]), len(empty[1])) == (0, 0)


def test_sensor_info(env):
    sid = add_sensor(env, "gas", "GS-9")
    with env.database.write() as s:
        s.get(Sensor, sid).last_value = 21.5
        s.get(Sensor, sid).last_at = NOW
    with env.database.read() as s:
        info = alerts.sensor_info(s, sid)
        with pytest.raises(NotFound):
            alerts.sensor_info(s, 999_999)
    assert (info.code, info.kind, info.unit, info.thresholds, info.town_name, info.last_value,
            info.last_at) == ("GS-9", "gas", "%LEL", {"alarm": 20.0, "cutoff": 35.0}, "东城街道",
                              21.5, NOW)


# -- what sources send, what officers type ---------------------------------------------------

def test_hostile_text_from_a_source_is_stored_safely_and_officers_text_is_checked(env):
    title = "<script>alert('x')</script>\u202e警报\x00" + "长" * 200
    aid = raise_alert(env.database, source="110", type="transfer", severity="major",
                      dedup_key="110:H1", title=title, detail="<b>粗体</b>\x07 & \ud800",
                      lat=CENTRE[0], lon=CENTRE[1])
    r = row(env, aid)
    assert r.title.startswith("<script>alert('x')</script>\ufffd警报\ufffd长")
    assert len(r.title) == alerts.MAX_TITLE
    assert r.detail == "<b>粗体</b>\ufffd & \ufffd"
    with pytest.raises(ValidationError):
        alerts.clear(env.database, user(env), aid, 1, note="处置\x00完毕")
    with pytest.raises(ValidationError):
        alerts.clear(env.database, user(env), aid, 1, note="长" * (alerts.MAX_NOTE + 1))
    with pytest.raises(ValidationError):
        alerts.link_case(env.database, user(env), aid, 1, "2026\u202e0101")
    cleared = alerts.clear(env.database, user(env), aid, 1, note="<i>已处置</i>")
    assert cleared.clear_note == "<i>已处置</i>"


def test_a_malformed_alarm_is_refused(env):
    for bad in ({"severity": "disaster"}, {"source": "email"}, {"type": " "},
                {"lat": None}, {"colour": "red"}):
        with pytest.raises(ValidationError):
            raise_alert(env.database, **{**transfer("M1"), **bad})
    with env.database.read() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 0


# -- the simulator's 110/119 transfers -------------------------------------------------------

def test_the_simulator_hands_over_110_and_119_incidents_that_become_cases(tmp_path, monkeypatch):
    from db.demo import simulate as sim
    from db.demo.accounts import DEMO_ACCOUNTS
    from db.demo.build import build_demo
    from db.models import UserAccount

    database = open_database(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    # Many incidents in a short run (at the real rate of one in ten minutes a test would need
    # hours of simulated traffic).
    monkeypatch.setattr(sim, "TRANSFERS_PER_SECOND", 0.2)
    try:
        build_demo(database, cases=50, days=2, now=NOW)
        t = [NOW + dt.timedelta(hours=1)]

        def clock():
            t[0] += dt.timedelta(seconds=2)
            return t[0]

        stats = sim.simulate(database, seed=3, rate=1, duration=60, clock=clock)
        with database.read() as s:
            transfers = s.scalars(select(Alert).where(Alert.type == "transfer")
                                  .order_by(Alert.id)).all()
            officer = s.scalar(select(UserAccount.id).where(
                UserAccount.username.in_(list(DEMO_ACCOUNTS)),
                UserAccount.role == Role.DUTY_OFFICER.value).order_by(UserAccount.id).limit(1))
        assert stats.alerts >= len(transfers) >= 3
        assert {a.source for a in transfers} == {"110", "119"}
        assert all(a.dedup_key.startswith(f"{a.source}:{a.source}2026")  # per incident number
                   and f"接警单号 {a.dedup_key.split(':')[1]}。" in a.detail
                   and a.severity in ("major", "critical") and a.town_id is not None
                   for a in transfers)
        assert any(a.repeat_count > 1 for a in transfers)  # a follow-up call, counted
        first = transfers[0]
        result, linked = alerts.to_case(database, officer, first.id, first.version)
        with database.read() as s:
            case = s.get(Case, result.case_id)
            assert case.source == f"transfer_{first.source}" and case.town_id is not None
            assert (case.lat, case.lon) == (first.lat, first.lon)
        assert linked.case_no == result.number
    finally:
        database.dispose()


# -- the migration on a workstation file that already holds alerts ---------------------------

def test_revision_0002_keeps_existing_alerts_and_their_rules(tmp_path):
    from alembic import command
    from sqlalchemy import create_engine, text

    from db.core.migrate import alembic_config

    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    command.upgrade(alembic_config(engine), "0001")
    columns = ("source, type, severity, state, dedup_key, title, detail, first_at, last_at, "
               "repeat_count, version, acknowledged_by_id")
    then = "'2026-01-01 00:00:00.000000'"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO user_account (id, username, display_name, role, "
                          "password_hash, active, created_at) VALUES (1, 'u', '老用户', "
                          "'duty_officer', 'x', 1, '2026-01-01 00:00:00.000000')"))
        for n, state in enumerate(("cleared", "cleared", "acknowledged")):
            conn.execute(text(f"INSERT INTO alert ({columns}) VALUES ('sensor', 'gas', 'major', "
                              f":state, 'sensor:1:gas', '旧告警{n}', '', {then}, {then}, 3, 2, 1)"),
                         {"state": state})
        conn.execute(text("DELETE FROM alert WHERE id = 3"))  # ids are never handed out again
    engine.dispose()
    database = open_database(f"sqlite:///{tmp_path / 'old.sqlite3'}")  # upgrades to head
    allow_caller_time(database)  # the test dates its alarms
    try:
        with database.read() as s:
            old = alerts.alert_rows(s, [1, 2])
        assert [(a.title, a.state, a.reopen_count, a.cleared_by, a.acknowledged_by)
                for a in old] == [("旧告警0", "cleared", 0, None, "老用户"),
                                  ("旧告警1", "cleared", 0, None, "老用户")]
        new = raise_alert(database, source="sensor", type="gas", severity="minor", title="新",
                          dedup_key="sensor:1:gas", now=NOW)
        assert new == 4  # AUTOINCREMENT survived the table rebuild
        with pytest.raises(Exception) as err:  # one uncleared row per key, still
            with database.write() as s:
                s.add(Alert(source="sensor", type="gas", severity="minor", state="active",
                            dedup_key="sensor:1:gas", title="重复", detail="", first_at=NOW,
                            last_at=NOW, repeat_count=1, version=1))
        assert "UNIQUE" in str(err.value).upper()
        with database.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        database.dispose()


# -- review fixes: ordering that holds still, keys, case references, "unclassified" ----------

def test_the_list_order_holds_still_while_alarms_repeat(env):
    """Within a severity: unacknowledged first, then by when the alarm began, so a repeat
    never moves a row under the officer's cursor."""
    old = raise_alert(env.database, **transfer("R1", "critical"), now=NOW)
    new = raise_alert(env.database, **transfer("R2", "critical"), now=NOW + MIN)
    raise_alert(env.database, **transfer("R1", "critical"), now=NOW + 5 * MIN)  # old repeats
    with env.database.read() as s:
        assert [a.id for a in alerts.active_alerts(s)] == [new, old]
    alerts.acknowledge(env.database, user(env), new, row(env, new).version, now=NOW + 6 * MIN)
    with env.database.read() as s:
        assert [a.id for a in alerts.active_alerts(s)] == [old, new]  # waiting ones first


def test_an_alarm_without_a_device_needs_its_own_key(env):
    alarm = transfer("K1")
    del alarm["dedup_key"]
    with pytest.raises(ValidationError):
        raise_alert(env.database, **alarm)
    with env.database.read() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 0


def test_a_typed_case_reference_is_a_whole_case_number(env):
    target = report(env)
    aid = raise_alert(env.database, **transfer("N1"), now=NOW)
    with pytest.raises(NotFound):  # the case's id typed as text is not a case number
        alerts.link_case(env.database, user(env), aid, 1, str(target.case_id))
    assert row(env, aid).case_id is None and row(env, aid).state == "active"


def test_to_case_may_leave_the_class_for_acceptance(env):
    sensor = add_sensor(env)
    aid = raise_alert(env.database, **water(sensor), now=NOW)
    with env.database.read() as s:
        assert alerts.case_draft(s, aid).class_id is not None  # a class is suggested...
    result, _ = alerts.to_case(env.database, user(env), aid, 1, class_id=None, now=NOW + MIN)
    with env.database.read() as s:
        assert s.get(Case, result.case_id).class_id is None  # ...but the officer declined it


@pytest.mark.skipif(os.environ.get("CITYOPS_SKIP_PG") == "1", reason="CITYOPS_SKIP_PG=1")
def test_revision_0002_on_postgresql_keeps_existing_alerts_and_their_rules():
    """The shared control-room database: 0001 with alerts in it → head → 0001 → head."""
    import uuid

    from alembic import command
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from db.core.migrate import alembic_config
    from tests.conftest import PG_ADMIN_URL

    name = f"cityops_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        command.upgrade(alembic_config(engine), "0001")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO user_account (id, username, display_name, role, "
                              "password_hash, active, created_at) VALUES (1, 'u', '老用户', "
                              "'duty_officer', 'x', true, now())"))
            for n, state in enumerate(("cleared", "acknowledged")):
                conn.execute(text(
                    "INSERT INTO alert (source, type, severity, state, dedup_key, title, detail, "
                    "first_at, last_at, repeat_count, version, acknowledged_by_id) VALUES "
                    "('sensor', 'gas', 'major', :state, 'sensor:1:gas', :title, '', now(), now(), "
                    "3, 2, 1)"), {"state": state, "title": f"旧告警{n}"})
        command.upgrade(alembic_config(engine), "head")
        command.downgrade(alembic_config(engine), "0001")  # and back: nothing lost either way
        command.upgrade(alembic_config(engine), "head")
        engine.dispose()
        database = open_database(url)
        allow_caller_time(database)  # the test dates its alarms (connected as the superuser)
        try:
            with database.read() as s:
                old = alerts.alert_rows(s, [1, 2])
            assert [(a.title, a.state, a.reopen_count, a.acknowledged_by) for a in old] == \
                [("旧告警0", "cleared", 0, "老用户"), ("旧告警1", "acknowledged", 0, "老用户")]
            again = raise_alert(database, source="sensor", type="gas", severity="critical",
                                title="再次", dedup_key="sensor:1:gas", now=NOW)
            assert again == 2  # the uncleared row with the key repeats: one row per key
            with pytest.raises(Exception) as err:
                with database.write() as s:
                    s.add(Alert(source="sensor", type="gas", severity="minor", state="active",
                                dedup_key="sensor:1:gas", title="重复", detail="", first_at=NOW,
                                last_at=NOW, repeat_count=1, version=1))
            assert "uq_alert_open_dedup_key" in str(err.value)
        finally:
            database.dispose()
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
