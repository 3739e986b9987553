"""Position fixes of people in the field (their phones' or handsets' GPS): checked, stored.

:func:`record_positions` is the one way fixes enter the database (a gateway, the demo's
simulator), in the caller's write transaction: every fix is checked first
(:mod:`db.core.validate`: a staff id that is a whole number of a person who exists, a latitude
and a longitude that are finite numbers in range, an aware time), and a wrong type, NaN or
infinity refuses the whole batch with a :class:`~db.core.errors.ValidationError` before
anything is written. A fix's time is the database's clock when it arrives; a device's own
``at`` only where the database accepts a caller's time (:mod:`db.core.dbclock`: the demo's
simulator, tests), refused elsewhere. Then all fixes go to the track (``staff_track``), the latest of each
person to ``staff_position``, and the people moved are published on the change feed.

No audit rows for fixes: the audit log records what people did in the system, and hundreds of
GPS fixes a second are device telemetry whose own record is ``staff_track``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.core import feed, validate
from db.core.dbclock import require_caller_time, server_now
from db.core.entities import Entity
from db.core.errors import ValidationError
from db.models import Staff, StaffPosition, StaffTrack

FIX_FIELDS = ("staff_id", "lat", "lon", "at")  # "at" may be left out: the database's clock


def check_fixes(fixes: Sequence[Mapping]) -> list[dict]:
    """``fixes`` as a list of ``{"staff_id", "lat", "lon", "at"}`` dicts with checked values
    (``at`` None where the fix gave none), or a ``ValidationError``."""
    if not isinstance(fixes, list | tuple):
        raise ValidationError(f"位置必须是列表：{fixes!r:.60}", code="value_not_list",
                              field="位置", value=repr(fixes)[:60])
    out = []
    for fix in fixes:
        if not isinstance(fix, Mapping) or set(fix) | {"at"} != set(FIX_FIELDS):
            raise ValidationError(f"位置应含 {', '.join(FIX_FIELDS)}：{fix!r:.60}",
                                  code="value_not_list", field="位置", value=repr(fix)[:60])
        lat, lon = validate.coordinates(fix["lat"], fix["lon"])
        at = fix.get("at")
        if at is not None and (not isinstance(at, dt.datetime) or at.tzinfo is None):
            raise ValidationError("时间必须带时区（UTC）", code="time_not_aware", field="at")
        out.append({"staff_id": validate.record_id(fix["staff_id"], "人员"), "lat": lat,
                    "lon": lon, "at": at})
    return out


def record_positions(session: Session, fixes: Sequence[Mapping], *,
                     known_staff: frozenset[int] | None = None) -> int:
    """Store ``fixes`` in the caller's transaction (see the module docstring); returns how
    many. ``known_staff`` spares the look-up of people the caller already knows exist (the
    simulator); others are looked up, and an unknown one refuses the batch
    (``unknown_reference``)."""
    checked = check_fixes(fixes)
    if not checked:
        return 0
    ids = {f["staff_id"] for f in checked}
    unknown = ids - (known_staff or frozenset())
    if unknown:
        found = set(session.scalars(select(Staff.id).where(Staff.id.in_(sorted(unknown)))))
        missing = sorted(unknown - found)
        if missing:
            raise ValidationError(f"人员 {missing[0]} 不存在", code="unknown_reference",
                                  field="人员", id=missing[0])
    if any(f["at"] is not None for f in checked):
        require_caller_time(session)
    if any(f["at"] is None for f in checked):
        arrived = server_now(session)
        for fix in checked:
            if fix["at"] is None:
                fix["at"] = arrived
    latest: dict[int, dict] = {}
    for fix in checked:  # the latest fix of each person, by time (then by order given)
        held = latest.get(fix["staff_id"])
        if held is None or fix["at"] >= held["at"]:
            latest[fix["staff_id"]] = fix
    rows = [latest[sid] for sid in sorted(latest)]
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = make(StaffPosition)
    stmt = stmt.on_conflict_do_update(
        index_elements=[StaffPosition.staff_id],
        set_={"lat": stmt.excluded.lat, "lon": stmt.excluded.lon, "at": stmt.excluded.at})
    session.execute(stmt, rows)
    session.execute(insert(StaffTrack), checked)
    feed.publish(session, Entity.STAFF_POSITION, [r["staff_id"] for r in rows])
    return len(checked)


__all__ = ["FIX_FIELDS", "check_fixes", "record_positions"]
