"""Signing in: passwords checked, every attempt audited, the demo sign-in only on demo data."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from db.auth.accounts import authenticate, change_password, demo_account
from db.auth.roles import Role
from db.core.errors import PermissionDenied, ValidationError
from db.models import AuditLog, UserAccount
from db.reference.city import ensure_admin
from tests.conftest import TEST_PASSWORD


def test_sign_in_checks_the_password_and_audits_both_outcomes(env):
    account = authenticate(env.database, " t_duty_officer ", TEST_PASSWORD)
    assert account.role == Role.DUTY_OFFICER and account.display_name == "测试值班员"
    for user, pw in (("t_duty_officer", "wrong"), ("nobody", TEST_PASSWORD)):
        with pytest.raises(PermissionDenied) as info:
            authenticate(env.database, user, pw)
        assert str(info.value) == "账号或密码错误"  # never says which one was wrong
    with env.database.read() as s:
        actions = [a for a in s.scalars(select(AuditLog.action).where(
            AuditLog.action.like("auth.%")).order_by(AuditLog.id))]
        assert actions == ["auth.login", "auth.failed", "auth.failed"]
        assert s.get(UserAccount, account.id).last_login_at is not None


def test_a_deactivated_account_cannot_sign_in(env):
    with env.database.write() as s:
        s.get(UserAccount, env.users[Role.LEADER]).active = False
    with pytest.raises(PermissionDenied):
        authenticate(env.database, "t_leader", TEST_PASSWORD)


def test_no_demo_sign_in_on_a_real_database(env):
    assert demo_account(env.database) is None


def test_the_administrator_gets_a_random_one_time_password(env):
    with env.database.write() as s:
        _, password = ensure_admin(s)
    assert password is None  # the fixture's database has one already: nothing new to show
    with pytest.raises(PermissionDenied):
        authenticate(env.database, "admin", "admin")  # no fixed default password


def test_a_new_administrator_password_is_random_and_works(sqlite_env):
    with sqlite_env.database.write() as s:
        s.query(UserAccount).filter(UserAccount.username == "admin").update({"username": "old"})
        _, first = ensure_admin(s)
    assert first and len(first) >= 12
    account = authenticate(sqlite_env.database, "admin", first)
    assert account.role == Role.ADMIN and account.must_change_password


def _one_time_admin(env) -> tuple[int, str]:
    """A newly created administrator (the fixture's one renamed away) and its one-time password."""
    with env.database.write() as s:
        s.query(UserAccount).filter(UserAccount.username == "admin").update({"username": "old"})
        admin, password = ensure_admin(s)
        return admin.id, password


def test_a_one_time_password_must_be_changed_and_the_change_clears_the_flag(env):
    admin_id, one_time = _one_time_admin(env)
    account = authenticate(env.database, "admin", one_time)
    assert account.must_change_password  # the first sign-in is told to choose a new one
    changed = change_password(env.database, admin_id, one_time, "a-new-secret")
    assert not changed.must_change_password
    with env.database.read() as s:
        assert s.get(UserAccount, admin_id).must_change_password is False
        audits = list(s.scalars(select(AuditLog).where(AuditLog.action == "auth.password_changed")))
    assert [(a.actor_id, a.entity, a.entity_id) for a in audits] == [
        (admin_id, "user_account", admin_id)]
    # The one-time password is spent; the new one signs in without a prompt.
    with pytest.raises(PermissionDenied):
        authenticate(env.database, "admin", one_time)
    assert not authenticate(env.database, "admin", "a-new-secret").must_change_password


def test_a_chosen_password_is_not_flagged(env):
    assert not authenticate(env.database, "t_duty_officer", TEST_PASSWORD).must_change_password
    with env.database.write() as s:
        s.query(UserAccount).filter(UserAccount.username == "admin").update({"username": "old"})
        admin, shown = ensure_admin(s, "chosen-by-the-demo")
        assert shown == "chosen-by-the-demo" and admin.must_change_password is False


def test_change_password_refuses_a_wrong_old_password_and_audits_it(env):
    admin_id, one_time = _one_time_admin(env)
    with pytest.raises(PermissionDenied) as info:
        change_password(env.database, admin_id, "not-the-password", "a-new-secret")
    assert info.value.code == "wrong_password"
    with env.database.read() as s:
        assert s.get(UserAccount, admin_id).must_change_password is True  # nothing changed
        actions = list(s.scalars(select(AuditLog.action).where(
            AuditLog.entity_id == admin_id, AuditLog.action.like("auth.password%"))))
    assert actions == ["auth.password_change_failed"]
    assert authenticate(env.database, "admin", one_time).must_change_password


@pytest.mark.parametrize(("new", "code"), [
    ("short-7", "password_too_short"),  # 7 characters: one fewer than the minimum of 8
    (None, "password_unchanged"),  # the old one again
])
def test_change_password_refuses_a_weak_new_password(env, new, code):
    admin_id, one_time = _one_time_admin(env)
    with pytest.raises(ValidationError) as info:
        change_password(env.database, admin_id, one_time, new or one_time)
    assert info.value.code == code
    assert authenticate(env.database, "admin", one_time).must_change_password
