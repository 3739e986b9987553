"""The multi-host URL (``?host=a:P1&host=b:P2&target_session_attrs=read-write``): every place
that opens the database takes it, and finds the server that answers; none takes a password in
it. Failing over between two real servers is tests/db/core/test_failover.py."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.admin.passwords import PasswordInUrl, pgpass_lookup, refuse_password_in_url, shown_url
from db.bench.replication import multi_host_url
from db.core.config import normalise_url, url_servers
from db.core.engine import open_database
from db.core.feed import ChangeFollower, listen_connect_args
from tests.conftest import PG_ADMIN_URL, drop_pg
from tests.helpers import report

#: Nothing listens here (the failover test's range, never its last port): libpq is refused
#: at once and tries the next host.
DEAD_PORT = 55449
URL = ("postgresql://cityops_app@/cityops?host=127.0.0.1:5433&host=127.0.0.1:5434"
       "&target_session_attrs=read-write")


def test_normalising_keeps_every_host_in_order_and_the_session_attrs():
    url = normalise_url(URL)
    assert url.startswith("postgresql+psycopg://cityops_app@/cityops?")
    parsed = make_url(url)
    assert parsed.query["host"] == ("127.0.0.1:5433", "127.0.0.1:5434")
    assert parsed.query["target_session_attrs"] == "read-write"
    assert normalise_url(URL.replace("postgresql://", "postgres://")) == url


def test_the_helper_writes_the_url_the_readme_shows():
    assert multi_host_url("cityops_app", [5433, 5434]) == URL


def test_the_listen_connection_gets_libpq_host_and_port_lists():
    """Rendered back to a string the URL would give libpq ``host=127.0.0.1:5433`` as one host
    name; the dialect's own arguments are two hosts and two ports, in the URL's order."""
    database = open_database(URL, migrate=False)  # no connection is made
    try:
        args = listen_connect_args(database)
    finally:
        database.dispose()
    assert args["host"] == "127.0.0.1,127.0.0.1"
    assert args["port"] == "5433,5434"
    assert args["target_session_attrs"] == "read-write"
    assert args["dbname"] == "cityops" and args["user"] == "cityops_app"
    assert args["connect_timeout"] == 5  # the engine's network settings come along


@pytest.mark.parametrize("url", [
    URL.replace("cityops_app@", "cityops_app:hunter2@"),
    URL + "&password=hunter2",
])
def test_a_password_in_a_multi_host_url_is_refused(url):
    with pytest.raises(PasswordInUrl):
        refuse_password_in_url(url)
    assert "hunter2" not in shown_url(url)


def test_a_multi_host_url_without_password_is_accepted():
    refuse_password_in_url(URL)  # no exception


def _live_url(env, user: str | None = None) -> str:
    """The test database through two hosts: first a port nobody answers on, then the server."""
    parsed = make_url(env.database.url)
    return multi_host_url(user or parsed.username, [DEAD_PORT, parsed.port], parsed.database)


@pytest.mark.postgres
def test_the_engine_and_the_follower_skip_a_dead_host(pg_env):
    database = open_database(_live_url(pg_env), migrate=False)
    follower = ChangeFollower(database)
    try:
        with database.read() as s:
            port = s.execute(text("SELECT inet_server_port()")).scalar()
        assert port == make_url(pg_env.database.url).port

        received = []
        t = threading.Thread(target=lambda: received.extend(follower.wait(10)))
        t.start()
        while not follower.connected and t.is_alive():  # LISTENing before the write
            t.join(0.05)
        r = report(pg_env.__class__(database, pg_env.users, pg_env.city_id, "postgresql"))
        t.join(15)
        assert [c.entity_id for c in received if c.entity == "case"] == [r.case_id]
        # The LISTEN connection is psycopg's own, and it too found the live server.
        assert follower._listen_conn.info.port == port
    finally:
        follower.close()
        database.dispose()


@pytest.mark.postgres
def test_the_command_line_takes_a_multi_host_url(pg_env):
    out = subprocess.run([sys.executable, "-m", "desktop", "jobs", "list", "--db",
                          _live_url(pg_env)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "CITYOPS_DB": ""})
    assert out.returncode == 0, out.stderr
    assert "feed.prune" in out.stdout


def test_the_servers_a_url_names_in_order():
    assert url_servers("postgresql://u@db1:5433/x") == [("db1", 5433)]
    assert url_servers("postgresql://u@db1/x") == [("db1", 5432)]
    assert url_servers(URL) == [("127.0.0.1", 5433), ("127.0.0.1", 5434)]
    assert url_servers("postgresql://u@/x?host=db1&host=db2:6000") == [("db1", 5432),
                                                                      ("db2", 6000)]


@pytest.mark.postgres
def test_setup_roles_through_a_multi_host_url_writes_a_line_for_each_server(pg_server, tmp_path):
    """The roles live on the primary and replicate to the standby: one password per role, in
    the password file for every server the URL names, and the next commands keep the URL."""
    tag = uuid.uuid4().hex[:8]
    owner, app, name = f"mh_owner_{tag}", f"mh_app_{tag}", f"cityops_mh_{tag}"
    pgpass = tmp_path / "pgpass"
    shutil.copy(os.environ["PGPASSFILE"], pgpass)  # the superuser's line, nothing else
    os.chmod(pgpass, 0o600)
    live = make_url(PG_ADMIN_URL).port
    url = multi_host_url(make_url(PG_ADMIN_URL).username, [DEAD_PORT, live], name)
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        out = subprocess.run([sys.executable, "-m", "desktop", "db", "setup-roles",
                              "--superuser-url", url, "--owner", owner, "--app", app],
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "CITYOPS_DB": "", "PGPASSFILE": str(pgpass)})
        assert out.returncode == 0, out.stderr
        assert f"roles ready on 127.0.0.1:{DEAD_PORT},127.0.0.1:{live}/{name}" in out.stdout
        assert f"--owner-url postgresql://{owner}@/{name}?host=127.0.0.1:{DEAD_PORT}" in \
            out.stdout.replace("%3A", ":")
        for role in (owner, app):
            secrets = {port: pgpass_lookup(pgpass, "127.0.0.1", port, role)
                       for port in (DEAD_PORT, live)}
            assert secrets[DEAD_PORT] and secrets[DEAD_PORT] == secrets[live]
    finally:
        admin.dispose()
        drop_pg(name, app, owner)
