"""The city's shared settings: one writer (an administrator), validated, audited, on the feed."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from db import settings
from db.auth.roles import Role
from db.core.errors import PermissionDenied, ValidationError
from db.core.feed import ChangeFollower
from db.models import AppSetting, AuditLog


def _stored(env) -> dict[str, str]:
    with env.database.read() as s:
        return dict(s.execute(select(AppSetting.key, AppSetting.value_json)).all())


def _audit_rows(env) -> int:
    with env.database.read() as s:
        return s.scalar(select(func.count()).select_from(AuditLog)
                        .where(AuditLog.action == settings.CHANGE_ACTION))


def test_unset_settings_read_as_their_defaults(env):
    with env.database.read() as s:
        assert [(v.setting.key, v.value, v.changed_by) for v in settings.current(s)] == [
            ("unpark_rule", "resume", None), ("alert_group_radius_m", 500, None),
            ("alert_group_window_min", 10, None), ("signin_lockout_failures", 10, None),
            ("signin_idle_lock_minutes", 15, None), ("request_retention_days", 30, None)]


def test_an_administrator_changes_settings_in_one_audited_step_every_workstation_sees(env):
    follower = ChangeFollower(env.database)
    admin = env.users[Role.ADMIN]
    changed = settings.change(env.database, admin, {"unpark_rule": "fresh", "alert_group_radius_m": 300,
                                                    "alert_group_window_min": 10})
    # The window is already 10 (the default): only two really change, and only they are audited.
    assert changed == ["unpark_rule", "alert_group_radius_m"]
    with env.database.read() as s:
        assert settings.read_many(s, settings.UNPARK_RULE, settings.ALERT_GROUP_RADIUS_M) == ("fresh", 300)
        rows = s.scalars(select(AuditLog).where(AuditLog.action == settings.CHANGE_ACTION)
                         .order_by(AuditLog.id)).all()
        assert [json.loads(r.detail_json) for r in rows] == [
            {"key": "unpark_rule", "old": "resume", "new": "fresh"},
            {"key": "alert_group_radius_m", "old": 500, "new": 300}]
        assert {r.actor_id for r in rows} == {admin}
        current = {v.setting.key: v for v in settings.current(s)}
        assert current["unpark_rule"].changed_by is not None and current["unpark_rule"].changed_at
    assert [c.entity for c in follower.fetch()] == ["setting"]
    # The same values again change nothing and write nothing.
    assert settings.change(env.database, admin, {"unpark_rule": "fresh"}) == []
    assert _audit_rows(env) == 2
    follower.close()


@pytest.mark.parametrize("role", [Role.DUTY_OFFICER, Role.SHIFT_LEADER, Role.LEADER, Role.DEPARTMENT_HANDLER])
def test_no_one_but_an_administrator_may_change_a_setting(env, role):
    # An officer with a workstation calls the writer directly: refused, nothing stored.
    with pytest.raises(PermissionDenied) as err:
        settings.change(env.database, env.users[role], {"unpark_rule": "fresh"})
    assert err.value.code == "role_cannot_change_settings"
    assert "unpark_rule" not in _stored(env) and _audit_rows(env) == 0


@pytest.mark.parametrize("values", [
    {"unpark_rule": "forever"}, {"unpark_rule": 1}, {"alert_group_radius_m": "500"},
    {"alert_group_radius_m": float("nan")}, {"alert_group_radius_m": float("inf")},
    {"alert_group_radius_m": True}, {"alert_group_radius_m": 5}, {"alert_group_window_min": 0},
    {"alert_group_window_min": 24 * 60 + 1}, {"signin_lockout_failures": 2.5},
    {"signin_lockout_failures": 0}, {"signin_idle_lock_minutes": 0}, {"no_such_setting": 1}])
def test_a_bad_value_is_refused_and_nothing_of_the_step_is_kept(env, values):
    # A valid change listed first must not be kept when a later one is refused: one transaction.
    with pytest.raises(ValidationError) as err:
        settings.change(env.database, env.users[Role.ADMIN], {"alert_group_window_min": 20, **values})
    assert err.value.code in {"setting_invalid", "setting_unknown"}
    assert _stored(env).get("alert_group_window_min") is None and _audit_rows(env) == 0


def test_a_value_edited_by_hand_into_the_table_reads_as_the_default(env):
    with env.database.write() as s:
        s.merge(AppSetting(key="unpark_rule", value_json='"sometimes"'))
        s.merge(AppSetting(key="alert_group_radius_m", value_json="not json"))
    with env.database.read() as s:
        assert settings.read_many(s, settings.UNPARK_RULE, settings.ALERT_GROUP_RADIUS_M) == ("resume", 500)
