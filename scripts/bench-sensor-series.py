#!/usr/bin/env python
# Usage: .venv/bin/python scripts/bench-sensor-series.py sqlite:////tmp/x.sqlite3 postgresql://postgres@127.0.0.1/test
# (scratch databases are made beside the ones named and removed afterwards)
"""Measure db.alerts.lifecycle.sensor_series: 24 h (8,640 readings) and 1,000,000 rows, both engines.

Baselines in the same run: the same rows as ORM objects, and as a Core select of (at, value)
with UTCDateTime conversion per row. Median of 5 runs each, warm cache, after one warm-up.
"""
import datetime as dt
import statistics
import sys
import time

from sqlalchemy import select, text

from db.alerts import lifecycle as alerts
from db.core.scratch import scratch_database
from db.models import Sensor, SensorReading
from db.reference.city import ensure_reference_data

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
N = 1_000_000
OTHER = 199  # other sensors' readings for the last day, interleaved as in a real table

def fill(database):
    ensure_reference_data(database)
    with database.write() as s:
        ids = []
        for i in range(OTHER + 1):
            sensor = Sensor(code=f"S{i}", name=f"S{i}", kind="water_level", unit="m", lat=23.02,
                            lon=113.75, thresholds_json="{}")
            s.add(sensor)
            s.flush()
            ids.append(sensor.id)
    sid = ids[0]
    t = time.perf_counter()
    if database.is_postgres:
        with database.write() as s:
            s.execute(text("INSERT INTO sensor_reading (sensor_id, at, value) SELECT :sid, "
                           ":t0 + make_interval(secs => g * 10), 0.1 + (g % 500) / 1000.0 "
                           "FROM generate_series(0, :n - 1) g"), {"sid": sid, "t0": T0, "n": N})
            s.execute(text("INSERT INTO sensor_reading (sensor_id, at, value) SELECT o, "
                           ":t0 + make_interval(secs => g * 10), 0.2 FROM generate_series(:a, :n - 1) g, "
                           "unnest(CAST(:others AS int[])) o"),
                      {"t0": T0, "a": N - 8640, "n": N, "others": ids[1:]})
            s.execute(text("ANALYZE sensor_reading"))
    else:
        with database.write() as s:
            raw = s.connection().connection.driver_connection
            fmt = lambda g: (T0 + dt.timedelta(seconds=10 * g)).replace(tzinfo=None) \
                .isoformat(sep=" ", timespec="microseconds")
            raw.executemany("INSERT INTO sensor_reading (sensor_id, at, value) VALUES (?, ?, ?)",
                            ((sid, fmt(g), 0.1 + (g % 500) / 1000.0) for g in range(N)))
            raw.executemany("INSERT INTO sensor_reading (sensor_id, at, value) VALUES (?, ?, ?)",
                            ((o, fmt(g), 0.2) for g in range(N - 8640, N) for o in ids[1:]))
        with database.write() as s:
            s.execute(text("ANALYZE"))
    print(f"  filled {N + OTHER * 8640:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
    return sid

def timed(fn, repeat=5):
    fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        n = fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out) * 1000, n

def main(url):
    with scratch_database(url) as database:
        print(database.engine.dialect.name, flush=True)
        sid = fill(database)
        end = T0 + dt.timedelta(seconds=10 * (N - 1))
        windows = {"24 h (8,640)": end - dt.timedelta(seconds=10 * 8639), "1,000,000": T0}
        for label, since in windows.items():
            def ours():
                with database.read() as s:
                    return len(alerts.sensor_series(s, sid, since)[0])
            def core():
                with database.read() as s:
                    return len(s.execute(select(SensorReading.at, SensorReading.value).where(
                        SensorReading.sensor_id == sid, SensorReading.at >= since)
                        .order_by(SensorReading.at)).all())
            def orm():
                with database.read() as s:
                    return len(s.scalars(select(SensorReading).where(
                        SensorReading.sensor_id == sid, SensorReading.at >= since)
                        .order_by(SensorReading.at)).all())
            rep = 5 if label.startswith("24") else 3
            a, n = timed(ours, rep)
            b, _ = timed(core, rep)
            c, _ = timed(orm, rep)
            print(f"  {label}: rows={n:,} sensor_series {a:.1f} ms | Core (at,value) {b:.1f} ms "
                  f"(x{b / a:.1f}) | ORM objects {c:.1f} ms (x{c / a:.1f})", flush=True)

if __name__ == "__main__":
    for url in sys.argv[1:]:
        main(url)
