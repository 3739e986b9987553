"""What the map shows, as plain JSON-ready data: base layers once, live layer points on demand.

Every function runs one query per layer (id lists are cut into chunks of
:data:`db.cases.queries.ROW_FETCH_LIMIT`) and returns frozen dataclasses whose fields are JSON types
only (times as ISO 8601 UTC strings), so a worker thread can hand them to the GUI thread and
on to the page without anything lazy-loading or failing to serialise. ``to_dict()`` gives the
dict form; :func:`dataclasses.asdict` works too.

The deadline *status* of a case (overdue / due soon / on track) is not computed here: it depends
on "now" and on the working calendar, which the caller holds (``WorkCalendar.status``), and it
changes with the clock while the rows do not.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from db.alerts.sensors import sensor_level
from db.auth.scope import SYSTEM, Actor, actor_scope
from db.cases.queries import OPEN_STATES, ROW_FETCH_LIMIT
from db.cases.workflow import effective_limit
from db.geo.polygons import rings_of
from db.models import (
    BlackSpot,
    Camera,
    Case,
    CaseClass,
    City,
    Grid,
    Sensor,
    Staff,
    StaffPosition,
    Town,
)

SUMMARY_CHARS = 60  # the start of a description, for a tooltip when the case has no title
OPEN_STATE_VALUES = sorted(s.value for s in OPEN_STATES)


class _Dict:
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[arg-type]


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


@dataclass(frozen=True)
class TownPoint(_Dict):
    id: int
    name: str
    kind: str
    lat: float | None  # None: the town seat's position is unknown (not drawn)
    lon: float | None
    low_lying: bool


@dataclass(frozen=True)
class BaseLayers(_Dict):
    """The layers drawn once when the page is built."""

    city_id: int
    city_name: str
    center: tuple[float, float]  # (lat, lon)
    bounds: tuple[tuple[float, float], tuple[float, float]]  # ((south, west), (north, east))
    outline: dict  # GeoJSON Feature (properties: name)
    towns: list[TownPoint]
    grids: dict  # GeoJSON FeatureCollection (properties: id, name, town_id)


@dataclass(frozen=True)
class CasePoint(_Dict):
    id: int
    lat: float
    lon: float
    number: str
    class_name: str
    town: str
    state: str
    urgency: str
    title: str
    summary: str  # the first SUMMARY_CHARS characters of the description
    deadline_at: str | None  # ISO 8601, UTC
    limit_amount: int | None
    limit_unit: str | None

    @property
    def deadline(self) -> dt.datetime | None:
        """``deadline_at`` as an aware datetime, for ``WorkCalendar.status``."""
        return dt.datetime.fromisoformat(self.deadline_at) if self.deadline_at else None


@dataclass(frozen=True)
class StaffPoint(_Dict):
    id: int
    name: str
    lat: float
    lon: float
    at: str  # ISO 8601, UTC: when the position was taken
    on_duty: bool


@dataclass(frozen=True)
class CameraPoint(_Dict):
    id: int
    code: str
    name: str
    lat: float
    lon: float
    kind: str
    analytics: bool
    town: str


@dataclass(frozen=True)
class SensorPoint(_Dict):
    id: int
    code: str
    name: str
    kind: str  # water_level / gas
    unit: str
    lat: float
    lon: float
    town: str
    last_value: float | None
    last_at: str | None
    level: str  # see db.alerts.sensors.sensor_level()


@dataclass(frozen=True)
class BlackSpotPoint(_Dict):
    id: int
    code: str
    name: str
    category: str
    town: str
    lat: float
    lon: float
    failed_rechecks: int


# ------------------------------------------------------------------------------------------
# Base layers
# ------------------------------------------------------------------------------------------

def base_layers(session: Session, city_id: int) -> BaseLayers:
    """The city outline, its towns and its grids. Raises ``LookupError`` for an unknown city."""
    city = session.execute(select(City.id, City.name, City.center_lat, City.center_lon,
                                  City.outline_geojson).where(City.id == city_id)).first()
    if city is None:
        raise LookupError(f"no city with id {city_id}")
    _, name, center_lat, center_lon, outline_text = city
    geometry = json.loads(outline_text) if outline_text else None
    outline = {"type": "Feature", "properties": {"name": name}, "geometry": geometry}

    towns = [TownPoint(tid, tname, kind, lat, lon, bool(low))
             for tid, tname, kind, lat, lon, low in session.execute(
                 select(Town.id, Town.name, Town.kind, Town.lat, Town.lon, Town.low_lying)
                 .where(Town.city_id == city_id).order_by(Town.code))]

    features = []
    for gid, gname, town_id, polygon in session.execute(
            select(Grid.id, Grid.name, Grid.town_id, Grid.polygon_geojson)
            .join(Town, Town.id == Grid.town_id)
            .where(Town.city_id == city_id).order_by(Grid.id)):
        try:
            shape = json.loads(polygon)
        except ValueError:
            continue  # a broken polygon must not take the whole map down
        features.append({"type": "Feature", "id": gid, "geometry": shape,
                         "properties": {"id": gid, "name": gname, "town_id": town_id}})
    grids = {"type": "FeatureCollection", "features": features}

    return BaseLayers(city_id, name, (center_lat, center_lon),
                      _bounds(geometry, towns, (center_lat, center_lon)), outline, towns, grids)


def _bounds(geometry: dict | None, towns: list[TownPoint],
            center: tuple[float, float]) -> tuple[tuple[float, float], tuple[float, float]]:
    points: list[tuple[float, float]] = []  # (lon, lat)
    if geometry:
        try:
            for polygon in rings_of(geometry):
                points += polygon[0]
        except (KeyError, ValueError, TypeError):
            points = []
    if not points:
        points = [(t.lon, t.lat) for t in towns if t.lat is not None and t.lon is not None]
    if not points:
        lat, lon = center
        return (lat - 0.1, lon - 0.1), (lat + 0.1, lon + 0.1)
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    return (min(lats), min(lons)), (max(lats), max(lons))


# ------------------------------------------------------------------------------------------
# Live layers
# ------------------------------------------------------------------------------------------

def _chunks(ids: Iterable[int] | None) -> list[list[int] | None]:
    """``[None]`` (no id filter) or the ids in chunks small enough for an IN list."""
    if ids is None:
        return [None]
    unique = list(dict.fromkeys(int(i) for i in ids))
    return [unique[k:k + ROW_FETCH_LIMIT] for k in range(0, len(unique), ROW_FETCH_LIMIT)]


def case_points(session: Session, city_id: int, ids: Iterable[int] | None = None, *,
                actor: Actor = SYSTEM) -> list[CasePoint]:
    """The city's open cases (every state but closed and void) within ``actor``'s scope
    (:mod:`db.auth.scope`: a department handler's map shows their department's cases, as
    their queue does); the default :data:`~db.auth.scope.SYSTEM` is every case (the bench).

    With ``ids``, only those of them that are still open (and in scope): an id asked for and
    not returned has been closed, voided, deleted or moved out of the scope, and its marker
    should go.
    """
    clause = actor_scope(session, actor).clause()
    base = (
        select(Case.id, Case.lat, Case.lon, Case.number, CaseClass.minor_name, Town.name,
               Case.state, Case.urgency, Case.title,
               func.substr(Case.description, 1, SUMMARY_CHARS), Case.deadline_at,
               CaseClass.limit_amount, CaseClass.limit_unit)
        .outerjoin(CaseClass, CaseClass.id == Case.class_id)
        .outerjoin(Town, Town.id == Case.town_id)
        .where(Case.city_id == city_id, Case.state.in_(OPEN_STATE_VALUES))
    )
    if clause is not None:
        base = base.where(clause)
    out = []
    for chunk in _chunks(ids):
        stmt = base if chunk is None else base.where(Case.id.in_(chunk))
        for (cid, lat, lon, number, cls, town, state, urgency, title, summary, deadline,
             amount, unit) in session.execute(stmt.order_by(Case.id)):
            if amount is not None:  # an emergency runs on the 30-minute clock, whatever its class
                amount, unit = effective_limit(amount, unit, urgency)
            out.append(CasePoint(cid, lat, lon, number, cls or "", town or "", state, urgency,
                                 title or "", summary or "", _iso(deadline), amount, unit))
    return out


def _in_city(stmt: Select, town_column, city_id: int) -> Select:
    """Rows of the city's towns, plus rows with no town (city-level: there is one city per
    town-less row in practice, and hiding them would hide real people and devices)."""
    return stmt.outerjoin(Town, Town.id == town_column).where(
        or_(Town.city_id == city_id, town_column.is_(None)))


def staff_points(session: Session, city_id: int, since: dt.datetime | None = None) -> list[StaffPoint]:
    """Last known positions of the city's active staff; with ``since``, only positions taken at
    or after it (the incremental update after a change-feed wake-up)."""
    stmt = _in_city(
        select(Staff.id, Staff.name, StaffPosition.lat, StaffPosition.lon, StaffPosition.at,
               StaffPosition.on_duty)
        .join(StaffPosition, StaffPosition.staff_id == Staff.id)
        .where(Staff.active.is_(True)),
        Staff.town_id, city_id)
    if since is not None:
        stmt = stmt.where(StaffPosition.at >= since)
    return [StaffPoint(sid, name, lat, lon, _iso(at), bool(on_duty))
            for sid, name, lat, lon, at, on_duty in session.execute(stmt.order_by(Staff.id))]


def camera_points(session: Session, city_id: int, ids: Iterable[int] | None = None) -> list[CameraPoint]:
    """The city's active cameras (with ``ids``: only those of them)."""
    base = _in_city(
        select(Camera.id, Camera.code, Camera.name, Camera.lat, Camera.lon, Camera.kind,
               Camera.analytics, Town.name).where(Camera.active.is_(True)),
        Camera.town_id, city_id)
    out = []
    for chunk in _chunks(ids):
        stmt = base if chunk is None else base.where(Camera.id.in_(chunk))
        out += [CameraPoint(cid, code, name, lat, lon, kind, bool(analytics), town or "")
                for cid, code, name, lat, lon, kind, analytics, town
                in session.execute(stmt.order_by(Camera.id))]
    return out


def sensor_points(session: Session, city_id: int, ids: Iterable[int] | None = None) -> list[SensorPoint]:
    """The city's active sensors with their last value and the level it reaches."""
    base = _in_city(
        select(Sensor.id, Sensor.code, Sensor.name, Sensor.kind, Sensor.unit, Sensor.lat,
               Sensor.lon, Town.name, Sensor.last_value, Sensor.last_at, Sensor.thresholds_json)
        .where(Sensor.active.is_(True)),
        Sensor.town_id, city_id)
    out = []
    for chunk in _chunks(ids):
        stmt = base if chunk is None else base.where(Sensor.id.in_(chunk))
        out += [SensorPoint(sid, code, name, kind, unit, lat, lon, town or "", value, _iso(at),
                            sensor_level(value, thresholds))
                for sid, code, name, kind, unit, lat, lon, town, value, at, thresholds
                in session.execute(stmt.order_by(Sensor.id))]
    return out


def black_spot_points(session: Session, city_id: int,
                      ids: Iterable[int] | None = None) -> list[BlackSpotPoint]:
    """The city's active (not yet removed) black spots."""
    base = (select(BlackSpot.id, BlackSpot.code, BlackSpot.name, BlackSpot.category, Town.name,
                   BlackSpot.lat, BlackSpot.lon, BlackSpot.failed_rechecks)
            .join(Town, Town.id == BlackSpot.town_id)
            .where(Town.city_id == city_id, BlackSpot.status == "active"))
    out = []
    for chunk in _chunks(ids):
        stmt = base if chunk is None else base.where(BlackSpot.id.in_(chunk))
        out += [BlackSpotPoint(bid, code, name, category, town or "", lat, lon, failed or 0)
                for bid, code, name, category, town, lat, lon, failed
                in session.execute(stmt.order_by(BlackSpot.id))]
    return out


__all__ = [
    "BaseLayers", "BlackSpotPoint", "CameraPoint", "CasePoint", "SensorPoint", "StaffPoint",
    "TownPoint", "base_layers", "black_spot_points", "camera_points", "case_points",
    "sensor_points", "staff_points",
]
