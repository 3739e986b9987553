"""Sensor readings coming in: checked, stored, and the alarms they raise, in one transaction.

:func:`record_readings` is the one way readings enter the database (a gateway, the demo's
simulator). In the caller's write transaction, in this order (the simulator's bench figures
and the deadlock rule of :func:`db.alerts.lifecycle.raise_alerts` depend on it):

1. every reading checked (:mod:`db.core.validate`): a sensor id that is a whole number of a
   sensor that exists, a value that is a finite number. A wrong type, NaN or infinity refuses
   the whole batch with a :class:`~db.core.errors.ValidationError` before anything is written
   (NaN would otherwise be stored and rank below every threshold: a flooded street read as
   "normal");
2. the readings appended to ``sensor_reading``, each sensor's ``last_value``/``last_at`` set;
3. the alarms of :func:`db.alerts.sensors.reading_alarm` raised
   (:func:`db.alerts.lifecycle.raise_alerts`, which locks its alert rows);
4. the sensors published on the change feed, last (the feed's lock is the last a
   transaction takes).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from db.alerts import lifecycle
from db.alerts.sensors import SensorSite, reading_alarm
from db.core import feed, validate
from db.core.dbclock import event_time
from db.core.entities import Entity
from db.core.errors import ValidationError
from db.core.timecheck import check_time
from db.models import Sensor, SensorReading, Town


def check_readings(readings: Sequence) -> list[tuple[int, float]]:
    """``readings`` as ``[(sensor_id, value)]``: a list of pairs of a whole-number id and a
    finite number, or a ``ValidationError``."""
    if not isinstance(readings, list | tuple):
        raise ValidationError(f"读数必须是列表：{readings!r:.60}", code="value_not_list",
                              field="读数", value=repr(readings)[:60])
    out = []
    for item in readings:
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise ValidationError(f"读数应为（传感器，数值）：{item!r:.60}", code="value_not_list",
                                  field="读数", value=repr(item)[:60])
        out.append((validate.record_id(item[0], "传感器"), validate.finite_number(item[1], "读数")))
    return out


def _sites(session: Session, ids: set[int]) -> dict[int, SensorSite]:
    rows = session.execute(
        select(Sensor.id, Sensor.kind, Sensor.name, Sensor.lat, Sensor.lon,
               Sensor.thresholds_json, Sensor.town_id, Town.name)
        .outerjoin(Town, Town.id == Sensor.town_id).where(Sensor.id.in_(sorted(ids))))
    return {r[0]: SensorSite(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] or "") for r in rows}


def record_readings(session: Session, readings: Sequence[tuple[int, float]],
                    now: dt.datetime | None = None, *,
                    sites: Mapping[int, SensorSite] | None = None) -> list[int]:
    """Store ``readings`` (``(sensor_id, value)`` pairs) and raise their
    alarms, in the caller's transaction (see the module docstring); returns the alert ids the
    readings raised or repeated. ``sites`` spares the look-up of sensors the caller already
    knows (the simulator); sensors not in it are read from the database, and an unknown one
    refuses the batch (``unknown_reference``). They are dated by the database's clock; a
    source's own ``now`` only where the database accepts one (:mod:`db.core.dbclock`)."""
    checked = check_readings(readings)
    given = check_time(now) if now is not None else None
    if not checked:
        return []
    known = dict(sites or {})
    unknown = {sid for sid, _ in checked if sid not in known}
    if unknown:
        known.update(_sites(session, unknown))
        missing = sorted(unknown - set(known))
        if missing:
            raise ValidationError(f"传感器 {missing[0]} 不存在", code="unknown_reference",
                                  field="传感器", id=missing[0])
    at = event_time(session, given)  # the database's clock (a source's own: demo and tests)
    session.execute(insert(SensorReading), [
        {"sensor_id": sid, "at": at, "value": value} for sid, value in checked])
    table = Sensor.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("sid"))
        .values(last_value=bindparam("v"), last_at=bindparam("at")),
        [{"sid": sid, "v": value, "at": at} for sid, value in checked])
    alarms = [a for sid, value in checked if (a := reading_alarm(known[sid], value)) is not None]
    ids = lifecycle.raise_alerts(session, alarms, given)  # its clock: after its row locks
    feed.publish(session, Entity.SENSOR, list(dict.fromkeys(sid for sid, _ in checked)))
    return ids


__all__ = ["check_readings", "record_readings"]
