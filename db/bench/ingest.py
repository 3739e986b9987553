"""Ingest: the city simulator at its highest rate, three workstations following the feed.

The simulator (:func:`db.demo.simulate.simulate`) runs unpaced: a clock that moves a few simulated
seconds per tick and ticks back to back, so it writes as fast as the database takes it. Three
*listeners* follow the change feed meanwhile, each a process of its own running the same
:class:`db.core.feed.ChangeFollower` the desktop's feed thread runs (``python -m db.bench.ingest
listen …``). When the simulator stops, each listener reads on until it has seen the last change
committed and hands back what it saw as a digest of ``(seq, entity, id, op)`` in order; the
proof is that every listener's digest and count equal those of the change log itself for the
same range (no change missed, none twice, none out of order).

Baseline: the same simulator for the same time with nobody listening, in the same run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import select

from db.bench.report import Figure
from db.core.engine import Database, open_database
from db.core.feed import RELOAD, ChangeFollower, latest_seq
from db.models import ChangeLog

SECTION = "6 ingest"


class Digest:
    """Count and SHA-256 of changes, fed in sequence order."""

    def __init__(self) -> None:
        self.count = 0
        self._hash = hashlib.sha256()
        self.last_seq = 0

    def add(self, seq: int, entity: str, entity_id: int | None, op: str) -> None:
        self.count += 1
        self.last_seq = seq
        self._hash.update(f"{seq}:{entity}:{entity_id}:{op}\n".encode())

    @property
    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def log_digest(database: Database, after: int, upto: int) -> Digest:
    """The change log's own digest of ``after < seq <= upto``."""
    digest = Digest()
    with database.read() as s:
        for seq, entity, entity_id, op in s.execute(
                select(ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id, ChangeLog.op)
                .where(ChangeLog.seq > after, ChangeLog.seq <= upto).order_by(ChangeLog.seq)):
            digest.add(seq, entity, entity_id, op)
    return digest


def listen(url: str, since: int, stop_file: Path, out_file: Path) -> None:
    """Follow the feed from ``since`` until the seq named in ``stop_file`` has been seen."""
    database = open_database(url, migrate=False)
    follower = ChangeFollower(database, since=since)
    digest, reloads, out_of_order = Digest(), 0, 0
    end = None
    print("ready", flush=True)
    try:
        while True:
            for change in follower.wait(0.2):
                if change.op == RELOAD:
                    reloads += 1
                    continue
                if end is not None and change.seq > end:
                    continue
                if change.seq <= digest.last_seq:
                    out_of_order += 1
                digest.add(change.seq, change.entity, change.entity_id, change.op)
            if end is None and stop_file.exists():
                text = stop_file.read_text().strip()
                end = int(text) if text else None
            if end is not None and follower.last_seq >= end:
                break
    finally:
        follower.close()
        database.dispose()
    out_file.write_text(json.dumps({
        "count": digest.count, "digest": digest.hexdigest, "reloads": reloads,
        "out_of_order": out_of_order, "done_ns": time.monotonic_ns()}))


def _simulate_for(database: Database, seconds: float, *, step: float, rate: float,
                  seed: int) -> dict:
    from db.demo.simulate import simulate

    origin = dt.datetime.now(dt.UTC)
    tick = [0]

    def clock() -> dt.datetime:
        tick[0] += 1
        return origin + dt.timedelta(seconds=tick[0] * step)

    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    before = _seq(database)
    try:
        stats = simulate(database, scenario="typhoon", seed=seed, rate=rate, clock=clock,
                         stop=stop)
    finally:
        timer.cancel()
    changes = _seq(database) - before
    return {"events": stats.events, "seconds": stats.seconds, "changes": changes,
            "cases_reported": stats.cases_reported, "steps": stats.steps,
            "positions": stats.positions, "readings": stats.readings, "alerts": stats.alerts,
            "events_per_s": stats.events / stats.seconds if stats.seconds else 0.0,
            "changes_per_s": changes / stats.seconds if stats.seconds else 0.0}


def _seq(database: Database) -> int:
    with database.read() as s:
        return latest_seq(s)


def measure(database: Database, *, seconds: float, listeners: int = 3, step: float = 5.0,
            rate: float = 10.0) -> tuple[list[Figure], dict]:
    """Run the baseline (nobody listening), then the simulator with ``listeners``."""
    base = _simulate_for(database, seconds, step=step, rate=rate, seed=11)
    with tempfile.TemporaryDirectory(prefix="cityops-ingest-") as tmp:
        tmpdir = Path(tmp)
        stop_file = tmpdir / "stop"
        since = _seq(database)
        procs = []
        for i in range(listeners):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "db.bench.ingest", "listen", "--db", database.url,
                 "--since", str(since), "--stop", str(stop_file),
                 "--out", str(tmpdir / f"l{i}.json")],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                cwd=str(Path(__file__).resolve().parents[2])))
        try:
            for p in procs:
                line = p.stdout.readline()
                if line.strip() != "ready":
                    raise RuntimeError(f"listener did not start: {p.stderr.read()}")
            run = _simulate_for(database, seconds, step=step, rate=rate, seed=12)
            end = _seq(database)
            stopped_ns = time.monotonic_ns()
            stop_file.write_text(str(end))
            results = []
            for i, p in enumerate(procs):
                _, err = p.communicate(timeout=120)
                if p.returncode != 0:
                    raise RuntimeError(f"listener {i} failed: {err[-2000:]}")
                results.append(json.loads((tmpdir / f"l{i}.json").read_text()))
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
    truth = log_digest(database, since, end)
    complete = [r["count"] == truth.count and r["digest"] == truth.hexdigest and not r["reloads"]
                and not r["out_of_order"] for r in results]
    catch_up_ms = max((r["done_ns"] - stopped_ns) / 1e6 for r in results) if results else None
    figures = [
        Figure(SECTION, "events/s with 3 listeners", round(run["events_per_s"], 1), "ev/s",
               baseline=round(base["events_per_s"], 1),
               baseline_label="simulator, nobody listening",
               better="higher"),
        Figure(SECTION, "change-log rows/s", round(run["changes_per_s"], 1), "rows/s",
               baseline=round(base["changes_per_s"], 1),
               baseline_label="simulator, nobody listening",
               better="higher"),
        Figure(SECTION, "listeners that saw every change", sum(complete), f"of {listeners}",
               baseline=listeners, baseline_label=f"{truth.count:,} changes in the log",
               better="higher", target=listeners),
    ]
    detail = {"baseline": base, "run": run, "listeners": results, "log_changes": truth.count,
              # from the simulator's last commit to the last listener holding every change
              "last_listener_caught_up_ms": None if catch_up_ms is None else round(catch_up_ms, 1),
              "log_digest": truth.hexdigest, "complete": complete, "seconds": seconds,
              "step_s": step, "rate": rate, "engine": database.engine.dialect.name}
    return figures, detail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.bench.ingest")
    parser.add_argument("mode", choices=["listen"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--since", type=int, required=True)
    parser.add_argument("--stop", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    listen(args.db, args.since, Path(args.stop), Path(args.out))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
