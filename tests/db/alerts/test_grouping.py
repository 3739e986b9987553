"""Alerts of one event grouped (same type, within the radius and the time window, single
linkage), the settings that tune it, and acknowledging a group all or nothing, on both engines."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import select

from db.alerts import lifecycle as alerts
from db.alerts.grouping import RADIUS_SETTING, WINDOW_SETTING, group_alerts, grouping_settings
from db.auth.roles import Role
from db.core.entities import Entity
from db.core.errors import ConflictError, InvalidTransition, PermissionDenied
from db.core.feed import ChangeFollower
from db.geo.distance import distance_km, offset
from db.models import AppSetting, AuditLog, Sensor
from tests.db.alerts.test_alerts import WATER, audit_actions, row, user
from tests.helpers import CENTRE

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 18, 2, 30, tzinfo=UTC)  # 10:30 in Dongguan
MIN = dt.timedelta(minutes=1)

# Hand-placed points. offset() is the exact inverse of distance_km(): P1 is 200 m east of P0
# and P2 200 m east of P1 (400 m from P0). At 23.02°N one degree of longitude is
# 111.195 km * cos(23.02°) ≈ 102.35 km, so 200 m east is ≈ 0.001954° of longitude; FAR is
# 2 km due north (≈ 0.01799° of latitude at 111.195 km per degree).
P0 = CENTRE
P1 = offset(*P0, 0.2, 90)
P2 = offset(*P1, 0.2, 90)
FAR = offset(*P0, 2.0, 0)


def test_the_points_are_where_the_comments_say():
    assert abs(P1[1] - P0[1] - 0.2 / 102.35) < 1e-5 and abs(P1[0] - P0[0]) < 1e-6
    assert abs(distance_km(*P0, *P1) - 0.2) < 1e-9
    assert abs(distance_km(*P1, *P2) - 0.2) < 1e-9
    assert abs(distance_km(*P0, *P2) - 0.4) < 1e-6
    assert abs(FAR[0] - P0[0] - 2.0 / 111.195) < 1e-5
    assert abs(distance_km(*P0, *FAR) - 2.0) < 1e-9


def place(env, code: str, kind: str, at: tuple[float, float]) -> int:
    with env.database.write() as s:
        sensor = Sensor(code=code, name=f"{code}探头", kind=kind,
                        unit="%LEL" if kind == "gas" else "m", lat=at[0], lon=at[1], town_id=1,
                        thresholds_json=json.dumps({"alarm": 20, "cutoff": 35} if kind == "gas"
                                                   else WATER))
        s.add(sensor)
        s.flush()
        return sensor.id


def sound(env, sensor_id: int, kind: str, at: tuple[float, float], severity: str,
          when: dt.datetime) -> int:
    return alerts.raise_alert(env.database, now=when, source="sensor", type=kind,
                              severity=severity, title=f"{kind} {severity}", lat=at[0],
                              lon=at[1], sensor_id=sensor_id, value=40.0)


def scene(env) -> dict[str, int]:
    """Three gas sensors 200 m apart alarming within 4 minutes; a gas sensor 2 km away; a
    water sensor beside the first gas one; a gas alarm beside them 15 minutes later."""
    ids = {}
    for name, kind, at, severity, minutes in (
            ("g1", "gas", P0, "critical", 0), ("g2", "gas", P1, "major", 2),
            ("g3", "gas", P2, "critical", 4), ("far", "gas", FAR, "major", 3),
            ("wet", "water_level", P0, "critical", 1), ("late", "gas", P1, "minor", 15)):
        sensor_id = place(env, name, kind, at)
        ids[name] = sound(env, sensor_id, kind, at, severity, NOW + minutes * MIN)
    return ids


def grouped(env, **settings) -> list[list[int]]:
    with env.database.write() as s:
        for key, value in settings.items():
            s.merge(AppSetting(key=key, value_json=json.dumps(value)))
    with env.database.read() as s:
        radius, window = grouping_settings(s)
        return [g.ids for g in group_alerts(alerts.active_alerts(s), radius, window)]


def test_one_leak_is_one_group_and_nothing_else_joins_it(env):
    ids = scene(env)
    with env.database.read() as s:
        assert grouping_settings(s) == (500.0, dt.timedelta(minutes=10))  # the defaults
        groups = group_alerts(alerts.active_alerts(s), 500, dt.timedelta(minutes=10))
    # g1-g2 and g2-g3 are 200 m apart (g1-g3 400 m), all of type gas, begun 0, 2 and 4 minutes
    # in: one group. far is 2 km from its nearest gas alert (g1); wet is at g1's place but of
    # another type; late began 11 minutes after the last of the three (15 - 4 > 10).
    # Members most severe first, then the newest: g3 (critical, 4 min), g1 (critical, 0), g2.
    # Groups in their first member's order: g3 (critical, newest) before wet (critical,
    # 1 min), then far (major), then late (minor).
    assert [g.ids for g in groups] == [[ids["g3"], ids["g1"], ids["g2"]], [ids["wet"]],
                                       [ids["far"]], [ids["late"]]]
    leak = groups[0]
    assert (leak.type, leak.count, leak.severity) == ("gas", 3, "critical")
    assert (leak.first_at, leak.last_at) == (NOW, NOW + 4 * MIN)
    assert leak.key == f"gas:{ids['g1']}"
    # The centre is the mean of the three places: P1, the middle one (east-west symmetric
    # to within the curvature of a parallel over 400 m, far below a millimetre).
    assert distance_km(leak.lat, leak.lon, *P1) < 1e-6
    assert groups[1].type == "water_level" and groups[1].count == 1


def test_the_settings_tune_the_radius_and_the_window(env):
    ids = scene(env)
    # 150 m: no two gas sensors are close enough any more (200 m apart), so each is alone, in
    # the list's order: critical by newest start (g3 4 min, wet 1, g1 0), then major (far 3,
    # g2 2), then minor.
    assert grouped(env, **{RADIUS_SETTING: 150}) == [
        [ids["g3"]], [ids["wet"]], [ids["g1"]], [ids["far"]], [ids["g2"]], [ids["late"]]]
    # 500 m and 20 minutes: late (11 minutes after g3, 0 m from g2) joins the leak.
    assert grouped(env, **{RADIUS_SETTING: 500, WINDOW_SETTING: 20}) == [
        [ids["g3"], ids["g1"], ids["g2"], ids["late"]], [ids["wet"]], [ids["far"]]]
    # Unreadable values fall back to the defaults.
    assert grouped(env, **{RADIUS_SETTING: "far", WINDOW_SETTING: -5})[0] == \
        [ids["g3"], ids["g1"], ids["g2"]]


def _row(alert_id: int, *, lat=P0[0], lon=P0[1], source="sensor", kind="gas",
         minutes: int = 0) -> alerts.AlertRow:
    at = NOW + minutes * MIN
    return alerts.AlertRow(
        id=alert_id, source=source, type=kind, severity="major", state="active", title="t",
        detail="", lat=lat, lon=lon, town_name=None, sensor_id=None, camera_id=None, value=None,
        first_at=at, last_at=at, repeat_count=1, acknowledged_by=None, acknowledged_at=None,
        cleared_by=None, cleared_at=None, case_id=None, case_no=None, version=1)


def test_single_linkage_chains_and_some_alerts_never_group():
    # A chain 400 m + 400 m along a pipe: the ends are 800 m apart (> 500 m) but each link is
    # within 500 m, so single linkage makes one group of three.
    a = offset(*P0, 0.4, 90)
    b = offset(*a, 0.4, 90)
    chain = [_row(1), _row(2, lat=a[0], lon=a[1]), _row(3, lat=b[0], lon=b[1])]
    assert [sorted(g.ids) for g in group_alerts(chain)] == [[1, 2, 3]]
    # At one spot, one minute apart: two 110 transfers (type "transfer" says nothing about
    # the event) and two sensor alerts without a place stay apart.
    lone = [_row(4, source="110", kind="transfer"), _row(5, source="110", kind="transfer", minutes=1),
            _row(6, lat=None, lon=None), _row(7, lat=None, lon=None, minutes=1)]
    assert sorted(g.ids for g in group_alerts(lone)) == [[4], [5], [6], [7]]
    # Exactly on the edges: 500 m and 10 minutes apart still link (both bounds included).
    edge = offset(*P0, 0.5, 180)
    assert len(group_alerts([_row(8), _row(9, lat=edge[0], lon=edge[1], minutes=10)])) == 1
    # Deterministic: the input order does not matter.
    rows = chain + lone
    assert group_alerts(rows) == group_alerts(rows[::-1])
    assert group_alerts([dataclasses.replace(r) for r in reversed(rows)]) == group_alerts(rows)


def test_acknowledging_a_group_acknowledges_each_with_its_own_audit_row(env):
    ids = scene(env)
    leak = [ids["g1"], ids["g2"], ids["g3"]]
    follower = ChangeFollower(env.database)
    follower.fetch()
    try:
        done = alerts.acknowledge_many(env.database, user(env), [(i, 1) for i in leak],
                                       now=NOW + 5 * MIN)
        assert [(r.id, r.state, r.version, r.acknowledged_by, r.acknowledged_at) for r in done] \
            == [(i, "acknowledged", 2, "测试值班员", NOW + 5 * MIN) for i in leak]
        assert sorted(c.entity_id for c in follower.fetch() if c.entity == "alert") == leak
    finally:
        follower.close()
    for i in leak:
        assert audit_actions(env, i) == ["alert.raise", "alert.acknowledge"]
    with env.database.read() as s:
        audits = s.execute(select(AuditLog.entity_id, AuditLog.at, AuditLog.actor_name).where(
            AuditLog.action == "alert.acknowledge").order_by(AuditLog.id)).all()
    assert [tuple(a) for a in audits] == [(i, NOW + 5 * MIN, "测试值班员") for i in leak]
    # The others are untouched; acknowledging the group again with what is on screen now is
    # a no-op (nothing written), as for one alert.
    assert row(env, ids["far"]).state == "active"
    assert alerts.acknowledge_many(env.database, user(env), [(i, 2) for i in leak]) == done
    assert [len(audit_actions(env, i)) for i in leak] == [2, 2, 2]


def test_one_stale_version_acknowledges_none_and_names_who(env):
    ids = scene(env)
    leak = [ids["g1"], ids["g2"], ids["g3"]]
    # g2 escalates after the officer looked (version 1 → 2, by the alarm source at 10:36).
    again = alerts.raise_alert(env.database, now=NOW + 6 * MIN, source="sensor", type="gas",
                               severity="critical", title="gas critical", lat=P1[0], lon=P1[1],
                               sensor_id=row(env, ids["g2"]).sensor_id, value=41.0)
    assert again == ids["g2"] and row(env, again).version == 2
    # In id order g1 is acknowledged first inside the transaction, then g2 fails: g1 rolls back.
    with pytest.raises(ConflictError) as err:
        alerts.acknowledge_many(env.database, user(env), [(i, 1) for i in leak],
                                now=NOW + 7 * MIN)
    assert err.value.entity == Entity.ALERT and err.value.entity_id == ids["g2"]
    assert err.value.changed_by == "告警源" and err.value.changed_at == NOW + 6 * MIN
    assert "10:36:00" in err.value.message
    for i in leak:
        r = row(env, i)
        assert (r.state, r.acknowledged_by) == ("active", None)
        assert "alert.acknowledge" not in audit_actions(env, i)


def test_the_group_goes_through_the_checks_of_one_acknowledgement(env):
    ids = scene(env)
    leak = [ids["g1"], ids["g2"], ids["g3"]]
    with pytest.raises(PermissionDenied):
        alerts.acknowledge_many(env.database, user(env, Role.INSPECTOR), [(i, 1) for i in leak])
    gone = alerts.clear(env.database, user(env), ids["g3"], 1, note="误报", now=NOW + 5 * MIN)
    with pytest.raises(InvalidTransition):
        alerts.acknowledge_many(env.database, user(env),
                                [(ids["g1"], 1), (ids["g2"], 1), (ids["g3"], gone.version)])
    assert [row(env, i).state for i in leak] == ["active", "active", "cleared"]
