"""The ``sqlite`` bench section compares what it says it compares: the app opens SQLite with
``synchronous=FULL``; the baseline file really runs with NORMAL, on every pooled connection."""
from __future__ import annotations

from db.bench import sqlite as bench_sqlite
from db.core.engine import open_database


def test_the_app_syncs_every_commit_and_the_baseline_does_not(tmp_path):
    shipped = open_database(f"sqlite:///{tmp_path / 'app.sqlite3'}")
    normal = bench_sqlite.open_with_synchronous(tmp_path / "normal.sqlite3", "NORMAL")
    try:
        assert bench_sqlite.synchronous_of(shipped) == "FULL"
        # Several connections at once: each one the pool makes gets the listener's mode.
        conns = [normal.engine.connect() for _ in range(3)]
        try:
            assert [c.exec_driver_sql("PRAGMA synchronous").scalar() for c in conns] == [1, 1, 1]
        finally:
            for c in conns:
                c.close()
    finally:
        shipped.dispose()
        normal.dispose()


def test_the_section_runs_the_same_loop_on_both_in_the_folder_of_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'named.sqlite3'}"
    assert bench_sqlite.bench_folder(url) == tmp_path.resolve()
    result = bench_sqlite.measure(url, cases=4, rounds=2)
    # 4 cases in 2 rounds of 2, 6 steps each (accept … close): 24 steps a mode.
    assert result["cases_per_mode"] == 4 and result["steps_per_mode"] == 24
    assert set(result["steps_per_s"]) == {"FULL", "NORMAL"}
    assert all(len(r) == 2 for r in result["rounds_steps_per_s"].values())
    assert result["folder"] == str(tmp_path.resolve())
    assert not any(p.name.startswith(".cityops-bench-sqlite-") for p in tmp_path.iterdir())
