"""Errors the data layer raises. Each carries a ``code`` (one per kind of message) and the
parameters to word it; the message is plain Chinese for logs and for callers without a UI. The
window words the code through Qt Linguist (``desktop.core.errors``), so ``--lang en`` shows
English.

:func:`is_connection_lost` is the one answer to "did this fail because the database could not
be reached?" for every caller, the workflow, the alerts and the window alike.
"""
from __future__ import annotations

import datetime as dt
from typing import Any


class CityOpsError(Exception):
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.params = params


class NotFound(CityOpsError):
    code = "not_found"


class PermissionDenied(CityOpsError):
    code = "permission_denied"


class SignInThrottled(PermissionDenied):
    """Too many failed sign-ins in a row for this account name or workstation: the attempt was
    refused before any password check. ``params['seconds']`` says how long to wait."""

    code = "sign_in_wait"


class AccountLocked(PermissionDenied):
    """The account name reached the city's limit of failed sign-ins: refused, password unchecked,
    until a shift leader or an administrator lifts the lock (:func:`db.auth.signin.unlock_account`)."""

    code = "account_locked"


class InvalidTransition(CityOpsError):
    code = "invalid_transition"


class ValidationError(CityOpsError):
    code = "invalid_data"


class OutsideCity(ValidationError):
    code = "outside_city"


class DatabaseUnavailable(CityOpsError):
    code = "database_unavailable"

    def __init__(self, message: str = "数据库连接中断，操作未执行，请稍后重试", **params: Any) -> None:
        super().__init__(message, **params)


class OutcomeUnknown(DatabaseUnavailable):
    """The link dropped during a write and the database could not be asked since: the write
    may or may not have happened. The request id is kept; asking again (:func:`outcome`) or
    sending the same request again (:mod:`db.core.requests`) once the database is back settles it."""

    code = "outcome_unknown"

    def __init__(self, request_id: str, operation: str) -> None:
        super().__init__("数据库连接中断，暂无法确认操作是否已执行；连接恢复后将自动核对，"
                         "重试不会重复执行", request_id=request_id, operation=operation)
        self.request_id = request_id


class DatabaseBusy(CityOpsError):
    """The database is there but the row or file stayed locked past the timeout (SQLite busy,
    a PostgreSQL lock or statement timeout, a deadlock): nothing was written, try again."""

    code = "database_busy"

    def __init__(self, message: str = "数据库繁忙，操作未执行，请稍后重试", **params: Any) -> None:
        super().__init__(message, **params)


class ConflictError(CityOpsError):
    """Someone else changed the record (a case, an alert, …) after this actor looked at it."""

    code = "conflict"

    def __init__(self, entity: str, entity_id: int, seen_version: int, current_version: int,
                 changed_by: str, changed_at: dt.datetime | None) -> None:
        from db.core.entities import Entity

        entity = Entity(entity)
        when = changed_at.astimezone(_shanghai()).strftime("%H:%M:%S") if changed_at else "?"
        super().__init__(
            f"{entity.label}已被 {changed_by} 于 {when} 修改，请刷新后再操作",
            entity=entity.value, entity_id=entity_id, seen_version=seen_version,
            current_version=current_version, changed_by=changed_by, changed_at=changed_at,
        )
        self.entity = entity
        self.entity_id = entity_id
        self.seen_version = seen_version
        self.current_version = current_version
        self.changed_by = changed_by
        self.changed_at = changed_at


# -- who is connected (PostgreSQL) --------------------------------------------------------------

class PrivilegedConnection(CityOpsError):
    """A workstation, gateway or simulator connected as a superuser or as the schema's owner
    outside demo mode: refused, since that connection could switch off the database's own rules
    (triggers, append-only tables). ``kind`` is ``superuser`` or ``owner``."""

    code = "privileged_connection"

    def __init__(self, role: str, kind: str) -> None:
        super().__init__(
            f"数据库账号 {role} 权限过大（{'超级用户' if kind == 'superuser' else '表结构所有者'}），"
            "工作站只能以应用角色连接：请管理员运行 cityops db setup-roles --superuser-url URL，"
            "再用应用角色的地址启动", role=role, kind=kind)


class SchemaNotCurrent(CityOpsError):
    """The schema is behind the code and this connection (the application role) may not change
    it: the owner must migrate (``cityops db migrate --owner-url URL``)."""

    code = "schema_not_current"

    def __init__(self, current: str, head: str) -> None:
        super().__init__(
            f"数据库结构版本 {current} 不是最新的 {head}，应用角色不能升级结构：请管理员运行 "
            "cityops db migrate --owner-url URL", current=current, head=head)


class PasswordInUrl(CityOpsError):
    """A database URL that carries a password: refused, never used (see db.admin.passwords)."""

    code = "password_in_url"

    def __init__(self, option: str, url: str) -> None:
        super().__init__(f"{option} 的数据库地址含有密码，已拒绝：地址中只写用户名，密码写入 libpq 的"
                         f"密码文件（PGPASSFILE，权限 600）或 PGPASSWORD 环境变量: {url}",
                         option=option, url=url)


class PhoneKeyProblem(CityOpsError):
    """The key that seals reporters' phone numbers (db.core.pii) is not usable here: none made for
    this database yet (``phone_key_none``), no key file on this workstation
    (``phone_key_missing``), a key file of another database (``phone_key_mismatch``), a key file
    others may read (``phone_key_unsafe``), an unreadable key file (``phone_key_bad_file``), a
    stored number that does not open with the right key (``phone_sealed_broken``), or a key
    already made (``phone_key_exists``). Nothing is decrypted into garbage: the work stops here
    and says why."""

    code = "phone_key_missing"


# -- a lost connection ---------------------------------------------------------------------------

# Words in a driver's message that mean the link, not the statement, failed (psycopg, SQLite).
_LINK_WORDS = ("connection", "server closed", "terminat", "could not connect", "could not receive",
               "could not send", "consuming input failed", "unable to open database file")


# ... unless the server (or libpq) refused the account: a wrong or missing password is an answer.
_REFUSED_WORDS = ("password authentication failed", "no password supplied",
                  "authentication failed", "role \"", "does not exist")


def is_connection_lost(exc: BaseException) -> bool:
    """True when ``exc`` means the database could not be reached (so nothing was written).

    A busy SQLite file ("database is locked"), a constraint or a syntax error is not: those are
    answers from a database that is there."""
    from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, DatabaseUnavailable | DisconnectionError | PoolTimeout | ConnectionError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, InterfaceError):
            return True
        if isinstance(exc, OperationalError):
            state = getattr(exc.orig, "sqlstate", None) or ""
            if state.startswith("08") or state in ("57P01", "57P02", "57P03"):
                return True
            text = str(exc.orig).lower()
            if state.startswith("28") or any(word in text for word in _REFUSED_WORDS):
                return False  # the server answered: this account may not connect; waiting won't help
            return any(word in text for word in _LINK_WORDS)
        return False
    return isinstance(exc, OSError)


# PostgreSQL: lock not available, statement timeout, serialization failure, deadlock.
_BUSY_STATES = ("55P03", "57014", "40001", "40P01")


def is_database_busy(exc: BaseException) -> bool:
    """True when the database answered "not now": a lock or a timeout, nothing written."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DatabaseBusy):
        return True
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return False
    state = getattr(exc.orig, "sqlstate", None) or ""
    if state in _BUSY_STATES:
        return True
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text


def unavailable_or(exc: BaseException) -> BaseException:
    """:class:`DatabaseUnavailable` for a lost connection, :class:`DatabaseBusy` for a lock or a
    timeout, else ``exc`` itself (a constraint, a bug: the caller decides)."""
    if isinstance(exc, DatabaseUnavailable | DatabaseBusy):
        return exc
    if is_connection_lost(exc):
        return DatabaseUnavailable()
    if is_database_busy(exc):
        return DatabaseBusy()
    return exc


def raise_mapped(exc: BaseException) -> None:
    """Raise what :func:`unavailable_or` makes of ``exc``, chained to it; ``exc`` itself when
    it maps to nothing (call inside an ``except`` block)."""
    mapped = unavailable_or(exc)
    if mapped is exc:
        raise exc
    raise mapped from exc


def _shanghai():
    from db.worktime.clock import SHANGHAI

    return SHANGHAI
