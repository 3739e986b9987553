"""The control room's situation at the demo's "now": the alerts the rising sensors have raised,
a few camera detections and the 110/119 transfers waiting in the alert panel, the same kinds of
alarm the live simulator (:mod:`db.demo.simulate`) goes on raising.
"""
from __future__ import annotations

import json
import random

from db.alerts.lifecycle import LEVEL_LABELS, LEVEL_SEVERITY
from db.demo.world import _Town, _World
from db.geo.map_data import sensor_level
from db.worktime.clock import SHANGHAI


def _sensor_alarm(sensor: dict, town: _Town, value: float, thresholds: dict) -> dict | None:
    """The alert a rising sensor has raised by now (the simulator raises the same ones live)."""
    level = sensor_level(value, json.dumps(thresholds))
    severity = LEVEL_SEVERITY.get(level)
    if severity is None:
        return None
    what = "积水" if sensor["kind"] == "water_level" else "燃气浓度"
    return {"source": "sensor", "type": sensor["kind"], "severity": severity,
            "title": f"{sensor['name']}{what}{LEVEL_LABELS[level]}预警"[:120],
            "detail": f"{town.name} {sensor['name']} 读数 {value} {sensor['unit']}",
            "lat": sensor["lat"], "lon": sensor["lon"], "town_id": sensor["town_id"],
            "sensor_id": sensor["id"], "value": value}


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
