"""Distance on the ground, worked by hand with R = 6371.0088 km (the IUGG mean radius).

One degree is R * pi / 180 of arc: pi / 180 = 0.0174532925 rad, times 6371.0088 km
= 111.19508 km. So 0.01 degree of latitude is 0.000174532925 rad * 6371.0088 km
= 1.1119508 km anywhere, and 0.01 degree of longitude at 23 degrees N is that times
cos(23 deg) = 0.9205049: 1.1119508 * 0.9205049 = 1.0235561 km.
"""
from __future__ import annotations

import math

import pytest

from db.geo.distance import (
    EARTH_RADIUS_KM,
    KM_PER_DEGREE,
    bearing,
    bounding_box,
    distance_km,
    offset,
)

LAT, LON = 23.02, 113.75  # Dongguan


def test_one_radius_one_degree():
    assert EARTH_RADIUS_KM == 6371.0088
    assert KM_PER_DEGREE == pytest.approx(111.19508, abs=1e-5)  # 6371.0088 * 0.0174532925


def test_a_hundredth_of_a_degree_of_latitude_is_1_112_km():
    # 0.01 deg = 0.000174532925 rad; * 6371.0088 km = 1.1119508 km, at any longitude.
    assert distance_km(23.0, 113.7, 23.01, 113.7) == pytest.approx(1.1119508, abs=1e-6)
    assert distance_km(0.0, 0.0, 0.01, 0.0) == pytest.approx(1.1119508, abs=1e-6)
    assert distance_km(0, 0, 1, 0) == pytest.approx(111.19508, abs=1e-5)  # one whole degree


def test_a_hundredth_of_a_degree_of_longitude_shrinks_with_cos_latitude():
    # At 23 deg N: 1.1119508 km * cos(23 deg) = 1.1119508 * 0.9205049 = 1.0235561 km.
    assert distance_km(23.0, 113.7, 23.0, 113.71) == pytest.approx(1.0235561, abs=1e-6)
    # On the equator a degree of longitude is a degree of latitude.
    assert distance_km(0, 0, 0, 1) == pytest.approx(111.19508, abs=1e-5)


def test_distance_is_symmetric_and_zero_at_the_same_point():
    assert distance_km(LAT, LON, LAT, LON) == 0
    # Guangzhou (23.13 N, 113.26 E) to Dongguan, about 51 km as the crow flies.
    there = distance_km(23.13, 113.26, LAT, LON)
    assert there == distance_km(LAT, LON, 23.13, 113.26) and 50 < there < 52


def test_offset_north_east_south_west():
    # North 1.1119508 km (0.01 deg of arc) adds 0.01 deg of latitude and no longitude.
    lat, lon = offset(23.0, 113.7, 1.1119508, 0)
    assert lat == pytest.approx(23.01, abs=1e-8) and lon == pytest.approx(113.7, abs=1e-12)
    # East along the equator: one degree of arc is one degree of longitude.
    lat, lon = offset(0.0, 0.0, 111.19508, 90)
    assert lat == pytest.approx(0.0, abs=1e-12) and lon == pytest.approx(1.0, abs=1e-6)
    # A negative distance goes the other way: 1 km "north" backwards is 1 km south.
    assert offset(LAT, LON, -1.0, 0) == pytest.approx(offset(LAT, LON, 1.0, 180), abs=1e-12)
    # West 1.0235561 km at 23 deg N is 0.01 deg of longitude (to within the great circle's
    # slight bend towards the pole: under 1e-6 deg over a kilometre).
    lat, lon = offset(23.0, 113.71, 1.0235561, 270)
    assert lon == pytest.approx(113.70, abs=1e-6) and lat == pytest.approx(23.0, abs=1e-6)


@pytest.mark.parametrize("km", [0.05, 1.0, 3.0, 25.0])
@pytest.mark.parametrize("heading", [0, 37.5, 90, 180, 233, 359])
def test_offset_is_the_inverse_of_distance_and_bearing(km, heading):
    lat, lon = offset(LAT, LON, km, heading)
    assert distance_km(LAT, LON, lat, lon) == pytest.approx(km, rel=1e-9)
    assert bearing(LAT, LON, lat, lon) == pytest.approx(heading, abs=1e-6)


def test_bearing_points_by_the_compass():
    assert bearing(0, 0, 1, 0) == 0  # north
    assert bearing(0, 0, 0, 1) == 90  # east
    assert bearing(23, 113, 22.9, 113) == 180  # south
    # Due west along a parallel, the great circle first heads a little north of west.
    assert 270 < bearing(23, 113, 23, 112.9) < 270.1


def test_the_bounding_box_of_a_3_km_circle():
    box = bounding_box(LAT, LON, 3.0)
    # 3 km of arc is 3 / 6371.0088 rad = 0.00047088 rad = 0.0269796 deg of latitude.
    assert box.lat_max - LAT == pytest.approx(0.0269796, abs=1e-7)
    assert LAT - box.lat_min == pytest.approx(0.0269796, abs=1e-7)
    # Longitude: asin(sin(0.00047088) / cos(23.02 deg)) = asin(0.00047088 / 0.9203684)
    # = 0.00051162 rad = 0.0293139 deg; a plain 0.0269796 / 0.9203684 = 0.0293139 agrees
    # to 1e-7 this close to the equator.
    assert box.lon_max - LON == pytest.approx(0.0293139, abs=1e-7)
    assert LON - box.lon_min == pytest.approx(0.0293139, abs=1e-7)
    # Every point on the circle lies in the box, and the box touches the circle (each edge is
    # pushed out by 1e-9 deg, ~0.1 mm, so that rounding never drops a point exactly 3 km away).
    widest = max(offset(LAT, LON, 3.0, b / 10)[1] for b in range(3600))
    assert widest <= box.lon_max and box.lon_max - widest < 2e-9
    for heading in range(0, 360, 5):
        lat, lon = offset(LAT, LON, 3.0, heading)
        assert box.lat_min <= lat <= box.lat_max and box.lon_min <= lon <= box.lon_max


def test_a_box_around_a_pole_spans_every_longitude():
    box = bounding_box(89.99, 0.0, 5.0)
    assert (box.lon_min, box.lon_max, box.lat_max) == (-180.0, 180.0, 90.0)
    assert bounding_box(LAT, LON, 0.0) == pytest.approx((LAT, LAT, LON, LON), abs=2e-9)
    assert math.isclose(bounding_box(-LAT, LON, 3.0).lat_min, -LAT - 0.0269796, abs_tol=1e-7)
