"""db/cameras.py: the cameras nearest a place and cameras by id, on both engines."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from db.devices.cameras import CameraInfo, camera_info, cameras_around, nearest_cameras
from db.geo import distance
from db.geo.distance import distance_km
from db.models import Camera, City, Town

LAT, LON = 23.02, 113.75  # 东莞 city centre


def offset(km_north: float, km_east: float) -> tuple[float, float]:
    """A point so many km north of the centre, then so many km east of that."""
    return distance.offset(*distance.offset(LAT, LON, km_north, 0), km_east, 90)


def add_cameras(env, rows: list[dict]) -> None:
    with env.database.write() as s:
        for row in rows:
            s.add(Camera(**{"stream_url": f"http://127.0.0.1:8890/cam/{row['code']}.ts",
                            "kind": "fixed", "active": True, **row}))


def towns(env) -> tuple[int, str, int]:
    """Two towns of the test city: (id, name) of the first and the id of the second."""
    with env.database.read() as s:
        first, second = s.execute(select(Town.id, Town.name).where(Town.city_id == env.city_id)
                                  .order_by(Town.id).limit(2)).all()
    return first[0], first[1], second[0]


def test_distance_is_the_great_circle():
    assert distance_km(LAT, LON, LAT, LON) == 0
    assert abs(distance_km(0, 0, 1, 0) - 111.19) < 0.01  # one degree of latitude
    # Guangzhou to Dongguan, about 50 km as the crow flies.
    assert 45 < distance_km(23.13, 113.26, 23.02, 113.75) < 55


def test_nearest_first_within_range_active_only(env):
    town_id, town_name, _ = towns(env)
    spots = {"C-500M": (0.5, 0), "C-1KM": (0, -1.0), "C-2KM": (-1.2, 1.6), "C-2.9KM": (0, 2.9),
             "C-3.2KM": (3.2, 0), "C-OFF": (0.1, 0.1), "C-CORNER": (2.2, 2.2)}
    rows = []
    for k, (code, (north, east)) in enumerate(spots.items()):
        lat, lon = offset(north, east)
        rows.append({"id": 900 + k, "code": code, "name": f"{code}路口", "lat": lat, "lon": lon,
                     "town_id": town_id, "active": code != "C-OFF"})
    add_cameras(env, rows)
    with env.database.read() as s:
        got = nearest_cameras(s, env.city_id, LAT, LON, n=10, max_km=3.0)
    # C-CORNER is inside the SQL box (2.2 km each way) but 3.1 km away: the exact distance
    # drops it; C-3.2KM is outside the box; C-OFF is not active.
    assert [c.code for c in got] == ["C-500M", "C-1KM", "C-2KM", "C-2.9KM"]
    first = got[0]
    assert isinstance(first, CameraInfo)
    assert first.town_name == town_name and first.kind == "fixed"
    assert first.stream_url == "http://127.0.0.1:8890/cam/C-500M.ts"
    assert abs(distance_km(LAT, LON, first.lat, first.lon) - 0.5) < 0.01
    with env.database.read() as s:
        assert [c.code for c in nearest_cameras(s, env.city_id, LAT, LON, n=2)] == [
            "C-500M", "C-1KM"]
        assert [c.code for c in nearest_cameras(s, env.city_id, LAT, LON, n=4, max_km=1.5)] == [
            "C-500M", "C-1KM"]
        assert nearest_cameras(s, env.city_id, LAT, LON, n=0) == []
        far = offset(30, 30)
        assert nearest_cameras(s, env.city_id, *far) == []


def test_other_cities_cameras_are_not_offered(env):
    town_id, _, _ = towns(env)
    with env.database.write() as s:
        other = City(code="999999", name="邻市", center_lat=LAT, center_lon=LON)
        s.add(other)
        s.flush()
        other_town = Town(city_id=other.id, code="999999001", name="邻镇", kind="镇")
        s.add(other_town)
        s.flush()
        other_town_id = other_town.id
    lat, lon = offset(0.2, 0)
    add_cameras(env, [
        {"id": 950, "code": "MINE", "name": "本市", "lat": lat, "lon": lon, "town_id": town_id},
        {"id": 951, "code": "THEIRS", "name": "邻市", "lat": LAT, "lon": LON,
         "town_id": other_town_id},
        {"id": 952, "code": "NOTOWN", "name": "无镇", "lat": lat, "lon": lon + 0.001,
         "town_id": None}])
    with env.database.read() as s:
        got = nearest_cameras(s, env.city_id, LAT, LON, n=5)
    assert [c.code for c in got] == ["MINE", "NOTOWN"]
    assert got[1].town_name is None


def test_camera_info_keeps_the_order_asked(env):
    town_id, town_name, _ = towns(env)
    add_cameras(env, [{"id": 960 + k, "code": f"K{k}", "name": f"路口{k}", "lat": LAT, "lon": LON,
                       "town_id": town_id, "active": k != 1} for k in range(3)])
    with env.database.read() as s:
        got = camera_info(s, [962, 12345, 960, 961, 962])
        assert camera_info(s, []) == []
    assert [c.id for c in got] == [962, 960, 961]  # unknown left out, duplicate once
    assert got[1] == CameraInfo(960, "K0", "路口0", LAT, LON,
                                "http://127.0.0.1:8890/cam/K0.ts", "fixed", town_name)


def test_nearest_scales_to_many_cameras_by_the_box(env):
    """20,000 cameras over the city: the answer equals a brute-force ranking, and only the
    rows in the box come back from SQL."""
    town_id, _, second_town = towns(env)
    rng = random.Random(4)
    rows = []
    for k in range(20_000):
        lat, lon = offset(rng.uniform(-25, 25), rng.uniform(-25, 25))
        rows.append({"id": 10_000 + k, "code": f"M{k:05d}", "name": "路口", "lat": lat, "lon": lon,
                     "town_id": town_id if k % 2 else second_town, "stream_url": "",
                     "kind": "dome", "active": True})
    with env.database.write() as s:
        s.execute(Camera.__table__.insert(), rows)
    here = offset(3.3, -7.1)
    with env.database.read() as s:
        assert s.scalar(select(func.count()).select_from(Camera)) >= 20_000
        got = nearest_cameras(s, env.city_id, *here, n=9, max_km=2.0)
    expected = sorted((distance_km(*here, r["lat"], r["lon"]), r["id"]) for r in rows)
    expected = [i for d, i in expected if d <= 2.0][:9]
    assert len(got) == 9
    assert [c.id for c in got] == expected


def test_a_nine_tile_wall_fills_from_further_out_and_says_how_far(env):
    """Issue "The desk at 3 a.m." (15): five cameras within 3 km, four between 3 and 6 km,
    one at 8 km. A 3×3 wall asks for nine: 3 km holds five, so the search widens to 6 km,
    which holds all nine (the 8 km one stays out), nearest first."""
    town_id, _, _ = towns(env)
    # Due north of the centre, so each camera is exactly that many km away (distance.offset
    # is the exact inverse of distance_km).
    spots = [0.5, 1.0, 1.5, 2.0, 2.5, 3.5, 4.0, 4.5, 5.2, 8.0]
    add_cameras(env, [{"id": 700 + k, "code": f"W{km}", "name": "路口", "lat": offset(km, 0)[0],
                       "lon": LON, "town_id": town_id} for k, km in enumerate(spots)])
    with env.database.read() as s:
        nine = cameras_around(s, env.city_id, LAT, LON, n=9)
        four = cameras_around(s, env.city_id, LAT, LON, n=4)
        ten = cameras_around(s, env.city_id, LAT, LON, n=10)
        strict = nearest_cameras(s, env.city_id, LAT, LON, n=9)  # 3 km only, as before
        by_id = camera_info(s, [700])
    assert [c.id for c in nine] == list(range(700, 709))
    # The farthest of the nine is the 5.2 km one: the wall says "farthest 5.2 km".
    assert max(c.distance_km for c in nine) == pytest.approx(5.2, abs=1e-6)
    assert [c.distance_km for c in nine] == pytest.approx(spots[:9], abs=1e-6)
    # Four are found within 3 km: no widening, the farthest is 2.0 km.
    assert [c.id for c in four] == [700, 701, 702, 703]
    assert four[-1].distance_km == pytest.approx(2.0, abs=1e-6)
    # Ten: 6 km holds nine, 12 km holds the tenth (8 km).
    assert len(ten) == 10 and ten[-1].distance_km == pytest.approx(8.0, abs=1e-6)
    assert [c.id for c in strict] == [700, 701, 702, 703, 704]
    assert by_id[0].distance_km is None  # looked up by id: no place to measure from
    with env.database.read() as s:
        assert cameras_around(s, env.city_id, *offset(40, 40), n=9) == []  # none within 12 km
