"""Clearing a live critical alarm needs a reason; what was cleared can be reviewed (both engines)."""
from __future__ import annotations

import pytest

from db.alerts import lifecycle as alerts
from db.alerts.lifecycle import raise_alert
from db.auth.roles import Role
from db.core.errors import ValidationError
from db.models import Sensor
from tests.db.alerts.test_alerts import MIN, NOW, add_sensor, audit_actions, row, transfer, user, water


def set_last_value(env, sensor_id: int, value: float) -> None:
    with env.database.write() as s:
        s.get(Sensor, sensor_id).last_value = value


def test_an_unacknowledged_critical_alert_is_not_cleared_without_a_reason(env):
    aid = raise_alert(env.database, **transfer("R1", "critical"), now=NOW)
    for blank in ("", "   "):
        with pytest.raises(ValidationError) as err:
            alerts.clear(env.database, user(env), aid, 1, note=blank, now=NOW + MIN)
        assert err.value.code == "clear_reason_required"
    r = row(env, aid)  # nothing changed
    assert (r.state, r.version, r.cleared_by, r.cleared_at) == ("active", 1, None, None)
    assert audit_actions(env, aid) == ["alert.raise"]
    cleared = alerts.clear(env.database, user(env), aid, 1, note="重复转办，已由119处置",
                           now=NOW + 2 * MIN)
    assert (cleared.state, cleared.clear_note) == ("cleared", "重复转办，已由119处置")


def test_an_acknowledged_critical_transfer_or_a_lesser_alert_clears_without_a_reason(env):
    critical = raise_alert(env.database, **transfer("R2", "critical"), now=NOW)
    acked = alerts.acknowledge(env.database, user(env), critical, 1, now=NOW + MIN)
    assert alerts.clear(env.database, user(env), critical, acked.version).state == "cleared"
    major = raise_alert(env.database, **transfer("R3", "major"), now=NOW)  # still unacknowledged
    assert alerts.clear(env.database, user(env), major, 1).state == "cleared"
    with env.database.read() as s:
        assert not alerts.clear_reason_required(s, critical)  # cleared: nothing to ask


def test_a_critical_sensor_alert_still_reading_at_its_level_needs_a_reason(env):
    # Water thresholds: red (critical) from 0.8 m, orange (major) from 0.5 m.
    sid = add_sensor(env)
    aid = raise_alert(env.database, **water(sid, "critical", 0.9), now=NOW)
    acked = alerts.acknowledge(env.database, user(env), aid, 1, now=NOW + MIN)
    set_last_value(env, sid, 0.8)  # exactly at the red threshold: still critical
    with env.database.read() as s:
        assert alerts.clear_reason_required(s, aid)
    with pytest.raises(ValidationError) as err:
        alerts.clear(env.database, user(env, Role.SHIFT_LEADER), aid, acked.version)
    assert err.value.code == "clear_reason_required"
    assert row(env, aid).state == "acknowledged"
    set_last_value(env, sid, 0.6)  # receded to orange: the critical alarm is over
    with env.database.read() as s:
        assert not alerts.clear_reason_required(s, aid)
    assert alerts.clear(env.database, user(env), aid, acked.version).state == "cleared"


def test_the_rule_in_one_place():
    need = alerts.clear_needs_reason
    assert need("critical", "active") and need("critical", "active", None)
    assert not need("critical", "acknowledged", None)
    assert not need("critical", "acknowledged", "major")
    assert need("critical", "acknowledged", "critical")
    assert not need("major", "active", "critical")
    assert alerts.sensor_severity_now(0.8, '{"red": 0.8, "orange": 0.5}') == "critical"
    assert alerts.sensor_severity_now(0.79, '{"red": 0.8, "orange": 0.5}') == "major"
    assert alerts.sensor_severity_now(None, '{"red": 0.8}') is None


def test_cleared_alerts_says_who_when_and_why_in_the_window(env):
    ids = [raise_alert(env.database, **transfer(f"W{n}", "major"), now=NOW) for n in range(4)]
    alerts.clear(env.database, user(env), ids[0], 1, note="before the window", now=NOW + MIN)
    alerts.clear(env.database, user(env, Role.SHIFT_LEADER), ids[1], 1, note="误报",
                 now=NOW + 10 * MIN)
    alerts.clear(env.database, user(env), ids[2], 1, now=NOW + 20 * MIN)  # no note: allowed
    # ids[3] stays active.
    since, until = NOW + 5 * MIN, NOW + 30 * MIN
    with env.database.read() as s:
        listed = alerts.cleared_alerts(s, since, until)
        open_ended = alerts.cleared_alerts(s, since)
        assert [a.id for a in alerts.cleared_alerts(s, NOW, NOW + 10 * MIN)] == [ids[0]]  # until excluded
    assert [(a.id, a.cleared_by, a.cleared_at, a.clear_note) for a in listed] == [
        (ids[2], "测试值班员", NOW + 20 * MIN, None),  # latest clearing first
        (ids[1], "测试值班长", NOW + 10 * MIN, "误报"),
    ]
    assert [a.id for a in open_ended] == [ids[2], ids[1]]
    with pytest.raises(ValidationError), env.database.read() as s:
        alerts.cleared_alerts(s, NOW.replace(tzinfo=None))
