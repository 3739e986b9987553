"""Devices: about 300 cameras (at least two a town, the rest where people and traffic are, a third
with video analytics) and 200 sensors (water-level sensors mostly in the low-lying towns, gas
sensors where people eat and trade) with the standard thresholds of their kind. Each sensor gets
the day of readings :mod:`db.demo.situation` draws for it; the rising ones raise their alerts
through :func:`db.alerts.sensors.reading_alarm`, together with the situation's other incidents.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.orm import Session

from db.alerts.lifecycle import raise_alerts
from db.alerts.sensors import STANDARD_THRESHOLDS, UNITS, SensorSite, reading_alarm
from db.demo.situation import _current_incidents, _day_of_readings, _rising_sensors
from db.demo.vocabulary import ROADS
from db.demo.world import _apportion, _cum, _insert, _rng, _World
from db.models import Camera, Sensor, SensorReading

CAMERAS, WATER_SENSORS, GAS_SENSORS = 300, 140, 60


def _build_devices(session: Session, w: _World) -> tuple[int, int]:
    rng = _rng(w.seed, "devices")
    # Cameras: at least two a town, the rest where people and traffic are.
    per_town = [n + 2 for n in _apportion(CAMERAS - 2 * len(w.towns), [t.weight for t in w.towns])]
    cameras = []
    for town, n in zip(w.towns, per_town):
        roads = rng.sample(ROADS, min(n, len(ROADS)))
        for k in range(n):
            cid = w.next_id("camera")
            code = f"DG-CAM-{len(cameras) + 1:04d}"
            name = f"{town.name}{roads[k % len(roads)]}路口"
            if k >= len(roads):  # more cameras than road names: number the repeats
                name += str(k // len(roads) + 1)
            lat, lon = w.point_in(rng, town.pick_grid(rng))
            analytics = rng.random() < 1 / 3
            if analytics:
                town.cameras.append(name)
            cameras.append({
                "id": cid, "code": code, "name": name, "lat": lat, "lon": lon, "town_id": town.id,
                # Placeholder address: the video work will serve real streams here.
                "stream_url": f"http://127.0.0.1:8890/cam/{code}.ts",
                "kind": rng.choices(("fixed", "ptz", "dome"), cum_weights=(6, 8, 10))[0],
                "analytics": analytics, "active": True})
    _insert(session, Camera.__table__, cameras)

    low = [t for t in w.towns if t.low_lying] or w.towns
    high = [t for t in w.towns if not t.low_lying] or w.towns
    town_cum = _cum([t.weight for t in w.towns])
    high_cum = _cum([t.weight for t in high])
    sensors = []
    last_at = w.now.replace(second=0, microsecond=0) - dt.timedelta(minutes=w.now.minute % 10)
    readings = []
    rising = _rising_sensors(rng, WATER_SENSORS, GAS_SENSORS)  # position -> climb
    alarms = []
    for n in range(WATER_SENSORS + GAS_SENSORS):
        sid = w.next_id("sensor")
        if n < WATER_SENSORS:
            kind = "water_level"
            if rng.random() < 0.7:  # most water sensors watch the low-lying towns
                town = rng.choice(low)
            else:
                town = rng.choices(high, cum_weights=high_cum)[0]
            code = f"DG-WL-{n + 1:04d}"
            spot = rng.choice(("下穿隧道", "低洼路段", "桥底涵洞", "立交桥下"))
            name = f"{town.name}{rng.choice(ROADS)}{spot}积水监测点"
            base, noise, digits = rng.uniform(0.0, 0.03), 0.004, 3  # a dry road: a few cm at most
        else:
            kind = "gas"
            town = rng.choices(w.towns, cum_weights=town_cum)[0]
            code = f"DG-GAS-{n - WATER_SENSORS + 1:04d}"
            village = rng.choice(town.villages).short if town.villages else town.name
            name = f"{town.name}{village}{rng.choice(('餐饮街', '农贸市场', '燃气调压站', '地下管廊'))}燃气监测点"
            base, noise, digits = rng.uniform(0.0, 1.5), 0.3, 1  # clean air reads near zero
        unit, thresholds = UNITS[kind], json.dumps(STANDARD_THRESHOLDS[kind])
        town.sensors[kind].append(name)
        lat, lon = w.point_in(rng, town.pick_grid(rng))
        day = _day_of_readings(rng, w, sid, base, noise, digits, rising.get(n, 0.0), last_at)
        readings += day
        value = day[-1]["value"]
        sensors.append({"id": sid, "code": code, "name": name, "kind": kind, "unit": unit,
                        "lat": lat, "lon": lon, "town_id": town.id,
                        "thresholds_json": thresholds, "last_value": value,
                        "last_at": last_at, "active": True})
        if n in rising:  # the alert it has raised by now (the simulator raises the same live)
            alarms.append(reading_alarm(
                SensorSite(sid, kind, name, lat, lon, thresholds, town.id, town.name), value))
    _insert(session, Sensor.__table__, sensors)
    _insert(session, SensorReading.__table__, readings)
    alarms += _current_incidents(rng, w, cameras)
    raise_alerts(session, [a for a in alarms if a is not None], last_at)
    return len(cameras), len(sensors)
