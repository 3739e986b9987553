"""The city's shared settings: every one declared here, read and changed by one rule.

A setting lives in ``app_setting`` as JSON. Its declaration (:class:`CitySetting`) says its
default and what a valid value is; :func:`read` gives the stored value when it is valid, else
the default (a value edited by hand into the table must not stop every workstation: it is
logged and ignored). :func:`change` is the only writer: an administrator's step, validated,
audited (old and new value) and published on the change feed, in one transaction, so every
workstation picks the new value up at once. A feature reads its setting by declaration
(``read(session, UNPARK_RULE)``); the settings screen lists :data:`SETTINGS`.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db.auth.actors import load_actor
from db.auth.roles import Role
from db.core import feed
from db.core.audit import audit
from db.core.dbclock import event_time
from db.core.engine import Database
from db.core.entities import Entity
from db.core.errors import PermissionDenied, ValidationError, raise_mapped
from db.core.requests import exactly_once
from db.core.timecheck import check_time
from db.models import AppSetting, UserAccount

log = logging.getLogger(__name__)

CHANGE_ACTION = "setting.change"


@dataclass(frozen=True)
class CitySetting:
    """One shared setting: a choice among words, or a number within bounds."""

    key: str
    default: Any
    choices: tuple[str, ...] = ()
    minimum: float | None = None  # numbers: inclusive bounds (above_zero: exclusive 0)
    maximum: float | None = None
    unit: str = ""  # "m", "min", "d": how the screen words the number
    integer: bool = False  # a count: whole numbers only
    above_zero: bool = False

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    def validate(self, value: Any) -> Any:
        """``value`` as stored, or :class:`ValidationError` (``setting_invalid``)."""
        if self.is_choice:
            if isinstance(value, str) and value in self.choices:
                return value
        elif (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
              and (self.minimum is None or value >= self.minimum)
              and (self.maximum is None or value <= self.maximum)
              and (not self.above_zero or value > 0)
              and (not self.integer or float(value).is_integer())):
            return int(value) if float(value).is_integer() else float(value)
        raise ValidationError(f"设置 {self.key} 无效：{value!r}", code="setting_invalid",
                              field=self.key, value=repr(value))


#: 恢复处置: what un-parking a case does to its deadline clock. ``resume`` gives back the
#: working time that was left when it was parked (approved extensions included); ``fresh``
#: starts the class's whole limit again from the moment of un-parking.
UNPARK_RULE = CitySetting("unpark_rule", "resume", choices=("resume", "fresh"))
#: Alerts of one type within this distance and time of each other show as one group.
ALERT_GROUP_RADIUS_M = CitySetting("alert_group_radius_m", 500, minimum=10, maximum=20_000, unit="m")
ALERT_GROUP_WINDOW_MIN = CitySetting("alert_group_window_min", 10, minimum=1, maximum=24 * 60, unit="min")

#: Failed sign-ins in a row before an account name locks (a shift leader lifts it).
SIGNIN_LOCKOUT_FAILURES = CitySetting("signin_lockout_failures", 10, minimum=1, maximum=1000, integer=True)
#: Minutes without input before a workstation locks and asks for the password again.
SIGNIN_IDLE_LOCK_MIN = CitySetting("signin_idle_lock_minutes", 15, maximum=24 * 60, unit="min",
                                   above_zero=True)
#: Days a write's request id is kept (:mod:`db.core.requests`): a client retrying an older
#: request than that would write it again, so keep it well beyond any outage.
REQUEST_RETENTION_DAYS = CitySetting("request_retention_days", 30, minimum=1, maximum=3650,
                                     unit="d", integer=True)

SETTINGS: tuple[CitySetting, ...] = (UNPARK_RULE, ALERT_GROUP_RADIUS_M, ALERT_GROUP_WINDOW_MIN,
                                     SIGNIN_LOCKOUT_FAILURES, SIGNIN_IDLE_LOCK_MIN,
                                     REQUEST_RETENTION_DAYS)
_BY_KEY = {s.key: s for s in SETTINGS}


def setting(key: str) -> CitySetting:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise ValidationError(f"没有名为 {key} 的设置", code="setting_unknown", field=key) from None


def read(session: Session, which: CitySetting) -> Any:
    """The stored value of ``which`` when valid, else its default."""
    return _valid_or_default(which, session.get(AppSetting, which.key))


def read_many(session: Session, *which: CitySetting) -> tuple:
    rows = {r.key: r for r in session.scalars(
        select(AppSetting).where(AppSetting.key.in_([w.key for w in which])))}
    return tuple(_valid_or_default(w, rows.get(w.key)) for w in which)


def _valid_or_default(which: CitySetting, row: AppSetting | None) -> Any:
    if row is None:
        return which.default
    try:
        return which.validate(json.loads(row.value_json))
    except (ValueError, ValidationError):
        log.warning("setting %s holds %r, which is not valid: using %r", which.key,
                    row.value_json, which.default)
        return which.default


@dataclass(frozen=True)
class SettingValue:
    """A setting as the settings screen shows it: plain values, safe for any thread."""

    setting: CitySetting
    value: Any
    changed_at: dt.datetime | None
    changed_by: str | None


def current(session: Session) -> list[SettingValue]:
    """Every declared setting with its value and who last changed it."""
    rows = {r.key: r for r in session.scalars(select(AppSetting).where(
        AppSetting.key.in_([s.key for s in SETTINGS])))}
    names = dict(session.execute(select(UserAccount.id, UserAccount.display_name).where(
        UserAccount.id.in_([r.updated_by_id for r in rows.values() if r.updated_by_id]))).all())
    out = []
    for s in SETTINGS:
        row = rows.get(s.key)
        out.append(SettingValue(s, _valid_or_default(s, row), row.updated_at if row else None,
                                names.get(row.updated_by_id) if row else None))
    return out


def put(session: Session, which: CitySetting, value: Any, actor: UserAccount | None,
        at: dt.datetime) -> bool:
    """Store ``value`` in the caller's transaction, audited; False when it is already so."""
    value = which.validate(value)
    row = session.get(AppSetting, which.key)
    old = _valid_or_default(which, row)
    if old == value:  # as it is (a default is not pinned by saving it unchanged)
        return False
    if row is None:
        session.add(AppSetting(key=which.key, value_json=json.dumps(value), updated_at=at,
                               updated_by_id=actor.id if actor else None))
    else:
        row.value_json, row.updated_at = json.dumps(value), at
        row.updated_by_id = actor.id if actor else None
    audit(session, actor, CHANGE_ACTION, Entity.SETTING, None,
          {"key": which.key, "old": old, "new": value}, at)
    return True


@exactly_once("setting.change")
def change(database: Database, actor_id: int, values: Mapping[str, Any], *,
           now: dt.datetime | None = None) -> list[str]:
    """An administrator changes settings: all of ``values`` or none, one transaction. Returns
    the keys that really changed (published on the feed so every workstation re-reads)."""
    at = check_time(now) if now is not None else None
    wanted = [(setting(key), value) for key, value in values.items()]
    try:
        with database.write() as session:
            at = event_time(session, at)  # the database's clock (a caller's: tests only)
            actor = load_actor(session, actor_id)
            if Role(actor.role) is not Role.ADMIN:
                raise PermissionDenied(f"{Role(actor.role).label}无权修改系统设置",
                                       code="role_cannot_change_settings", role=actor.role)
            changed = [which.key for which, value in wanted if put(session, which, value, actor, at)]
            if changed:
                feed.publish(session, Entity.SETTING, [None])
            return changed
    except DBAPIError as exc:
        raise_mapped(exc)
        raise


__all__ = ["ALERT_GROUP_RADIUS_M", "ALERT_GROUP_WINDOW_MIN", "CHANGE_ACTION", "SETTINGS",
           "SIGNIN_IDLE_LOCK_MIN", "SIGNIN_LOCKOUT_FAILURES", "UNPARK_RULE",
           "CitySetting", "SettingValue", "change", "current", "put", "read", "read_many", "setting"]
