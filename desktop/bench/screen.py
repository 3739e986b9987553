"""Section 1, event to screen: another process commits a case; how long until this window has
its row in the queue model *and* its marker on the map, the marker confirmed by the page's
JavaScript (``cityops.hasCase``).

The window is the real one (:class:`~desktop.window.main_window.MainWindow` with its
:class:`~desktop.core.live.LiveFeed`). The writer is ``python -m db.bench.traffic report``: after each
commit it prints the case id and ``time.monotonic_ns()``, a clock every process of the machine
shares. The queue side is stamped when the model has the row (checked on each of its layout,
insert and load signals); the map side when the answer of the page's ``cityops.hasCase`` for the
case comes back (asked after each batch the page applies), so it includes that round trip.

Baseline, same window, same run: the feed switched off and everything re-read every five
seconds (``MainWindow.reload_all``), as a polling client does.
"""
from __future__ import annotations

import inspect
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from db.bench.report import Figure, summary
from desktop.bench.harness import bench_context, make_app, map_idle, must, pump, say
from desktop.core.live import LiveFeed

SECTION = "1 event to screen"
POLL_S = 5.0


class Watch(QObject):
    """Stamps, per committed case, when the queue and the map have it."""

    sig_commit = Signal(object, object)  # case id, monotonic ns (from the writer's thread)

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.commits: dict[int, int] = {}
        self.queue_at: dict[int, int] = {}
        self.map_at: dict[int, int] = {}
        self._asking = False
        self.sig_commit.connect(self._on_commit)
        model = window.queue.model
        for signal in (model.sig_loaded, model.layoutChanged, model.rowsInserted,
                       model.modelReset):
            signal.connect(self._check_queue)

    def attach_map(self) -> None:
        self.window.map_view.sig_batch_applied.connect(self._check_map)

    def reset(self) -> None:
        self.commits.clear()
        self.queue_at.clear()
        self.map_at.clear()

    def done(self) -> bool:
        return bool(self.commits) and all(c in self.queue_at and c in self.map_at
                                          for c in self.commits)

    def follow(self, stream, expected: int) -> threading.Thread:
        def run() -> None:
            for line in stream:
                parts = line.split()
                if len(parts) == 3 and parts[0] == "case":
                    self.sig_commit.emit(int(parts[1]), int(parts[2]))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    @Slot(object, object)
    def _on_commit(self, case_id: int, at_ns: int) -> None:
        self.commits[case_id] = at_ns
        self._check_queue()  # the screen may (rarely) have been faster than the pipe
        self._check_map()

    @Slot()
    def _check_queue(self, *_args) -> None:
        now = time.monotonic_ns()
        pending = [c for c in self.commits if c not in self.queue_at]
        if not pending:
            return
        model = self.window.queue.model
        for cid in pending:
            if model.row_of(cid) is not None:
                self.queue_at[cid] = now

    @Slot(object)
    def _check_map(self, *_args) -> None:
        view = self.window.map_view
        pending = [c for c in self.commits if c not in self.map_at]
        if not pending or view is None or self._asking:
            return
        self._asking = True
        ids = ",".join(str(c) for c in pending)
        view.eval_json(f"[{ids}].filter(function (i) {{ return cityops.hasCase(i); }})",
                       self._map_answer)

    def _map_answer(self, found) -> None:
        now = time.monotonic_ns()
        self._asking = False
        for cid in found or ():
            self.map_at.setdefault(int(cid), now)
        if any(c not in self.map_at for c in self.commits):
            QTimer.singleShot(20, self._check_map)  # a batch may have landed meanwhile

    def latencies(self) -> dict[str, list[float]]:
        out = {"queue": [], "map": [], "screen": []}
        for cid, t in self.commits.items():
            q = (self.queue_at[cid] - t) / 1e6 if cid in self.queue_at else None
            m = (self.map_at[cid] - t) / 1e6 if cid in self.map_at else None
            if q is not None:
                out["queue"].append(q)
            if m is not None:
                out["map"].append(m)
            if q is not None and m is not None:
                out["screen"].append(max(q, m))
        return out


def _writer(url: str, count: int, rate: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "db.bench.traffic", "report", "--db", url,
                             "--count", str(count), "--rate", str(rate)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)


def _phase(watch: Watch, url: str, count: int, rate: float, settle: float) -> dict:
    watch.reset()
    writer = _writer(url, count, rate)
    watch.follow(writer.stdout, count)
    must(lambda: writer.poll() is not None, "the writer", count / rate + 120, poll_ms=50)
    if writer.returncode != 0:
        raise RuntimeError(f"writer failed: {writer.stderr.read()[-2000:]}")
    must(lambda: len(watch.commits) == count, "every commit line", 30)
    if not must_soft(watch.done, settle):
        missing = sum(c not in watch.queue_at or c not in watch.map_at for c in watch.commits)
        say(f"  screen: {missing} of {count} cases not on screen after {settle:.0f} s")
    return watch.latencies()


def must_soft(cond, timeout: float) -> bool:
    from desktop.bench.harness import wait_until

    return wait_until(cond, timeout, poll_ms=50)


def run(url: str, quick: bool) -> tuple[list[Figure], dict]:
    from desktop.window.main_window import MainWindow

    app = make_app()
    database, ctx = bench_context(url)
    live_n, base_n = (40, 25) if quick else (500, 100)
    rate = 10.0
    feed = LiveFeed(database.url)
    kwargs = {"sound": False} if "sound" in inspect.signature(MainWindow).parameters else {}
    window = MainWindow(ctx, feed, Path(tempfile.mkdtemp(prefix="cityops-bench-screen-")), **kwargs)
    window.resize(1920, 1080)
    window.show()
    feed.start()
    watch = Watch(window)
    must(lambda: window.map_view is not None and window.map_view.ready, "the map", 180)
    watch.attach_map()
    must(lambda: window.queue.model.loaded, "the queue", 120)
    must(lambda: not ctx.reads.pending and map_idle(window.map_view), "the window to settle", 300)
    pump(1.0)
    say(f"  screen: window up; {live_n} cases from another process at {rate:.0f}/s…")
    live = _phase(watch, database.url, live_n, rate, settle=30)

    # -- baseline: no feed, a refresh every five seconds ----------------------------------
    feed.sig_batch.disconnect(window._on_feed_batch)  # noqa: SLF001 - the benchmark's switch
    feed.stop()
    must(lambda: not ctx.reads.pending and map_idle(window.map_view), "the window to settle", 300)
    poll = QTimer()
    poll.setInterval(int(POLL_S * 1000))
    poll.timeout.connect(window.reload_all)
    poll.start()
    say(f"  screen: baseline, {base_n} cases with a refresh every {POLL_S:.0f} s…")
    polled = _phase(watch, database.url, base_n, rate, settle=POLL_S * 2 + 60)
    poll.stop()

    s, q, m = summary(live["screen"]), summary(live["queue"]), summary(live["map"])
    b, bq, bm = summary(polled["screen"]), summary(polled["queue"]), summary(polled["map"])
    pg = database.is_postgres
    figures = [
        Figure(SECTION, f"event → screen p50 ({s['n']} events)", s["p50"], "ms", baseline=b["p50"],
               baseline_label=f"refresh every {POLL_S:.0f} s ({b['n']} events)"),
        Figure(SECTION, "event → screen p95", s["p95"], "ms", baseline=b["p95"],
               baseline_label=f"refresh every {POLL_S:.0f} s", target=100.0 if pg else None,
               note="" if pg else "the 100 ms target is PostgreSQL's (SQLite polls every 100 ms)"),
        Figure(SECTION, "event → screen p99", s["p99"], "ms", baseline=b["p99"],
               baseline_label=f"refresh every {POLL_S:.0f} s"),
        Figure(SECTION, "event → queue row p95", q["p95"], "ms", baseline=bq["p95"],
               baseline_label=f"refresh every {POLL_S:.0f} s"),
        Figure(SECTION, "event → map marker (JS) p95", m["p95"], "ms", baseline=bm["p95"],
               baseline_label=f"refresh every {POLL_S:.0f} s"),
    ]
    missing = s["n"] < live_n
    detail = {"live": {"screen": s, "queue": q, "map": m, "expected": live_n},
              "polling": {"screen": b, "queue": bq, "map": bm, "expected": base_n},
              "rate_per_s": rate, "missing": missing}
    window.close()
    app.processEvents()
    database.dispose()
    if missing:
        raise RuntimeError(f"only {s['n']} of {live_n} cases reached the screen")
    return figures, detail
