"""Signing in: check a password, record the login, change a password (a one-time password must
be changed at the first sign-in), and find the demo duty officer."""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from db.auth.roles import Role
from db.auth.security import hash_password, verify_password
from db.core.audit import audit
from db.core.engine import Database
from db.core.errors import PermissionDenied, ValidationError
from db.demo.build import DEMO_SETTING
from db.models import AppSetting, UserAccount, utcnow

DEMO_DUTY_OFFICER = "duty1"
PASSWORD_MIN_LENGTH = 8


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: Role
    department_id: int | None
    must_change_password: bool = False  # signed in with a one-time password: choose a new one


def _account(user: UserAccount) -> Account:
    return Account(user.id, user.username, user.display_name, Role(user.role), user.department_id,
                   bool(user.must_change_password))


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


def change_password(database: Database, actor_id: int, old: str, new: str) -> Account:
    """Replace the password of account ``actor_id`` (the one signed in): ``old`` must be its
    current password; ``new`` at least :data:`PASSWORD_MIN_LENGTH` characters and not ``old``.
    Clears ``must_change_password`` and audits the change (a wrong ``old`` is audited too).

    As in :func:`authenticate` the slow hashing runs outside the write transaction; the write
    re-checks that the stored hash is still the one verified (no change in between)."""
    if len(new) < PASSWORD_MIN_LENGTH:
        raise ValidationError(f"新密码至少 {PASSWORD_MIN_LENGTH} 个字符", code="password_too_short",
                              minimum=PASSWORD_MIN_LENGTH)
    if new == old:
        raise ValidationError("新密码不能与原密码相同", code="password_unchanged")
    with database.read() as session:
        user = session.get(UserAccount, actor_id)
        if user is None or not user.active:
            raise PermissionDenied("账号不存在或已停用", code="account_inactive")
        verified_hash = user.password_hash
        ok = verify_password(verified_hash, old)
    new_hash = hash_password(new) if ok else None
    with database.write() as session:
        user = session.get(UserAccount, actor_id)
        if not ok or user is None or user.password_hash != verified_hash:
            audit(session, user, "auth.password_change_failed", "user_account", actor_id)
        else:
            user.password_hash = new_hash
            user.must_change_password = False
            audit(session, user, "auth.password_changed", "user_account", actor_id)
            return _account(user)
    raise PermissionDenied("原密码错误", code="wrong_password")


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
