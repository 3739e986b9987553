"""The control room's situation at the demo's "now": what the sensors read over the last day
(quiet, except for three water sensors and one gas sensor climbing over the last two hours, so
that yellow, orange and red water alerts and a gas alarm are waiting), a few camera detections
and the 110/119 transfers waiting in the alert panel: the same kinds of alarm the live simulator
(:mod:`db.demo.simulate`) goes on raising. :mod:`db.demo.devices` places the sensors and turns
their last readings into alerts through :func:`db.alerts.sensors.reading_alarm`.
"""
from __future__ import annotations

import datetime as dt
import random

from db.demo.world import _World
from db.worktime.clock import SHANGHAI

#: How far the rising sensors climb over the last two hours, in the order they come: three water
#: sensors (to yellow, orange and red, in metres) and one gas sensor (past its alarm, %LEL).
RISE_PEAKS = (0.34, 0.58, 0.86, 23.5)


def _rising_sensors(rng: random.Random, water: int, gas: int) -> dict[int, float]:
    """The sensors rising now, by position (water sensors first, then gas), with their climb."""
    rising = set(rng.sample(range(water), 3)) | {water + rng.randrange(gas)}
    return dict(zip(sorted(rising), RISE_PEAKS))


def _day_of_readings(rng: random.Random, w: _World, sensor_id: int, base: float, noise: float,
                     digits: int, peak: float, last_at: dt.datetime) -> list[dict]:
    """A day of readings every ten minutes up to ``last_at``: ``base`` plus noise, climbing by
    ``peak`` over the last two hours (nothing for a quiet sensor)."""
    readings = []
    for k in range(144):  # 24 h every 10 minutes
        climb = peak * max(0.0, (k - 131) / 12)  # the last two hours
        value = round(max(0.0, base + climb + rng.gauss(0.0, noise)), digits)
        readings.append({"id": w.next_id("sensor_reading"), "sensor_id": sensor_id,
                         "at": last_at - dt.timedelta(minutes=10 * (143 - k)), "value": value})
    return readings


def _current_incidents(rng: random.Random, w: _World, cameras: list[dict]) -> list[dict]:
    """A few camera detections and 110/119 transfers waiting in the alert panel."""
    out = []
    for cam, (label, zh, severity) in zip(
            rng.sample([c for c in cameras if c["analytics"]], 3),
            (("garbage", "暴露垃圾", "minor"), ("street_vending", "占道经营", "minor"),
             ("smoke", "烟雾", "major"))):
        out.append({"source": "camera", "type": f"video:{label}", "severity": severity,
                    "dedup_key": f"camera:{cam['id']}:video:{label}",
                    "title": f"{cam['name']}视频识别：{zh}", "detail": f"智能分析发现{zh}",
                    "lat": cam["lat"], "lon": cam["lon"], "town_id": cam["town_id"],
                    "camera_id": cam["id"]})
    for n, (source, zh, severity) in enumerate((("110", "交通事故占道", "major"),
                                                ("119", "广告牌松动有坠落危险", "critical"))):
        town = rng.choice(w.towns)
        lat, lon = w.point_in(rng, town.pick_grid(rng))
        number = f"{source}{w.now.astimezone(SHANGHAI):%Y%m%d}{n + 1:04d}"
        out.append({"source": source, "type": "transfer", "severity": severity,
                    "dedup_key": f"{source}:{number}", "title": f"{source}转办：{zh}",
                    "detail": f"{town.name}，接警单号 {number}。", "lat": lat, "lon": lon,
                    "town_id": town.id})
    return out
