"""db.geo.map_data: the map's points from a small database, one query per layer, no Qt."""
from __future__ import annotations

import ast
import datetime as dt
import json
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, select

from db.cases.workflow import State
from db.geo import map_data
from db.models import BlackSpot, Camera, Grid, Sensor, Staff, StaffPosition, Town
from tests.helpers import CENTRE, case_in_state, report

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
NOW = dt.datetime(2025, 3, 4, 2, 0, tzinfo=dt.UTC)


@contextmanager
def count_selects(database):
    """Counts the SELECT statements sent to the database inside the block."""
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", before)


def _town_ids(env) -> list[int]:
    with env.database.read() as s:
        return list(s.scalars(select(Town.id).where(Town.city_id == env.city_id).order_by(Town.id)))


def _hexagon(lat: float, lon: float, r: float = 0.01) -> str:
    ring = [[lon + r, lat], [lon + r / 2, lat + r], [lon - r / 2, lat + r], [lon - r, lat],
            [lon - r / 2, lat - r], [lon + r / 2, lat - r], [lon + r, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


@pytest.fixture
def world(env):
    """Reference data plus a few grids, people, devices and black spots."""
    t1, t2 = _town_ids(env)[:2]
    lat, lon = CENTRE
    with env.database.write() as s:
        s.add_all([
            Grid(id=901, code="G-901", name="东城中心区网格", town_id=t1, polygon_geojson=_hexagon(lat, lon),
                 center_lat=lat, center_lon=lon),
            Grid(id=902, code="G-902", name="南城一网格", town_id=t2,
                 polygon_geojson=_hexagon(lat - 0.03, lon), center_lat=lat - 0.03, center_lon=lon),
        ])
        s.add_all([
            Staff(id=801, code="S801", name="李网格", title="协管员", town_id=t1),
            Staff(id=802, code="S802", name="王巡查", title="事业编", town_id=t2),
            Staff(id=803, code="S803", name="赵离职", title="协管员", town_id=t1, active=False),
            Staff(id=804, code="S804", name="陈内勤", title="公务员", town_id=t1),  # no position
        ])
        s.flush()
        s.add_all([
            StaffPosition(staff_id=801, lat=lat, lon=lon, at=NOW - dt.timedelta(minutes=30), on_duty=True),
            StaffPosition(staff_id=802, lat=lat - 0.02, lon=lon + 0.01, at=NOW, on_duty=False),
            StaffPosition(staff_id=803, lat=lat, lon=lon, at=NOW, on_duty=True),
        ])
        s.add_all([
            Camera(id=701, code="CAM-1", name="东城路口", lat=lat, lon=lon, town_id=t1,
                   stream_url="rtsp://127.0.0.1/cam1", kind="ptz", analytics=True),
            Camera(id=702, code="CAM-2", name="旧路口", lat=lat, lon=lon, town_id=t1,
                   stream_url="rtsp://127.0.0.1/cam2", active=False),
        ])
        water = json.dumps({"blue": 0.15, "yellow": 0.3, "orange": 0.5, "red": 0.8})
        gas = json.dumps({"alarm": 20, "cutoff": 35})
        s.add_all([
            Sensor(id=601, code="WL-1", name="隧道积水", kind="water_level", unit="m", lat=lat,
                   lon=lon, town_id=t1, thresholds_json=water, last_value=0.35, last_at=NOW),
            Sensor(id=602, code="WL-2", name="涵洞积水", kind="water_level", unit="m", lat=lat,
                   lon=lon, town_id=t1, thresholds_json=water, last_value=0.01, last_at=NOW),
            Sensor(id=603, code="GAS-1", name="餐饮街燃气", kind="gas", unit="%LEL", lat=lat,
                   lon=lon, town_id=t2, thresholds_json=gas, last_value=36.0, last_at=NOW),
            Sensor(id=604, code="WL-3", name="新装未读", kind="water_level", unit="m", lat=lat,
                   lon=lon, town_id=t2, thresholds_json=water, last_value=None),
        ])
        s.add_all([
            BlackSpot(id=501, code="HD-1", name="市场口垃圾点", category="market", town_id=t1,
                      lat=lat, lon=lon, found_at=NOW, failed_rechecks=2),
            BlackSpot(id=502, code="HD-2", name="已销号点", category="road", town_id=t2, lat=lat,
                      lon=lon, found_at=NOW, status="removed", removed_at=NOW),
        ])
    return env


def test_base_layers_outline_towns_and_grids(world):
    with world.database.read() as s, count_selects(world.database) as selects:
        base = map_data.base_layers(s, world.city_id)
    assert len(selects) == 3  # city, towns, grids
    assert base.city_name == "东莞市"
    assert base.outline["type"] == "Feature"
    assert base.outline["geometry"]["type"] in ("Polygon", "MultiPolygon")
    with world.database.read() as s:
        towns = s.scalar(select(Town.id).where(Town.name == "东城街道"))
        n_towns = len(_town_ids(world))
    assert len(base.towns) == n_towns
    dongcheng = next(t for t in base.towns if t.id == towns)
    assert dongcheng.name == "东城街道" and dongcheng.lat is not None
    (south, west), (north, east) = base.bounds
    assert south < base.center[0] < north and west < base.center[1] < east
    grids = base.grids
    assert grids["type"] == "FeatureCollection"
    assert [(f["properties"]["id"], f["properties"]["name"]) for f in grids["features"]] == [
        (901, "东城中心区网格"), (902, "南城一网格")]
    assert grids["features"][0]["geometry"]["type"] == "Polygon"
    json.dumps(base.to_dict())  # JSON-ready as it is


def test_base_layers_unknown_city(world):
    with world.database.read() as s, pytest.raises(LookupError):
        map_data.base_layers(s, 999_999)


def test_case_points_are_the_open_cases(world):
    handling = case_in_state(world, State.HANDLING)
    fresh = report(world, title=HOSTILE, description=HOSTILE + " 路面破损", urgency="urgent")
    closed = case_in_state(world, State.CLOSED)
    void = case_in_state(world, State.VOID)
    with world.database.read() as s, count_selects(world.database) as selects:
        points = map_data.case_points(s, world.city_id)
    assert len(selects) == 1
    by_id = {p.id: p for p in points}
    assert set(by_id) == {handling.case_id, fresh.case_id}
    assert closed.case_id not in by_id and void.case_id not in by_id

    h = by_id[handling.case_id]
    assert h.state == "handling" and h.urgency == "normal"
    assert h.class_name and h.limit_amount > 0 and h.limit_unit == "work_hours"
    assert h.town == "东城街道"
    assert (h.lat, h.lon) == pytest.approx(CENTRE)
    assert h.deadline_at is not None
    assert h.deadline.tzinfo is not None and h.deadline.utcoffset() == dt.timedelta(0)
    with world.database.read() as s:
        from db.models import Case

        stored = s.get(Case, handling.case_id)
        assert h.deadline == stored.deadline_at and h.number == stored.number

    f = by_id[fresh.case_id]
    assert f.state == "pending_accept" and f.urgency == "urgent"
    assert f.deadline_at is None and f.deadline is None and f.class_name == ""
    # The data layer passes text through untouched; escaping is the page's job.
    assert f.title == HOSTILE
    assert f.summary == (HOSTILE + " 路面破损")[:map_data.SUMMARY_CHARS]
    json.dumps([p.to_dict() for p in points])


def test_case_points_by_ids_tell_which_are_gone(world):
    a = case_in_state(world, State.PENDING_DISPATCH)
    b = case_in_state(world, State.CLOSED)
    with world.database.read() as s:
        points = map_data.case_points(s, world.city_id, ids=[a.case_id, b.case_id, 123456])
        assert map_data.case_points(s, world.city_id, ids=[]) == []
        many = map_data.case_points(s, world.city_id, ids=list(range(1, 2500)) + [a.case_id])
    assert [p.id for p in points] == [a.case_id]  # closed and unknown ids: remove their markers
    assert [p.id for p in many] == [a.case_id]


def test_staff_points(world):
    with world.database.read() as s, count_selects(world.database) as selects:
        points = map_data.staff_points(s, world.city_id)
    assert len(selects) == 1
    assert [(p.id, p.name, p.on_duty) for p in points] == [(801, "李网格", True), (802, "王巡查", False)]
    assert points[1].lat == pytest.approx(CENTRE[0] - 0.02)
    assert dt.datetime.fromisoformat(points[1].at) == NOW
    with world.database.read() as s:
        recent = map_data.staff_points(s, world.city_id, since=NOW - dt.timedelta(minutes=5))
    assert [p.id for p in recent] == [802]


def test_camera_points(world):
    with world.database.read() as s, count_selects(world.database) as selects:
        points = map_data.camera_points(s, world.city_id)
    assert len(selects) == 1
    assert [p.to_dict() for p in points] == [{
        "id": 701, "code": "CAM-1", "name": "东城路口", "lat": CENTRE[0], "lon": CENTRE[1],
        "kind": "ptz", "analytics": True, "town": "东城街道"}]


def test_sensor_points_carry_their_level(world):
    with world.database.read() as s, count_selects(world.database) as selects:
        points = map_data.sensor_points(s, world.city_id)
    assert len(selects) == 1
    assert {p.code: (p.kind, p.last_value, p.level) for p in points} == {
        "WL-1": ("water_level", 0.35, "yellow"), "WL-2": ("water_level", 0.01, "normal"),
        "GAS-1": ("gas", 36.0, "cutoff"), "WL-3": ("water_level", None, "unknown")}
    with world.database.read() as s:
        assert [p.id for p in map_data.sensor_points(s, world.city_id, ids=[603])] == [603]


def test_black_spot_points_are_the_active_ones(world):
    with world.database.read() as s, count_selects(world.database) as selects:
        points = map_data.black_spot_points(s, world.city_id)
    assert len(selects) == 1
    assert [(p.id, p.category, p.town, p.failed_rechecks) for p in points] == [
        (501, "market", "东城街道", 2)]


def test_map_data_imports_no_qt():
    source = Path(map_data.__file__).read_text(encoding="utf-8")
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    assert not [n for n in names if n.split(".")[0] in {"PySide6", "shiboken6", "PyQt5",
                                                         "PyQt6", "desktop", "folium"}]
