"""The ``cityops`` data commands, run as a user would run them (a separate process)."""
from __future__ import annotations

import json
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


def test_migrate_never_prints_an_administrator_password(tmp_path):
    """A one-time password on standard output ends up in terminals, logs and CI: `migrate` makes
    no administrator; the window's first start does, and shows its password there once."""
    from db.core.engine import open_database
    from db.reference.city import has_admin

    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    out = cityops("db", "migrate", "--db", url)
    assert out.returncode == 0, out.stderr
    assert "schema up to date" in out.stdout and "first start of the window" in out.stdout
    database = open_database(url)
    try:
        with database.read() as s:
            assert not has_admin(s)  # so no password exists that could have been printed
    finally:
        database.dispose()


def test_simulate_runs_stops_on_sigterm_and_leaves_every_case_valid(tmp_path):
    import signal
    import time

    from db.cases.workflow import check_invariants
    from db.core.engine import open_database

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


def test_simulate_without_a_server_says_so_in_one_line_and_exits_3():
    """Nothing listens at the address: no traceback, a line, exit code 3 (the demo window's
    supervisor starts it again later; a refusal, exit code 2, it would not)."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = cityops("simulate", "--db", f"postgresql://nobody@127.0.0.1:{port}/cityops",
                  "--duration", "1")
    assert out.returncode == 3, out.stderr
    assert "数据库连接中断" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


# -- one command-line layout: --db anywhere, `db migrate`, `jobs` --------------------------------

def cityops_at_home(home, *args: str, cityops_db: str = "", code: str | None = None
                    ) -> subprocess.CompletedProcess:
    """``cityops`` with HOME and XDG_DATA_HOME in ``home``: the default file is observable.
    With ``code``, that Python runs first in the process (e.g. to register a job)."""
    env = {**os.environ, "CITYOPS_DB": cityops_db, "HOME": str(home),
           "XDG_DATA_HOME": str(home / "data")}
    if code is None:
        argv = [sys.executable, "-m", "desktop", *args]
    else:
        argv = [sys.executable, "-c", f"import sys\n{code}\nfrom desktop.app.cli import main\n"
                "sys.exit(main(sys.argv[1:]))", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)


def _head(path) -> str | None:
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(f"sqlite:///{path}")
    try:
        if "alembic_version" not in inspect(engine).get_table_names():
            return None
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def test_db_before_or_after_the_subcommand_migrates_the_named_database_only(tmp_path):
    from db.core.config import default_sqlite_path
    from db.core.migrate import script_directory

    head = script_directory().get_current_head()
    default = tmp_path / "data" / "cityops" / "cityops.sqlite3"
    env_file = tmp_path / "from-env.sqlite3"
    layouts = {
        "before": ["--db", "{url}", "migrate"],
        "after": ["migrate", "--db", "{url}"],
        "db-before": ["--db", "{url}", "db", "migrate"],
        "db-after": ["db", "migrate", "--db", "{url}"],
        "db-middle": ["db", "--db", "{url}", "migrate"],
    }
    for tag, layout in layouts.items():
        target = tmp_path / f"{tag}.sqlite3"
        args = [a.format(url=f"sqlite:///{target}") for a in layout]
        # CITYOPS_DB is set too: --db must beat it, wherever it stands.
        out = cityops_at_home(tmp_path, *args, cityops_db=f"sqlite:///{env_file}")
        assert out.returncode == 0, (tag, out.stderr)
        assert str(target) in out.stdout, tag
        assert _head(target) == head, tag
    assert not env_file.exists() and not default.exists()
    assert not (tmp_path / "data").exists()  # the default's folder was not even made
    # Without --db: CITYOPS_DB, then the default file in the (redirected) user data directory.
    assert cityops_at_home(tmp_path, "db", "migrate",
                           cityops_db=f"sqlite:///{env_file}").returncode == 0
    assert _head(env_file) == head and not default.exists()
    out = cityops_at_home(tmp_path, "migrate")
    assert out.returncode == 0, out.stderr
    assert _head(default) == head
    assert default_sqlite_path().parent != default.parent  # this test never touched the real one


def test_jobs_list_json_and_jobs_run_record_the_run(tmp_path):
    from db.core.engine import open_database
    from db.models import JobState

    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    missing = cityops_at_home(tmp_path, "jobs", "list", "--db", url)
    assert missing.returncode == 2 and "cityops db migrate" in missing.stderr
    assert not (tmp_path / "jobs.sqlite3").exists()  # looking did not create it
    assert cityops_at_home(tmp_path, "db", "migrate", "--db", url).returncode == 0

    listed = cityops_at_home(tmp_path, "--db", url, "jobs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    jobs = {j["name"]: j for j in json.loads(listed.stdout)["jobs"]}
    assert jobs["feed.prune"]["schedule"] == "every 5 min"
    assert jobs["feed.prune"]["outcome"] is None and jobs["feed.prune"]["run_count"] == 0

    ran = cityops_at_home(tmp_path, "jobs", "run", "feed.prune", "--db", url)
    assert ran.returncode == 0, ran.stderr
    assert "feed.prune" in ran.stdout
    database = open_database(url, migrate=False)
    try:
        with database.read() as s:
            state = s.scalar(select(JobState).where(JobState.name == "feed.prune"))
        assert state.run_count == 1 and state.last_outcome == "ok"
    finally:
        database.dispose()
    listed = cityops_at_home(tmp_path, "jobs", "list", "--json", "--db", url)
    [prune] = [j for j in json.loads(listed.stdout)["jobs"] if j["name"] == "feed.prune"]
    assert prune["outcome"] == "ok" and prune["run_count"] == 1 and prune["last_finished_at"]
    text_list = cityops_at_home(tmp_path, "jobs", "list", "--db", url)
    assert text_list.returncode == 0 and "feed.prune" in text_list.stdout

    unknown = cityops_at_home(tmp_path, "jobs", "run", "no.such_job", "--db", url)
    assert unknown.returncode == 2
    assert "未知的定时任务" in unknown.stderr and "feed.prune" in unknown.stderr


def test_jobs_run_of_a_failing_job_exits_non_zero_and_records_the_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'fail.sqlite3'}"
    assert cityops_at_home(tmp_path, "migrate", "--db", url).returncode == 0
    boom = ("from db.core import jobs\n"
            "def boom(db, now):\n    raise OSError('备份盘已满 disk full')\n"
            "jobs.register('test.boom', 60, boom)")
    out = cityops_at_home(tmp_path, "jobs", "run", "test.boom", "--db", url, code=boom)
    assert out.returncode == 1
    assert "运行失败" in out.stderr and "OSError: 备份盘已满 disk full" in out.stderr
    assert "Traceback" in out.stderr  # logged with its traceback
    listed = cityops_at_home(tmp_path, "jobs", "list", "--json", "--db", url, code=boom)
    [state] = [j for j in json.loads(listed.stdout)["jobs"] if j["name"] == "test.boom"]
    assert state["outcome"] == "failed" and state["error"].startswith("OSError: 备份盘已满")


def test_accounts_unlock_is_the_way_back_when_every_leader_and_administrator_is_locked(sqlite_env):
    """An insider locks every account that could lift a lock by guessing at each; the console
    (the server's credentials, not a workstation's window) lifts one, audited."""
    import datetime as dt

    import pytest

    from db.auth.accounts import authenticate
    from db.auth.signin import set_lockout_limit
    from db.core.errors import PermissionDenied
    from db.models import AuditLog

    database = sqlite_env.database
    with database.write() as s:
        set_lockout_limit(s, 2)
    at = dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.UTC)
    for i in range(2):
        for name in ("t_admin", "t_shift_leader", "admin"):
            with pytest.raises(PermissionDenied):
                authenticate(database, name, "guess", workstation=name,
                             now=at + dt.timedelta(minutes=i))
    listed = cityops("accounts", "locked", "--db", database.url)
    assert listed.returncode == 0, listed.stderr
    assert sorted(line.split("\t")[0] for line in listed.stdout.splitlines()) == [
        "admin", "t_admin", "t_shift_leader"]
    out = cityops("accounts", "unlock", "t_admin", "--db", database.url)
    assert out.returncode == 0, out.stderr
    again = cityops("accounts", "unlock", "t_admin", "--db", database.url)
    assert again.returncode == 1 and "t_admin" in again.stderr  # not locked any more
    assert authenticate(database, "t_admin", "pass-1234").username == "t_admin"
    with database.read() as s:
        row = s.scalar(select(AuditLog).where(AuditLog.action == "auth.unlocked"))
    detail = json.loads(row.detail_json)
    assert row.actor_id is None and detail["via"] == "console" and detail["failures"] == 2
