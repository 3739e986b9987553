"""``cityops db setup-roles``, ``cityops db migrate --owner-url`` and URLs without passwords,
run as an administrator would run them (a separate process, passwords from PGPASSFILE)."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_ADMIN_URL, drop_pg, pg_url


def cityops(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "CITYOPS_DB": "", **(env or {})})


@pytest.mark.parametrize("args", [
    ["db", "setup-roles", "--superuser-url", "postgresql://admin:hunter2@127.0.0.1:1/cityops"],
    ["db", "migrate", "--owner-url", "postgresql://cityops_owner:hunter2@127.0.0.1:1/cityops"],
    ["db", "migrate", "--db", "postgresql://cityops_app@127.0.0.1:1/cityops?password=hunter2"],
    ["jobs", "list", "--db", "postgresql://cityops_app:hunter2@127.0.0.1:1/cityops"],
    ["simulate", "--db", "postgresql://cityops_app:hunter2@127.0.0.1:1/cityops"],
    ["demo", "--db", "postgresql://cityops_app:hunter2@127.0.0.1:1/cityops"],
])
def test_every_command_refuses_a_url_holding_a_password_and_says_how(args):
    out = cityops(*args)
    assert out.returncode == 2, out.stderr
    assert "hunter2" not in out.stderr + out.stdout  # not even echoed back
    assert "PGPASSFILE" in out.stderr and "PGPASSWORD" in out.stderr
    assert "refused" in out.stderr
    # Refused before any connection: port 1 would have said "connection refused" instead.
    assert "connection" not in out.stderr.lower()


def test_a_password_in_cityops_db_is_refused_too():
    """The environment's URL is handed on to the simulator's command line: refused as well."""
    out = cityops("jobs", "list",
                  env={"CITYOPS_DB": "postgresql://cityops_app:hunter2@127.0.0.1:1/cityops"})
    assert out.returncode == 2 and "CITYOPS_DB" in out.stderr and "hunter2" not in out.stderr


def test_show_passwords_only_on_a_terminal():
    out = cityops("db", "setup-roles", "--superuser-url", "postgresql://admin@127.0.0.1:1/x",
                  "--show-passwords")
    assert out.returncode == 2 and "terminal" in out.stderr


def test_setup_roles_then_migrate_as_the_owner_then_the_app_role_works(pg_server, tmp_path):
    """The README's set-up for a control room, end to end, with role names of its own."""
    tag = uuid.uuid4().hex[:8]
    owner, app, name = f"cli_owner_{tag}", f"cli_app_{tag}", f"cityops_cli_{tag}"
    pgpass = tmp_path / "pgpass"
    shutil.copy(os.environ["PGPASSFILE"], pgpass)  # the superuser's line, nothing else
    os.chmod(pgpass, 0o600)
    env = {"PGPASSFILE": str(pgpass)}
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        out = cityops("db", "setup-roles", "--superuser-url", pg_url(name), "--owner", owner,
                      "--app", app, env=env)
        assert out.returncode == 0, out.stderr
        assert f"written to {pgpass}" in out.stdout
        assert stat.S_IMODE(pgpass.stat().st_mode) == 0o600
        lines = pgpass.read_text().splitlines()
        for role in (owner, app):
            secret = next(line.rsplit(":", 1)[1] for line in lines if f":{role}:" in line)
            assert len(secret) >= 32 and secret not in out.stdout + out.stderr
        assert f"--owner-url postgresql://{owner}@" in out.stdout

        again = cityops("db", "setup-roles", "--superuser-url", pg_url(name), "--owner", owner,
                        "--app", app, env=env)
        assert again.returncode == 0 and "passwords unchanged" in again.stdout
        assert pgpass.read_text().splitlines() == lines

        # The application role may not migrate; it is told who may.
        refused = cityops("db", "migrate", "--db", pg_url(name, app), env=env)
        assert refused.returncode == 2 and "--owner-url" in refused.stderr
        done = cityops("db", "migrate", "--owner-url", pg_url(name, owner), env=env)
        assert done.returncode == 0, done.stderr
        assert "schema up to date" in done.stdout
        listed = cityops("jobs", "list", "--db", pg_url(name, app), env=env)
        assert listed.returncode == 0 and "feed.prune" in listed.stdout, listed.stderr
        check = create_engine(pg_url(name), isolation_level="AUTOCOMMIT")
        with check.connect() as conn:
            owners = set(conn.execute(text(
                "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")).scalars())
            attrs = conn.execute(text(
                "SELECT bool_or(rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls) "
                "FROM pg_roles WHERE rolname IN (:o, :a)"), {"o": owner, "a": app}).scalar()
        check.dispose()
        assert owners == {owner} and attrs is False
    finally:
        admin.dispose()
        drop_pg(name, app, owner)


def test_demo_as_the_application_role_is_refused_with_the_owners_url(pg_env):
    """Only the owner may mark a database demo (migration 0012): `cityops demo` run with a
    workstation's URL says so, without a traceback, and prints the command with the owner's
    URL, which then works."""
    from tests.conftest import TEST_APP, TEST_OWNER

    out = cityops("demo", "--db", pg_env.database.url, "--cases", "20", "--days", "2")
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and TEST_APP in out.stderr
    suggested = out.stderr.strip().splitlines()[-1].split()
    assert suggested[:3] == ["cityops", "demo", "--db"]
    owner_url, app_url = make_url(suggested[3]), make_url(pg_env.database.url)
    assert (owner_url.username, owner_url.password) == (TEST_OWNER, None)
    assert (owner_url.host, owner_url.port, owner_url.database) == \
        (app_url.host, app_url.port, app_url.database)
    built = cityops("demo", "--db", suggested[3], "--cases", "20", "--days", "2")
    assert built.returncode == 0, built.stderr
    assert "20 cases" in built.stdout
