"""The gate in front of a password check: a growing delay after failed sign-ins, a lockout at
the city's limit, and the same work for an account that does not exist.

Rules (checked by ``tests/db/auth/test_signin_gate.py``):

- Failures are counted per *account name as typed* (known, unknown or deactivated alike, so
  the answers never tell them apart) and per *workstation* (a name the desktop passes: the
  host name). A successful sign-in clears both counts.
- After ``n`` failures in a row the next attempt must wait :func:`delay_seconds` (``n``) from
  the previous attempt: 0, 0, 1, 2, 4, 8, … seconds, at most :data:`DELAY_CAP_SECONDS`. An
  attempt inside the delay is refused with :class:`~db.core.errors.SignInThrottled`
  (``seconds`` to wait) *before* any password is looked at.
- An account name with the city's limit of failures (:data:`LOCKOUT_SETTING`, default 10) is
  locked: every attempt is refused with :class:`~db.core.errors.AccountLocked`, the right
  password too, until a shift leader or an administrator lifts it (:func:`unlock_account`,
  audited). A workstation is only slowed, never locked: locking a control-room desk would
  lock out the whole shift.
- An attempt is counted as a failure *before* its password is checked (:func:`reserve`) and
  cleared if it succeeds: parallel attempts cannot slip through the delay together.
- The audit log is append-only, so repeated failures are folded: one ``auth.failed`` row at
  the first failure of a run, one ``auth.locked`` row with the count when the lock falls, and
  the count of the run in the ``auth.login`` or ``auth.unlocked`` row that ends it. The running
  count lives in ``sign_in_failure``.
- An unknown or deactivated account is checked against :data:`DUMMY_HASH`, made with the same
  argon2 parameters as every password, so it costs the same time as a wrong password of a
  known account.

The city's idle time before a workstation locks itself (:data:`IDLE_LOCK_SETTING`) is kept here
too: it is the other half of "who is at this desk".
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db import settings
from db.auth.actors import load_actor
from db.auth.roles import Role
from db.core.audit import audit
from db.core.dbclock import event_time
from db.core.engine import Database
from db.core.errors import AccountLocked, NotFound, PermissionDenied, SignInThrottled, ValidationError
from db.core.timecheck import check_time
from db.models import SignInFailure, UserAccount

#: An argon2id hash of a random password nobody kept, with the parameters of
#: :data:`db.auth.security._hasher` (a test keeps them equal): an unknown or deactivated account
#: is verified against it, so it costs what a known account's wrong password costs.
DUMMY_HASH = ("$argon2id$v=19$m=65536,t=3,p=2$tNgNg4M7R6YRZdEJdGmqcQ$"
              "ZL8kvL7s4qqKcc7k1n/XqqVDkcR4ICQecOOCWU6Y2Cs")

ACCOUNT, WORKSTATION = "account", "workstation"
FREE_FAILURES = 2  # a typo or two costs no wait
DELAY_CAP_SECONDS = 60
KEY_LIMIT = 80  # sign_in_failure.key / .workstation

#: The shared settings: declared, validated and changed in :mod:`db.settings`.
LOCKOUT_SETTING = settings.SIGNIN_LOCKOUT_FAILURES.key
DEFAULT_LOCKOUT_FAILURES = settings.SIGNIN_LOCKOUT_FAILURES.default
IDLE_LOCK_SETTING = settings.SIGNIN_IDLE_LOCK_MIN.key
DEFAULT_IDLE_LOCK_MINUTES = float(settings.SIGNIN_IDLE_LOCK_MIN.default)

#: Who may lift a lock.
UNLOCKERS = frozenset({Role.SHIFT_LEADER, Role.ADMIN})


def delay_seconds(failures: int) -> int:
    """The wait after ``failures`` failed attempts in a row: 0, 0, 1, 2, 4, 8, … capped."""
    if failures <= FREE_FAILURES:
        return 0
    return min(2 ** (failures - FREE_FAILURES - 1), DELAY_CAP_SECONDS)


# -- settings ----------------------------------------------------------------------------------

def lockout_limit(session: Session) -> int:
    """The city's limit of failed sign-ins in a row before an account name locks (default 10;
    a value broken by hand reads as the default, so the gate still locks)."""
    return int(settings.read(session, settings.SIGNIN_LOCKOUT_FAILURES))


def idle_lock_minutes(session: Session) -> float:
    """The city's idle time, in minutes, after which a workstation locks itself (default 15)."""
    return float(settings.read(session, settings.SIGNIN_IDLE_LOCK_MIN))


def set_lockout_limit(session: Session, failures: int, actor_id: int | None = None,
                      now: dt.datetime | None = None) -> None:
    """Choose the lockout limit (inside the caller's write transaction; the screen goes through
    :func:`db.settings.change`, which also checks the actor is an administrator)."""
    actor = session.get(UserAccount, actor_id) if actor_id is not None else None
    settings.put(session, settings.SIGNIN_LOCKOUT_FAILURES, failures, actor,
                 event_time(session, now))


def set_idle_lock_minutes(session: Session, minutes: float, actor_id: int | None = None,
                          now: dt.datetime | None = None) -> None:
    """Choose the idle time before a workstation locks (as :func:`set_lockout_limit`)."""
    actor = session.get(UserAccount, actor_id) if actor_id is not None else None
    settings.put(session, settings.SIGNIN_IDLE_LOCK_MIN, minutes, actor, event_time(session, now))


# -- the gate ----------------------------------------------------------------------------------

def clean_name(value, field: str) -> str:
    """An account or workstation name as it is counted: text, trimmed, cut to the column."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} 必须是文本", code="text_not_text", field=field)
    return value.strip()[:KEY_LIMIT]


def _rows(session: Session, username: str, workstation: str) -> dict[str, SignInFailure]:
    """The two counters, locked for this transaction (PostgreSQL; SQLite's write lock is the
    whole file)."""
    rows = session.scalars(
        select(SignInFailure)
        .where(((SignInFailure.kind == ACCOUNT) & (SignInFailure.key == username))
               | ((SignInFailure.kind == WORKSTATION) & (SignInFailure.key == workstation)))
        .order_by(SignInFailure.id)
        .with_for_update()).all()
    return {row.kind: row for row in rows}


def _ensure(session: Session, kind: str, key: str) -> SignInFailure:
    """The counter row for ``kind``/``key``, made if missing (two workstations making it at
    once: ON CONFLICT keeps one), locked for this transaction."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(SignInFailure).values(kind=kind, key=key, failures=0, refused=0)
                    .on_conflict_do_nothing(index_elements=["kind", "key"]))
    return session.scalars(select(SignInFailure).where(
        SignInFailure.kind == kind, SignInFailure.key == key).with_for_update()
        .execution_options(populate_existing=True)).one()


@dataclass(frozen=True)
class Attempt:
    """A reserved attempt (plain values): the password is checked against ``password_hash``
    (:data:`DUMMY_HASH` when the account is unknown or deactivated)."""

    username: str
    workstation: str
    user_id: int | None  # an active account of that name, else None
    password_hash: str
    number: int  # this attempt's place in the account name's run of failures (1 = first)
    at: dt.datetime


def _refusal(account: SignInFailure | None, desk: SignInFailure | None, limit: int,
             username: str, now: dt.datetime) -> PermissionDenied | None:
    """Why this attempt may not be checked now, if it may not."""
    if account is not None and (account.locked_at is not None or account.failures >= limit):
        return AccountLocked("登录失败次数过多，账号已锁定，请联系值班长或管理员解锁",
                             username=username)
    wait = 0.0
    for row in (account, desk):
        if row is not None and row.failures and row.last_attempt_at is not None:
            until = row.last_attempt_at + dt.timedelta(seconds=delay_seconds(row.failures))
            wait = max(wait, (until - now).total_seconds())
    if wait > 0:
        seconds = math.ceil(wait)
        return SignInThrottled(f"登录失败次数过多，请 {seconds} 秒后再试", seconds=seconds)
    return None


def reserve(database: Database, username: str, workstation: str,
            now: dt.datetime | None = None) -> Attempt:
    """Refuse the attempt (delay, lock) or count it as a failure in advance and return what to
    check the password against. Refusals are counted, not audited one by one; a refusal makes
    no new counter row (a flood of made-up names while refused leaves nothing behind). The
    delays run on the database's clock: a caller's ``now`` (tests only, :mod:`db.core.dbclock`)
    could otherwise date an attempt past its wait."""
    now = check_time(now) if now is not None else None
    with database.write() as session:
        now = event_time(session, now)
        limit = lockout_limit(session)
        rows = _rows(session, username, workstation)
        refusal = _refusal(rows.get(ACCOUNT), rows.get(WORKSTATION), limit, username, now)
        if refusal is None:
            account = _ensure(session, ACCOUNT, username)
            desk = _ensure(session, WORKSTATION, workstation)
            # Again, now that both rows exist and are locked: one may have been made meanwhile.
            refusal = _refusal(account, desk, limit, username, now)
        if refusal is None:
            for row in (account, desk):
                row.failures += 1
                row.last_attempt_at = now
                row.workstation = workstation
                if row.failures == 1:
                    row.first_failed_at = now
            user = session.scalar(select(UserAccount).where(UserAccount.username == username))
            usable = user is not None and user.active
            return Attempt(username, workstation, user.id if usable else None,
                           user.password_hash if usable else DUMMY_HASH, account.failures, now)
        for row in _rows(session, username, workstation).values():
            row.refused += 1
    raise refusal


def record_failure(session: Session, attempt: Attempt) -> None:
    """The checked password was wrong (or the account unknown): the count stands (it was made
    in :func:`reserve`); audit the first failure of a run, and the lock when it falls."""
    detail = {"username": attempt.username, "workstation": attempt.workstation}
    if attempt.number == 1:
        audit(session, None, "auth.failed", "user_account", attempt.user_id, detail, at=attempt.at)
    row = session.scalars(select(SignInFailure).where(
        SignInFailure.kind == ACCOUNT, SignInFailure.key == attempt.username).with_for_update()).first()
    if row is not None and row.locked_at is None and row.failures >= lockout_limit(session):
        row.locked_at = attempt.at
        audit(session, None, "auth.locked", "user_account", attempt.user_id,
              {**detail, "failures": row.failures, "refused": row.refused,
               "first_failed_at": row.first_failed_at}, at=attempt.at)


def clear_failures(session: Session, attempt: Attempt) -> dict:
    """A successful sign-in ends the run of failures of its account name and workstation;
    returns the run's counts for the ``auth.login`` audit row."""
    rows = _rows(session, attempt.username, attempt.workstation)
    account = rows.get(ACCOUNT)
    before = {"failures_before": max(0, (account.failures if account else 1) - 1),
              "refused_before": account.refused if account else 0}
    for row in rows.values():
        session.delete(row)
    return before


# -- the lock, for those who lift it -----------------------------------------------------------

@dataclass(frozen=True)
class LockedAccount:
    user_id: int
    username: str
    display_name: str
    role: Role
    failures: int
    refused: int  # attempts refused since, unchecked
    locked_at: dt.datetime | None
    workstation: str | None  # where the latest attempt came from


def _unlocker(session: Session, actor_id: int) -> UserAccount:
    actor = load_actor(session, actor_id)
    if Role(actor.role) not in UNLOCKERS:
        raise PermissionDenied("只有值班长或管理员可以解锁账号", code="role_cannot_unlock",
                               role=actor.role)
    return actor


def _locked(session: Session) -> list[LockedAccount]:
    limit = lockout_limit(session)
    rows = session.execute(
        select(SignInFailure, UserAccount)
        .join(UserAccount, UserAccount.username == SignInFailure.key)
        .where(SignInFailure.kind == ACCOUNT,
               (SignInFailure.failures >= limit) | SignInFailure.locked_at.is_not(None))
        .order_by(SignInFailure.locked_at, SignInFailure.id)).all()
    return [LockedAccount(u.id, u.username, u.display_name, Role(u.role), f.failures, f.refused,
                          f.locked_at, f.workstation) for f, u in rows]


def locked_accounts(database: Database, actor_id: int) -> list[LockedAccount]:
    """Accounts locked by failed sign-ins, for a shift leader or an administrator. Names that
    belong to no account are left out: they lock nothing (and may be a password typed into the
    account field)."""
    with database.read() as session:
        _unlocker(session, actor_id)
        return _locked(session)


def _lift(session: Session, actor: UserAccount | None, username: str, at: dt.datetime,
          extra: dict) -> None:
    row = session.scalars(select(SignInFailure).where(
        SignInFailure.kind == ACCOUNT, SignInFailure.key == username).with_for_update()).first()
    if row is None or (row.locked_at is None and row.failures < lockout_limit(session)):
        raise NotFound(f"账号 {username} 未被锁定", code="account_not_locked", username=username)
    user_id = session.scalar(select(UserAccount.id).where(UserAccount.username == username))
    audit(session, actor, "auth.unlocked", "user_account", user_id,
          {"username": username, "failures": row.failures, "refused": row.refused,
           "locked_at": row.locked_at, "workstation": row.workstation, **extra}, at=at)
    session.delete(row)


def unlock_account(database: Database, actor_id: int, username: str,
                   now: dt.datetime | None = None) -> None:
    """Lift the lock of ``username`` (a shift leader or an administrator): its count starts
    again from zero. Audited ``auth.unlocked`` with the count that locked it."""
    at = check_time(now) if now is not None else None
    username = clean_name(username, "账号")
    with database.write() as session:
        _lift(session, _unlocker(session, actor_id), username, event_time(session, at), {})


def console_locked_accounts(database: Database) -> list[LockedAccount]:
    """The locked accounts, for ``cityops accounts locked`` (run by whoever holds the
    database's credentials on the server, not from a workstation's window)."""
    with database.read() as session:
        return _locked(session)


def console_unlock(database: Database, username: str, operator: str,
                   now: dt.datetime | None = None) -> None:
    """Lift a lock from the console (``cityops accounts unlock``): the way back when every
    shift leader and administrator is locked out (an insider can lock any account by guessing
    at it). Audited like :func:`unlock_account`, with no actor and the operating-system user."""
    at = check_time(now) if now is not None else None
    username = clean_name(username, "账号")
    with database.write() as session:
        _lift(session, None, username, event_time(session, at),
              {"via": "console", "operator": str(operator)[:80]})


__all__ = [
    "ACCOUNT", "DEFAULT_IDLE_LOCK_MINUTES", "DEFAULT_LOCKOUT_FAILURES", "DELAY_CAP_SECONDS",
    "DUMMY_HASH", "IDLE_LOCK_SETTING", "LOCKOUT_SETTING", "UNLOCKERS", "WORKSTATION", "Attempt",
    "LockedAccount", "clean_name", "clear_failures", "console_locked_accounts",
    "console_unlock", "delay_seconds",
    "idle_lock_minutes", "locked_accounts", "lockout_limit", "record_failure", "reserve",
    "set_idle_lock_minutes", "set_lockout_limit", "unlock_account",
]
