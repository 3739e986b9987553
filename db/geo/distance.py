"""Distance on the ground: one Earth, one set of formulas.

Everything that measures or steps across the city uses these, all from one mean Earth radius
(:data:`EARTH_RADIUS_KM`, the IUGG mean radius) on a sphere: :func:`distance_km` (haversine,
great-circle distance), :func:`offset` (the point so many km away on a compass bearing, the
exact inverse of :func:`distance_km`), :func:`bearing` (the compass bearing from one point to
another) and :func:`bounding_box` (the smallest latitude/longitude box holding every point within
a radius, for a range query in SQL). One degree of latitude is ``EARTH_RADIUS_KM * pi / 180``
≈ 111.195 km everywhere; one degree of longitude is that times ``cos(latitude)`` (≈ 102.36 km in
Dongguan at 23°N). A sphere is within 0.5 % of the real ellipsoid, plenty for a city map; no
function here handles boxes across the ±180° meridian.
"""
from __future__ import annotations

import math
from typing import NamedTuple

EARTH_RADIUS_KM = 6371.0088
#: Kilometres in one degree of latitude (and of longitude on the equator): ≈ 111.195.
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
#: How far :func:`bounding_box` widens each edge: 1e-9 degrees, about 0.1 mm.
BOX_MARGIN_DEGREES = 1e-9


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points, in km (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def offset(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """The point ``km`` away from (lat, lon) along the great circle leaving it on compass
    ``bearing`` (degrees clockwise from north: 0 north, 90 east). A negative ``km`` goes the
    other way. Longitude comes back in [-180, 180)."""
    d = km / EARTH_RADIUS_KM  # the angle at the Earth's centre
    p1, l1, b = math.radians(lat), math.radians(lon), math.radians(bearing)
    sin_p2 = math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b)
    p2 = math.asin(max(-1.0, min(1.0, sin_p2)))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1),
                         math.cos(d) - math.sin(p1) * sin_p2)
    return math.degrees(p2), (math.degrees(l2) + 540.0) % 360.0 - 180.0


def bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The compass bearing (degrees clockwise from north, in [0, 360)) on which the great
    circle from the first point to the second leaves the first."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


class Box(NamedTuple):
    """A latitude/longitude box, edges included."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float


def bounding_box(lat: float, lon: float, km: float) -> Box:
    """The smallest box holding every point within ``km`` of (lat, lon).

    North and south the circle reaches ``km / EARTH_RADIUS_KM`` radians of latitude. East and
    west it reaches furthest where a meridian touches it, ``asin(sin(d) / cos(lat))`` radians
    of longitude (``d`` the radius as an angle), a little north of ``lat`` in the northern
    hemisphere; a circle around a pole spans every longitude. Each edge is pushed out by
    :data:`BOX_MARGIN_DEGREES` so that a point exactly ``km`` away, computed another way, is
    never lost to the last bit of a float.
    """
    d = max(0.0, km) / EARTH_RADIUS_KM
    dlat = math.degrees(d) + BOX_MARGIN_DEGREES
    lat_min, lat_max = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    cos_lat = math.cos(math.radians(lat))
    if lat_min == -90.0 or lat_max == 90.0 or math.sin(d) >= cos_lat:  # a pole is inside
        return Box(lat_min, lat_max, -180.0, 180.0)
    dlon = math.degrees(math.asin(math.sin(d) / cos_lat)) + BOX_MARGIN_DEGREES
    return Box(lat_min, lat_max, lon - dlon, lon + dlon)


__all__ = ["BOX_MARGIN_DEGREES", "EARTH_RADIUS_KM", "KM_PER_DEGREE", "Box", "bearing",
           "bounding_box", "distance_km", "offset"]
