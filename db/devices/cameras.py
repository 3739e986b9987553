"""Cameras for the video wall: the ones nearest a place, and any by id, as plain values.

The wall runs these on a worker thread and gets :class:`CameraInfo` values back, so nothing
lazy-loads on the GUI thread. ``nearest_cameras`` narrows by a latitude/longitude box in SQL
(one range on each axis, no GIS extension on either engine) and ranks the few rows left by
great-circle distance in Python (both from :mod:`db.geo.distance`): with 100,000 cameras
spread over a city, a 3 km box holds a few hundred at most.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.geo.distance import bounding_box, distance_km
from db.models import Camera, Town


@dataclass(frozen=True)
class CameraInfo:
    """What the wall needs to show a camera."""

    id: int
    code: str
    name: str
    lat: float
    lon: float
    stream_url: str
    kind: str
    town_name: str | None = None
    #: How far from the place asked about, in km (set by :func:`nearest_cameras`; None when
    #: the camera was looked up by id).
    distance_km: float | None = None


def _columns():
    return select(Camera.id, Camera.code, Camera.name, Camera.lat, Camera.lon, Camera.stream_url,
                  Camera.kind, Town.name).outerjoin(Town, Town.id == Camera.town_id)


def _info(row) -> CameraInfo:
    return CameraInfo(id=row[0], code=row[1], name=row[2], lat=row[3], lon=row[4],
                      stream_url=row[5], kind=row[6], town_name=row[7])


#: How far the video wall looks for cameras around a case or an alert.
NEAR_KM = 3.0
#: Where :func:`cameras_around` looks next when fewer than the cameras asked for are within
#: :data:`NEAR_KM`: a 3×3 wall on the edge of town fills its tiles from further out.
WIDEN_KM = (6.0, 12.0)
#: The farthest the wall ever looks.
FARTHEST_KM = WIDEN_KM[-1]


def nearest_cameras(session: Session, city_id: int, lat: float, lon: float, n: int = 4,
                    max_km: float = NEAR_KM) -> list[CameraInfo]:
    """The ``n`` active cameras of the city nearest to (lat, lon), nearest first, none
    farther than ``max_km``. A camera with no town is taken if it is in range (it cannot
    be placed in another city's list by its town)."""
    if n <= 0 or max_km <= 0:
        return []
    box = bounding_box(lat, lon, max_km)
    query = _columns().where(
        Camera.active.is_(True),
        Camera.lat.between(box.lat_min, box.lat_max),
        Camera.lon.between(box.lon_min, box.lon_max),
        or_(Town.city_id == city_id, Camera.town_id.is_(None)),
    )
    ranked = []
    for row in session.execute(query):
        d = distance_km(lat, lon, row[3], row[4])
        if d <= max_km:
            ranked.append((d, row[0], row))
    ranked.sort(key=lambda item: (item[0], item[1]))  # ties: the lower id, so it is stable
    return [replace(_info(row), distance_km=d) for d, _, row in ranked[:n]]


def cameras_around(session: Session, city_id: int, lat: float, lon: float, n: int = 4,
                   steps: Sequence[float] = (NEAR_KM, *WIDEN_KM)) -> list[CameraInfo]:
    """The ``n`` cameras nearest (lat, lon) for the video wall: within the first radius of
    ``steps`` (3 km), or the next (6, then 12 km) while fewer than ``n`` are found. Each
    camera's ``distance_km`` says how far it is; an empty list means none within the last
    radius (:data:`FARTHEST_KM`)."""
    found: list[CameraInfo] = []
    for max_km in steps:
        found = nearest_cameras(session, city_id, lat, lon, n=n, max_km=max_km)
        if len(found) >= n:
            break
    return found


def camera_info(session: Session, ids: Iterable[int]) -> list[CameraInfo]:
    """The cameras with these ids, in the order asked (unknown ids are left out; inactive
    cameras are included: the user asked for that one)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found: dict[int, CameraInfo] = {}
    for start in range(0, len(wanted), 500):  # keep the IN list short on both engines
        chunk = wanted[start:start + 500]
        for row in session.execute(_columns().where(Camera.id.in_(chunk))):
            found[row[0]] = _info(row)
    return [found[i] for i in wanted if i in found]


def cameras_near_case(session: Session, city_id: int, case_id: int, n: int = 4
                      ) -> list[CameraInfo] | None:
    """The ``n`` cameras nearest a case's place (:func:`cameras_around`: from further out
    when fewer are near); None when the case is gone or has no place."""
    from db.models import Case

    place = session.execute(select(Case.lat, Case.lon).where(Case.id == case_id)).first()
    if place is None or place.lat is None or place.lon is None:
        return None
    return cameras_around(session, city_id, place.lat, place.lon, n=n)
