"""Signing in: check a password, record the login, change a password (a one-time password must
be changed at the first sign-in), and find the demo duty officer."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from db.auth.roles import Role
from db.auth.security import hash_password, verify_password
from db.auth.signin import clean_name, clear_failures, record_failure, reserve
from db.core.audit import audit
from db.core.engine import Database
from db.core.errors import PermissionDenied, ValidationError
from db.demo.build import demo_marker
from db.models import UserAccount, utcnow

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


def authenticate(database: Database, username: str, password: str, *, workstation: str = "",
                 purpose: str = "sign_in", now: dt.datetime | None = None) -> Account:
    """The account for ``username`` if ``password`` matches; :class:`PermissionDenied`
    (``bad_credentials``) otherwise, never saying which of the two was wrong.

    Behind the gate of :mod:`db.auth.signin`: an attempt inside the delay after failures (of
    this account name or of ``workstation``, the name the desktop passes) is refused with
    :class:`~db.core.errors.SignInThrottled`, and a locked account name with
    :class:`~db.core.errors.AccountLocked`, both before the password is looked at. An unknown
    or deactivated account is checked against a dummy hash: the same work, the same time and
    the same answer as a wrong password. ``purpose`` (``sign_in``, ``unlock``, ``handover``)
    goes into the audit row.

    The slow hash check runs outside any write transaction, so a sign-in never holds SQLite's
    write lock for it; the outcome is written in its own transaction.
    """
    if not isinstance(password, str):
        raise ValidationError("密码必须是文本", code="text_not_text", field="密码")
    username = clean_name(username, "账号")[:40]
    workstation = clean_name(workstation, "工作站")
    attempt = reserve(database, username, workstation, now)
    at = attempt.at  # the database's clock when the attempt was counted
    ok = verify_password(attempt.password_hash, password) and attempt.user_id is not None
    with database.write() as session:
        if not ok:
            record_failure(session, attempt)
        else:
            user = session.get(UserAccount, attempt.user_id)
            if user is not None and user.active:
                user.last_login_at = at
                run = clear_failures(session, attempt)
                audit(session, user, "auth.login", "user_account", user.id,
                      {"workstation": workstation, "purpose": purpose, **run}, at=at)
                return _account(user)
            record_failure(session, attempt)  # deactivated between the check and now
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
    """The demo marker of a database in demo mode (:func:`db.demo.build.demo_marker`: marked
    demo and holding no real account), or None."""
    with database.read() as session:
        return demo_marker(session)


def demo_account(database: Database, username: str = DEMO_DUTY_OFFICER) -> Account | None:
    """A demo account signed in without a password: only on a database in demo mode, and only
    an account the demo builder made (never a real one, whatever name is asked for)."""
    with database.write() as session:
        if demo_marker(session) is None:
            return None
        user = session.scalar(select(UserAccount).where(UserAccount.username == username,
                                                        UserAccount.active.is_(True),
                                                        UserAccount.demo.is_(True)))
        if user is None:
            return None
        user.last_login_at = utcnow()
        audit(session, user, "auth.demo_login", "user_account", user.id)
        return _account(user)
