"""Sensor readings and the alarms they raise: the one rule, in one place.

A sensor's thresholds (JSON on its row) name levels by the value where each begins: water level
``blue`` 0.15 < ``yellow`` 0.3 < ``orange`` 0.5 < ``red`` 0.8 metres, gas ``alarm`` 20 <
``cutoff`` 35 %LEL (:data:`STANDARD_THRESHOLDS`). A reading is at the highest level whose
threshold it reaches (``>=``), ``normal`` below them all (:func:`sensor_level`); every level
raises an alert of a fixed severity, named in its title by a fixed word (:data:`LEVEL_SEVERITY`,
:data:`LEVEL_LABELS`). :func:`reading_alarm` applies the whole rule to one reading and gives the
alarm dict :func:`db.alerts.lifecycle.raise_alerts` takes, or ``None`` below the lowest
threshold; the demo's rising sensors (:mod:`db.demo.devices`) and the simulator's readings
(:mod:`db.demo.simulate`) both go through it, the map colours sensors by :func:`sensor_level`
(:mod:`db.geo.map_data`) and the trend plot draws the lines :func:`parse_thresholds` reads
(:func:`db.alerts.lifecycle.sensor_info`).

A reading is a finite number: a string, NaN or infinity is refused with a
:class:`~db.core.errors.ValidationError` (:mod:`db.core.validate`), never ranked (NaN compares
below every threshold and would read "normal"; infinity above them all). Readings enter the
database through :func:`db.alerts.ingest.record_readings`, which applies this rule.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from db.core import validate

#: The thresholds every demo sensor of a kind is given: water level in metres, gas in %LEL.
STANDARD_THRESHOLDS: dict[str, dict[str, float]] = {
    "water_level": {"blue": 0.15, "yellow": 0.3, "orange": 0.5, "red": 0.8},
    "gas": {"alarm": 20, "cutoff": 35},
}
#: The unit a sensor of a kind reads in.
UNITS = {"water_level": "m", "gas": "%LEL"}
#: What a sensor of a kind measures, as an alert title says it.
MEASURES = {"water_level": "积水", "gas": "燃气浓度"}
#: The alert severity each level raises; ``normal`` and ``unknown`` raise none.
LEVEL_SEVERITY = {"blue": "warning", "yellow": "minor", "orange": "major", "red": "critical",
                  "alarm": "major", "cutoff": "critical"}
#: The word an alert title names each level by.
LEVEL_LABELS = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色",
                "alarm": "报警", "cutoff": "切断"}
ALERT_TITLE_CHARS = 120  # the alert title column


def parse_thresholds(thresholds_json: str | None) -> dict[str, float] | None:
    """The thresholds as ``{level: value}`` from lowest to highest value (ties keep their
    order), ``{}`` for none; ``None`` when missing or unreadable (not a JSON object of
    numbers)."""
    try:
        raw = json.loads(thresholds_json or "")
        parsed = {str(k): float(v) for k, v in raw.items()}
    except (ValueError, TypeError, AttributeError):
        return None
    return dict(sorted(parsed.items(), key=lambda kv: kv[1]))


def sensor_level(value: float | None, thresholds_json: str | None) -> str:
    """The highest threshold ``value`` reaches, by name, or ``normal``; ``unknown`` without a
    reading or with unreadable thresholds.

    Water level: ``blue`` < ``yellow`` < ``orange`` < ``red`` (metres); gas: ``alarm`` <
    ``cutoff`` (%LEL). Any other names work the same way: they are ordered by their values.
    """
    if value is None:
        return "unknown"
    thresholds = parse_thresholds(thresholds_json)
    if thresholds is None:
        return "unknown"
    for limit, name in sorted(((v, k) for k, v in thresholds.items()), reverse=True):
        if value >= limit:
            return name
    return "normal"


@dataclass(frozen=True)
class SensorSite:
    """What an alarm says about the sensor that raised it."""

    id: int
    kind: str  # water_level / gas
    name: str
    lat: float
    lon: float
    thresholds_json: str
    town_id: int | None = None
    town_name: str = ""  # for the detail line; "" when the sensor has no town


def reading_alarm(sensor: SensorSite, value: float) -> dict | None:
    """The alarm one reading of ``sensor`` raises, as :func:`db.alerts.lifecycle.raise_alerts`
    takes it, or ``None`` when the reading is below every threshold (or they are unreadable).

    The reading's time is not part of the alarm: it is the ``now`` the caller passes to
    ``raise_alerts`` with it. One key per sensor and kind (``sensor:<id>:<kind>``), so the
    readings of a rising sensor repeat one alert and raise its severity as they climb. A value
    that is not a finite number is refused (``ValidationError``), never ranked.
    """
    validate.finite_number(value, "读数")  # checked; shown in the detail as it came
    level = sensor_level(value, sensor.thresholds_json)
    severity = LEVEL_SEVERITY.get(level)
    if severity is None:
        return None
    measure = MEASURES.get(sensor.kind, "读数")
    unit = UNITS.get(sensor.kind, "")
    return {"source": "sensor", "type": sensor.kind, "severity": severity,
            "dedup_key": f"sensor:{sensor.id}:{sensor.kind}",
            "title": f"{sensor.name}{measure}{LEVEL_LABELS[level]}预警"[:ALERT_TITLE_CHARS],
            "detail": f"{sensor.town_name} {sensor.name} 读数 {value} {unit}",
            "lat": sensor.lat, "lon": sensor.lon, "town_id": sensor.town_id,
            "sensor_id": sensor.id, "camera_id": None, "value": value}


__all__ = ["LEVEL_LABELS", "LEVEL_SEVERITY", "MEASURES", "STANDARD_THRESHOLDS", "UNITS",
           "SensorSite", "parse_thresholds", "reading_alarm", "sensor_level"]
