"""The ``cityops`` data commands, run as a user would run them (a separate process)."""
from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import func, select

from db.models import Case

from tests.helpers import report


def cityops(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CITYOPS_DB": ""}
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True,
                          text=True, timeout=300, env=env)


def test_demo_refuses_a_database_with_real_work_and_keeps_it(sqlite_env):
    real = report(sqlite_env, description="真实工作：不可覆盖")
    out = cityops("demo", "--db", sqlite_env.database.url, "--cases", "50")
    assert out.returncode == 2
    assert "--force" in out.stderr
    with sqlite_env.database.read() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        assert s.get(Case, real.case_id).description == "真实工作：不可覆盖"
    skip = cityops("demo", "--db", sqlite_env.database.url, "--if-missing")
    assert skip.returncode == 0 and "already" in skip.stdout


def test_demo_builds_and_migrate_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    built = cityops("demo", "--db", url, "--cases", "300", "--seed", "7")
    assert built.returncode == 0, built.stderr
    assert "300 cases" in built.stdout
    again = cityops("migrate", "--db", url)
    assert again.returncode == 0 and "schema up to date" in again.stdout


def test_simulate_runs_stops_on_sigterm_and_leaves_every_case_valid(tmp_path):
    import signal
    import time

    from db.core.engine import open_database
    from db.cases.workflow import check_invariants

    url = f"sqlite:///{tmp_path / 'sim.sqlite3'}"
    assert cityops("demo", "--db", url, "--cases", "200", "--days", "10").returncode == 0
    timed = cityops("simulate", "--db", url, "--duration", "3", "--rate", "20")
    assert timed.returncode == 0, timed.stderr
    assert "events" in timed.stdout
    proc = subprocess.Popen([sys.executable, "-m", "desktop", "simulate", "--db", url, "--rate", "50"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "CITYOPS_DB": ""})
    time.sleep(4)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    database = open_database(url)
    with database.read() as s:
        ids = list(s.scalars(select(Case.id)))
        assert len(ids) > 200  # it did report new cases
        assert [p for i in ids if (p := check_invariants(s, i))] == []
    database.dispose()


def test_simulate_refuses_a_real_database(sqlite_env):
    out = cityops("simulate", "--db", sqlite_env.database.url, "--duration", "1")
    assert out.returncode == 2 and out.stderr
