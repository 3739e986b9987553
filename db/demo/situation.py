"""The control room's situation at the demo's "now" besides the sensors: a few camera detections
and the 110/119 transfers waiting in the alert panel, the same kinds of alarm the live simulator
(:mod:`db.demo.simulate`) goes on raising. (The rising sensors' alerts come from their readings
through :func:`db.alerts.sensors.reading_alarm`, in :mod:`db.demo.devices`.)
"""
from __future__ import annotations

import random

from db.demo.world import _World
from db.worktime.clock import SHANGHAI


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
