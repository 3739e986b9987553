"""The sensor rule, worked by hand: a reading reaches the highest threshold at or below it
(``>=``), that level raises a fixed severity, and below every threshold nothing is raised.

Standard thresholds: water level blue 0.15 < yellow 0.3 < orange 0.5 < red 0.8 m;
gas alarm 20 < cutoff 35 %LEL. Levels → severity: blue warning, yellow minor, orange major,
red critical; gas alarm major, cutoff critical.
"""
from __future__ import annotations

import json

import pytest

from db.alerts.sensors import (
    LEVEL_SEVERITY,
    STANDARD_THRESHOLDS,
    SensorSite,
    parse_thresholds,
    reading_alarm,
    sensor_level,
)

WATER = json.dumps(STANDARD_THRESHOLDS["water_level"])
GAS = json.dumps(STANDARD_THRESHOLDS["gas"])


def _water(value):
    site = SensorSite(11, "water_level", "万江街道环城路下穿隧道积水监测点", 23.05, 113.72,
                      WATER, town_id=4, town_name="万江街道")
    return reading_alarm(site, value)


def _gas(value):
    site = SensorSite(12, "gas", "东城街道餐饮街燃气监测点", 23.02, 113.77, GAS, town_id=5,
                      town_name="东城街道")
    return reading_alarm(site, value)


def test_the_standard_thresholds_are_the_documented_ones():
    assert STANDARD_THRESHOLDS == {
        "water_level": {"blue": 0.15, "yellow": 0.3, "orange": 0.5, "red": 0.8},
        "gas": {"alarm": 20, "cutoff": 35}}


@pytest.mark.parametrize("value, level, severity, why", [
    (0.0, "normal", None, "a dry road is below blue"),
    (0.149, "normal", None, "0.149 < 0.15: one millimetre short of blue raises nothing"),
    (0.15, "blue", "warning", "0.15 >= 0.15: reaching a threshold exactly is that level"),
    (0.299, "blue", "warning", "0.15 <= 0.299 < 0.3: still blue"),
    (0.3, "yellow", "minor", "0.3 >= 0.3"),
    (0.499, "yellow", "minor", "0.3 <= 0.499 < 0.5"),
    (0.5, "orange", "major", "0.5 >= 0.5"),
    (0.799, "orange", "major", "0.5 <= 0.799 < 0.8"),
    (0.8, "red", "critical", "0.8 >= 0.8"),
    (2.0, "red", "critical", "above the top threshold stays at the top level"),
])
def test_water_level_at_each_threshold_edge(value, level, severity, why):
    assert sensor_level(value, WATER) == level, why
    alarm = _water(value)
    if severity is None:
        assert alarm is None, why
    else:
        assert alarm["severity"] == severity == LEVEL_SEVERITY[level], why


@pytest.mark.parametrize("value, level, severity, why", [
    (19.9, "normal", None, "19.9 < 20 %LEL: below the alarm threshold raises nothing"),
    (20, "alarm", "major", "20 >= 20: the alarm threshold reached exactly"),
    (34.9, "alarm", "major", "20 <= 34.9 < 35"),
    (35, "cutoff", "critical", "35 >= 35: the cutoff threshold (gas supply shut off)"),
])
def test_gas_at_its_thresholds(value, level, severity, why):
    assert sensor_level(value, GAS) == level, why
    alarm = _gas(value)
    assert (alarm and alarm["severity"]) == severity, why


def test_the_whole_alarm_of_a_reading():
    # 0.5 m reaches orange (0.5 >= 0.5, < 0.8): severity major, titled 橙色.
    assert _water(0.5) == {
        "source": "sensor", "type": "water_level", "severity": "major",
        "dedup_key": "sensor:11:water_level",
        "title": "万江街道环城路下穿隧道积水监测点积水橙色预警",
        "detail": "万江街道 万江街道环城路下穿隧道积水监测点 读数 0.5 m",
        "lat": 23.05, "lon": 113.72, "town_id": 4, "sensor_id": 11, "camera_id": None,
        "value": 0.5}
    # 35 %LEL reaches cutoff: critical, titled 切断; the key is per sensor and kind, so a
    # rising reading repeats (and escalates) one alert.
    gas = _gas(35)
    assert (gas["title"], gas["severity"], gas["dedup_key"], gas["detail"]) == (
        "东城街道餐饮街燃气监测点燃气浓度切断预警", "critical", "sensor:12:gas",
        "东城街道 东城街道餐饮街燃气监测点 读数 35 %LEL")
    assert _gas(20)["dedup_key"] == gas["dedup_key"]


def test_a_long_name_is_cut_to_the_title_column():
    site = SensorSite(1, "gas", "长" * 200, 23.0, 113.7, GAS)
    alarm = reading_alarm(site, 40)
    assert len(alarm["title"]) == 120 and alarm["town_id"] is None
    assert alarm["detail"].startswith(" 长")  # no town: the detail starts with its name


def test_unreadable_thresholds_raise_nothing():
    for bad in ("not json", "[1, 2]", '{"red": "high"}', '{"red": null}', "", None):
        assert sensor_level(5, bad) == "unknown"
        assert parse_thresholds(bad) is None
        assert reading_alarm(SensorSite(1, "gas", "x", 0.0, 0.0, bad), 99) is None
    assert sensor_level(None, WATER) == "unknown"
    assert sensor_level(5, "{}") == "normal" and parse_thresholds("{}") == {}


def test_thresholds_read_lowest_first_whatever_their_order_or_names():
    assert list(parse_thresholds('{"red": 0.8, "blue": 0.15, "orange": "0.5"}').items()) == [
        ("blue", 0.15), ("orange", 0.5), ("red", 0.8)]
    assert sensor_level(7, '{"high": 10, "low": 5}') == "low"


# Moved from tests/db/geo/test_map_data.py with the rule (db.geo.map_data imports it).

@pytest.mark.parametrize("value, level", [
    (None, "unknown"), (0.0, "normal"), (0.15, "blue"), (0.49, "yellow"), (0.5, "orange"),
    (2.0, "red")])
def test_sensor_level_water(value, level):
    thresholds = json.dumps({"blue": 0.15, "yellow": 0.3, "orange": 0.5, "red": 0.8})
    assert sensor_level(value, thresholds) == level


def test_sensor_level_gas_and_bad_thresholds():
    gas = json.dumps({"alarm": 20, "cutoff": 35})
    assert [sensor_level(v, gas) for v in (5, 20, 34.9, 35)] == [
        "normal", "alarm", "alarm", "cutoff"]
    assert sensor_level(5, "not json") == "unknown"
    assert sensor_level(5, "[1, 2]") == "unknown"
