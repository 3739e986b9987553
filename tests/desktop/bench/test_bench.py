"""``cityops bench --quick`` runs end to end (so the benchmark never rots) and the feed's two
fixes: a lone change is not held back by the coalescing, and the change log is pruned.

No timing is asserted: only that every section produced its figures, each with a baseline."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time

from sqlalchemy import func, select, update

from db.core import jobs
from db.models import ChangeLog, JobState
from desktop.core.live import COALESCE_MS, LiveFeed
from tests.helpers import report

SECTIONS = ("workflow", "trust", "sqlite", "screen", "queue", "map", "startup", "shift", "ingest",
            "replication")


def test_bench_quick_runs_every_section_and_writes_its_figures(tmp_path):
    out = tmp_path / "bench.json"
    env = {**os.environ, "CITYOPS_DB": "", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    anchor = f"sqlite:///{tmp_path / 'anchor.sqlite3'}"
    run = subprocess.run([sys.executable, "-m", "desktop", "bench", "--db", anchor, "--quick",
                          "--json", str(out)],
                         capture_output=True, text=True, timeout=900, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["quick"] and result["engine"] == "sqlite" and result["machine"]["cpus"]
    assert {name: s.get("error") for name, s in result["sections"].items()} == \
        {name: None for name in SECTIONS}
    # Failover makes and crashes clusters of its own: not under --quick (the failover test in
    # tests/db/core runs the same drill), and it says so.
    assert "--quick" in result["sections"]["replication"]["skipped"]
    figures = result["figures"]
    sections = {f["section"].split()[0] for f in figures}
    assert sections == {"workflow", "trust", "sqlite", "1", "2", "3", "4", "5", "6"}
    assert all(f["value"] is not None and f["baseline"] is not None for f in figures), \
        [f["name"] for f in figures if f["value"] is None or f["baseline"] is None]
    detail = {name: s["detail"] for name, s in result["sections"].items() if "skipped" not in s}
    assert detail["screen"]["live"]["screen"]["n"] == 40  # every case reached the screen
    assert detail["ingest"]["complete"] == [True, True, True]  # every listener saw every change
    assert set(detail["trust"]["steps_per_s"]) == {"both", "loop", "chain", "neither"}
    assert detail["trust"]["steps_per_config"] == 80 * 6  # the same work on each configuration
    assert detail["sqlite"]["steps_per_mode"] == 80 * 6  # FULL and NORMAL alike
    assert detail["sqlite"]["folder"] == str(tmp_path.resolve())  # beside the named file
    assert detail["queue"]["all"] == 20_000 and detail["map"]["markers"]["staff"] > 4000
    assert not (tmp_path / "anchor.sqlite3").exists()  # the named database is never touched
    assert "ratio" in run.stdout and "[1 event to screen]" in run.stdout


def test_a_lone_change_goes_out_at_once_a_burst_is_coalesced(qtbot, sqlite_env):
    feed = LiveFeed(sqlite_env.database.url)  # not started: batches are fed by hand
    batches = []
    feed.sig_batch.connect(batches.append)
    feed._collect({"case": {1}})
    assert batches == [{"case": {1}}]  # no waiting after a quiet spell
    feed._collect({"case": {2}})
    feed._collect({"case": {3}, "staff_position": {7}})
    assert len(batches) == 1  # within 50 ms of the last batch: held back, merged
    started = time.monotonic()
    qtbot.waitUntil(lambda: len(batches) == 2, timeout=2000)
    assert batches[1] == {"case": {2, 3}, "staff_position": {7}}
    assert time.monotonic() - started < 1.0
    qtbot.wait(COALESCE_MS * 2)
    assert len(batches) == 2


def test_the_feed_thread_runs_the_prune_job(qtbot, sqlite_env):
    for _ in range(3):
        report(sqlite_env)
    with sqlite_env.database.write() as s:
        s.execute(update(ChangeLog).values(at=dt.datetime.now(dt.UTC)
                                           - dt.timedelta(hours=2)))
    prune_jobs = jobs.Registry()
    jobs.register_feed_prune(prune_jobs, every=0.2, retention=dt.timedelta(hours=1))
    feed = LiveFeed(sqlite_env.database.url, jobs_registry=prune_jobs, jobs_every=0.1,
                    jobs_delay=0)
    feed.start()
    try:
        def rows() -> int:  # the job's own "job_run" rows are recent: they stay
            with sqlite_env.database.read() as s:
                return s.scalar(select(func.count()).select_from(ChangeLog)
                                .where(ChangeLog.entity != jobs.FEED_ENTITY))

        def runs() -> int:
            with sqlite_env.database.read() as s:
                state = s.scalar(select(JobState).where(JobState.name == "feed.prune"))
                assert state is None or state.last_outcome == "ok", state.last_error
                return state.run_count if state else 0

        qtbot.waitUntil(lambda: rows() == 0, timeout=10_000)
        report(sqlite_env)  # a recent change stays
        after = runs()
        qtbot.waitUntil(lambda: runs() > after, timeout=10_000)  # the job ran again since
        assert rows() >= 1
    finally:
        feed.stop()


def test_evict_leaves_the_files_as_they_were(tmp_path):
    from desktop.bench.runner import evict

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.bin").write_bytes(b"x" * 10_000)
    (tmp_path / "g.txt").write_text("cityops")
    assert evict([tmp_path]) == 2
    assert (tmp_path / "g.txt").read_text() == "cityops"
    assert (tmp_path / "a" / "f.bin").read_bytes() == b"x" * 10_000
