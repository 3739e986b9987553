"""Signing in: check a password, record the login, and find the demo duty officer."""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from db.auth.roles import Role
from db.auth.security import verify_password
from db.core.audit import audit
from db.core.engine import Database
from db.core.errors import PermissionDenied
from db.demo.build import DEMO_SETTING
from db.models import AppSetting, UserAccount, utcnow

DEMO_DUTY_OFFICER = "duty1"


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: Role
    department_id: int | None


def _account(user: UserAccount) -> Account:
    return Account(user.id, user.username, user.display_name, Role(user.role), user.department_id)


def authenticate(database: Database, username: str, password: str) -> Account:
    """The account for ``username`` if ``password`` matches; :class:`PermissionDenied` otherwise.

    The message does not say which of the two was wrong. The slow hash check runs before the
    write transaction, so a sign-in never holds SQLite's write lock for it; a failure is
    audited in its own transaction (the refusal must not roll the record back).
    """
    username = username.strip()[:40]
    with database.read() as session:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username))
        ok = user is not None and user.active and verify_password(user.password_hash, password)
        user_id = user.id if user is not None else None
    with database.write() as session:
        if not ok:
            audit(session, None, "auth.failed", "user_account", user_id, {"username": username})
        else:
            user = session.get(UserAccount, user_id)
            user.last_login_at = utcnow()
            audit(session, user, "auth.login", "user_account", user.id)
            return _account(user)
    raise PermissionDenied("账号或密码错误", code="bad_credentials", username=username)


def demo_info(database: Database) -> dict | None:
    """The demo marker of a demo database, or None for a real one."""
    with database.read() as session:
        row = session.get(AppSetting, DEMO_SETTING)
        return json.loads(row.value_json) if row else None


def demo_account(database: Database, username: str = DEMO_DUTY_OFFICER) -> Account | None:
    """The demo duty officer, only on a database marked as demo data."""
    if demo_info(database) is None:
        return None
    with database.write() as session:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username,
                                                        UserAccount.active.is_(True)))
        if user is None:
            return None
        user.last_login_at = utcnow()
        audit(session, user, "auth.demo_login", "user_account", user.id)
        return _account(user)
