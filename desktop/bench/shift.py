"""Section 5, a compressed shift: hours of typhoon traffic, at a minute of simulated time per
tick and ticks back to back, into the real window; the memory of the application and its
QtWebEngine processes as it goes.

The simulator is ``python -m db.bench.traffic shift`` (the city simulator with a clock that
moves a minute per tick). Memory is sampled every few simulated minutes as PSS (shared pages
divided among the processes sharing them) over this process and every process below it;
growth per simulated hour is the least-squares slope after the first quarter of the shift.
Also: how late a 10 ms timer fires during the shift (what a click waits for) against the idle
window, and the change log kept (pruned by the window's feed thread, its retention scaled to
the compression) against what was written.
"""
from __future__ import annotations

import datetime as dt
import inspect
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from sqlalchemy import func, select

from db.bench.report import Figure, slope, summary
from db.core import jobs
from db.core.feed import latest_seq
from db.models import ChangeLog
from desktop.bench.harness import (
    LagProbe,
    bench_context,
    gui_busy_ns,
    make_app,
    map_idle,
    memory_mb,
    must,
    pump,
    say,
)
from desktop.core.live import LiveFeed

SECTION = "5 compressed shift"
STEP_S = 60  # simulated seconds per tick


class _Progress(QObject):
    """The simulator's progress lines, on the GUI thread; samples memory as they pass."""

    sig_line = Signal(str)

    def __init__(self, every: int, first_sample: tuple) -> None:
        super().__init__()
        self.every, self.next = every, every
        self.sim_s = self.events = 0
        self.samples = [first_sample]
        self.sig_line.connect(self.on_line)

    @Slot(str)
    def on_line(self, line: str) -> None:
        parts = line.split()
        if len(parts) >= 3 and parts[0] in ("sim", "done"):
            self.sim_s, self.events = int(parts[1]), int(parts[2])
            if self.sim_s >= self.next:
                self.next += self.every
                self.samples.append((self.sim_s / 3600, memory_mb()))


def run(url: str, quick: bool) -> tuple[list[Figure], dict]:
    from desktop.window.main_window import MainWindow

    app = make_app()
    hours = 0.25 if quick else 4.0
    sample_every = 300 if quick else 900  # simulated seconds between memory samples
    database, ctx = bench_context(url)
    # An hour of retention is under a minute of this compressed shift (~100 simulated seconds
    # a second): scale it down, or the short run would never see a row old enough to go.
    retention = dt.timedelta(seconds=3 if quick else 30)
    prune_jobs = jobs.Registry()
    jobs.register_feed_prune(prune_jobs, every=1.0 if quick else 10.0, retention=retention)
    feed = LiveFeed(database.url, jobs_registry=prune_jobs, jobs_every=0.5, jobs_delay=0.5)
    kwargs = {"sound": False} if "sound" in inspect.signature(MainWindow).parameters else {}
    window = MainWindow(ctx, feed, Path(tempfile.mkdtemp(prefix="cityops-bench-shift-")), **kwargs)
    window.resize(1920, 1080)
    window.show()
    feed.start()
    must(lambda: window.map_view is not None and window.map_view.ready, "the map", 180)
    must(lambda: window.queue.model.loaded and not ctx.reads.pending and map_idle(window.map_view),
         "the window to settle", 300)
    pump(2.0)
    start_mem = memory_mb()
    probe = LagProbe()
    probe.start()
    pump(5.0)
    idle_lag = summary(probe.stop())
    with database.read() as s:
        seq0 = latest_seq(s)

    progress = _Progress(sample_every, (0.0, start_mem))
    samples = progress.samples
    sim = subprocess.Popen([sys.executable, "-m", "db.bench.traffic", "shift", "--db", database.url,
                            "--hours", str(hours), "--step", str(STEP_S), "--rate", "1",
                            "--scenario", "typhoon"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)

    def follow() -> None:
        for line in sim.stdout:
            progress.sig_line.emit(line.strip())

    threading.Thread(target=follow, daemon=True).start()
    say(f"  shift: {hours:g} simulated hours of typhoon traffic…")
    t0, busy0 = time.perf_counter(), gui_busy_ns()
    probe.start()
    must(lambda: sim.poll() is not None, "the simulated shift", 3600, poll_ms=100)
    shift_lag = summary(probe.stop())
    wall = time.perf_counter() - t0
    gui_share = (gui_busy_ns() - busy0) / 1e9 / wall
    if sim.returncode != 0:
        raise RuntimeError(f"simulator failed: {sim.stderr.read()[-2000:]}")
    must(lambda: not ctx.reads.pending and map_idle(window.map_view), "the window to catch up", 300)
    pump(2.0)
    end_mem = memory_mb()
    samples.append((progress.sim_s / 3600, end_mem))
    with database.read() as s:
        written = latest_seq(s) - seq0
        kept = s.scalar(select(func.count()).select_from(ChangeLog))

    tail = [(h, m["pss"]) for h, m in samples if h >= hours / 4]
    growth = slope([h for h, _ in tail], [m for _, m in tail]) if len(tail) >= 2 else None
    say(f"  shift: {hours:g} h simulated in {wall:.0f} s, {progress.events:,} events; "
        f"PSS {start_mem['pss']:.0f} → {end_mem['pss']:.0f} MB")
    figures = [
        Figure(SECTION, f"memory (PSS) after {hours:g} simulated h", end_mem["pss"], "MB",
               baseline=start_mem["pss"], baseline_label="after start-up, before the shift"),
        Figure(SECTION, "memory growth per simulated hour",
               None if growth is None else round(growth, 1), "MB/h", baseline=start_mem["pss"],
               baseline_unit="MB", baseline_label="after start-up (ratio: share of it per hour)"),
        Figure(SECTION, "10 ms timer late by, p99, during the shift", shift_lag["p99"], "ms",
               baseline=idle_lag["p99"], baseline_label="the idle window"),
        Figure(SECTION, "change-log rows kept", kept, "rows", baseline=written,
               baseline_label="rows written during the shift (nothing pruned)"),
    ]
    detail = {"hours": hours, "wall_s": round(wall, 1), "events": progress.events,
              "compression": round(hours * 3600 / wall, 1) if wall else None,
              "samples": [{"sim_h": round(h, 3), **m} for h, m in samples],
              "start": start_mem, "end": end_mem, "idle_lag": idle_lag, "shift_lag": shift_lag,
              "gui_thread_busy_share": round(gui_share, 3), "change_log_written": written,
              "change_log_retention_s": retention.total_seconds(),
              "change_log_kept": kept}
    window.close()
    app.processEvents()
    database.dispose()
    return figures, detail
