"""Signing in: passwords checked, every attempt audited, the demo sign-in only on demo data."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from db.auth.accounts import authenticate, demo_account
from db.auth.roles import Role
from db.core.errors import PermissionDenied
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
    assert authenticate(sqlite_env.database, "admin", first).role == Role.ADMIN
