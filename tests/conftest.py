"""Fixtures: a fresh, migrated database with reference data for each test, on both engines.

PostgreSQL tests run against the project's own cluster, made and started by
``scripts/pg-cluster.sh`` (127.0.0.1:55432, password authentication only, its superuser's
password in ``<dir>/pgpass``, which ``PGPASSFILE`` points at), or against the server
``CITYOPS_TEST_PG_URL`` names: a superuser's URL without password (libpq finds it in
``PGPASSFILE``/``PGPASSWORD``), its database used as the maintenance database. The cluster's
folder is ``$CITYOPS_TEST_PG_DIR``, else ``/var/tmp/cityops-test-pg-<uid>-55432``: one per
user and machine, not per checkout, so that several worktrees testing at once share the one
server on the port instead of fighting over it (each run has databases and a template of its
own; the roles are shared and keep their passwords).

They run **as the application role**, as a workstation does: the session's template database
is set up like a control room's (``db.admin.roles.setup_roles``: owner role ``cityops_t_owner``,
application role ``cityops_t_app``, their passwords written to ``PGPASSFILE``), migrated by the
owner, filled by the application role. Each test gets its own database cloned from it (``CREATE
DATABASE … TEMPLATE``, by the superuser), so tests never see each other's rows, and connects to
it as the application role; ``Env.owner_url`` is there for the few tests that need the owner
(demo --force, migrations). SQLite tests copy a template file. Both templates are marked as
taking event times from their callers (``allow_caller_time``, db.core.dbclock): tests date
their events by hand; on PostgreSQL the owner adds the mark, which the application role
cannot. A missing PostgreSQL server fails
the run; set ``CITYOPS_SKIP_PG=1`` to run only SQLite on a machine without one.
"""
from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.abc
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

BLOCKED_TOP_LEVEL = {"PySide6", "shiboken6", "pyqtgraph", "desktop"}


class _BlockQt(importlib.abc.MetaPathFinder):
    """Makes Qt look uninstalled: proves db/ and its tests need none of it."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED_TOP_LEVEL:
            raise ImportError(f"{name} is blocked (CITYOPS_BLOCK_QT=1)")
        return None


if os.environ.get("CITYOPS_BLOCK_QT") == "1":
    sys.meta_path.insert(0, _BlockQt())
    collect_ignore = ["desktop"]

# db/ is imported only now, after the blocker is in place.
from db.admin.passwords import pgpass_path
from db.admin.roles import grant_database, setup_roles
from db.auth.roles import Role
from db.auth.security import hash_password
from db.core import pii
from db.core.config import normalise_url  # noqa: E402
from db.core.engine import Database, open_database
from db.models import Department, UserAccount
from db.reference.city import ensure_reference_data
from tests.helpers import allow_caller_time

REPO = Path(__file__).resolve().parents[1]
#: The project's own test cluster (scripts/pg-cluster.sh), used unless CITYOPS_TEST_PG_URL is set.
CLUSTER_PORT = 55432
CLUSTER_DIR = Path(os.environ.get("CITYOPS_TEST_PG_DIR")
                   or f"/var/tmp/cityops-test-pg-{os.getuid()}-{CLUSTER_PORT}")
OWN_CLUSTER = "CITYOPS_TEST_PG_URL" not in os.environ
if OWN_CLUSTER:
    # The cluster's password file, for this process and every child it starts (workstations,
    # the simulator, the bench's traffic): no password is ever in a URL or an argument.
    os.environ["PGPASSFILE"] = str(CLUSTER_DIR / "pgpass")
PG_ADMIN_URL = normalise_url(os.environ.get(
    "CITYOPS_TEST_PG_URL", f"postgresql://cityops_admin@127.0.0.1:{CLUSTER_PORT}/postgres"))
PG_PORT = make_url(PG_ADMIN_URL).port or 5432
SKIP_PG = os.environ.get("CITYOPS_SKIP_PG") == "1"
TEST_PASSWORD = "pass-1234"
TEMPLATE_PREFIX = "cityops_tmpl_"
TEST_OWNER = "cityops_t_owner"
TEST_APP = "cityops_t_app"
# The phone key (db.core.pii) of every test database, for this process and every child it
# starts, in a folder of this run's own (mode 600, as the app demands). One fixed key for every
# run: a database a run leaves cached (the benchmark's cities) opens in the next one.
_KEY_DIR = tempfile.mkdtemp(prefix="cityops-test-key-")
atexit.register(shutil.rmtree, _KEY_DIR, True)
TEST_PHONE_KEY = pii.PhoneKey("7e577e577e577e57", hashlib.sha256(b"cityops test phone key").digest())
os.environ[pii.KEY_FILE_ENV] = os.path.join(_KEY_DIR, "phone.key")
pii.write_key_file(Path(os.environ[pii.KEY_FILE_ENV]), TEST_PHONE_KEY)


@dataclass
class Env:
    """A test database plus one account per role (ids), all with ``TEST_PASSWORD``. On
    PostgreSQL ``database`` is connected as the application role and ``owner_url`` is the same
    database as the owner."""

    database: Database
    users: dict[Role, int]
    city_id: int
    engine_name: str
    owner_url: str | None = None


def pg_url(database: str, user: str | None = None) -> str:
    """The test server's URL for ``database`` as ``user`` (default: the superuser); never with a
    password."""
    url = make_url(PG_ADMIN_URL).set(database=database, password=None)
    if user:
        url = url.set(username=user)
    return url.render_as_string(hide_password=False)


def _add_users(database: Database) -> dict[Role, int]:
    hashed = hash_password(TEST_PASSWORD)
    ids = {}
    with database.write() as session:
        # The department handler works for the first department, the one tests dispatch to
        # (tests.helpers.any_department_id): a handler acts on its own department's cases only.
        first_department = session.scalar(select(func.min(Department.id)))
        for role in Role:
            user = UserAccount(username=f"t_{role.value}", display_name=f"测试{role.label}",
                               role=role.value, password_hash=hashed,
                               department_id=first_department
                               if role == Role.DEPARTMENT_HANDLER else None)
            session.add(user)
            session.flush()
            ids[role] = user.id
    return ids


def _prepare(database: Database) -> tuple[dict[Role, int], int]:
    city_id = ensure_reference_data(database)
    with database.write() as session:
        pii.ensure_key(session)
    return _add_users(database), city_id


def _pg_admin():
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _start_own_cluster() -> None:
    """Make and start the project's test cluster if it does not answer (idempotent)."""
    done = subprocess.run(["bash", str(REPO / "scripts" / "pg-cluster.sh"), "start", "--fast",
                           "--port", str(CLUSTER_PORT), "--dir", str(CLUSTER_DIR)],
                          capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        pytest.fail(f"scripts/pg-cluster.sh could not start the test cluster:\n{done.stderr}")


@pytest.fixture(scope="session")
def pg_server():
    """The test server, answering as its superuser: the project's own SCRAM cluster unless
    CITYOPS_TEST_PG_URL names another one."""
    if SKIP_PG:
        pytest.skip("CITYOPS_SKIP_PG=1")
    if OWN_CLUSTER:
        _start_own_cluster()
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # the server must be there: .ci/run starts it
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc}")
    finally:
        admin.dispose()
    return PG_ADMIN_URL


def setup_test_roles(database_name: str) -> None:
    """The control room's roles on ``database_name`` (the test roles' passwords go to
    PGPASSFILE, for any port: some tests reach the server through a TCP proxy)."""
    setup_roles(pg_url(database_name), owner=TEST_OWNER, app=TEST_APP, pgpass=pgpass_path(),
                pgpass_port="*")


@pytest.fixture(scope="session")
def pg_template(pg_server):
    admin = _pg_admin()
    name = f"{TEMPLATE_PREFIX}{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    setup_test_roles(name)
    owner = open_database(pg_url(name, TEST_OWNER))  # the owner migrates
    allow_caller_time(owner)  # and marks the tests' database (the application role cannot)
    owner.dispose()
    database = open_database(pg_url(name, TEST_APP))  # the application role fills it
    users, city_id = _prepare(database)
    database.dispose()
    yield name, users, city_id
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("tmpl") / "template.sqlite3"
    database = open_database(f"sqlite:///{path}")
    allow_caller_time(database)
    users, city_id = _prepare(database)
    with database.engine.connect() as conn:  # fold the WAL into the file so a copy is whole
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path, users, city_id


def make_sqlite_env(template, tmp_path) -> Env:
    path, users, city_id = template
    target = tmp_path / f"db-{uuid.uuid4().hex[:8]}.sqlite3"
    shutil.copy(path, target)
    return Env(open_database(f"sqlite:///{target}"), users, city_id, "sqlite")


def make_pg_env(template) -> tuple[Env, str]:
    tmpl, users, city_id = template
    name = f"cityops_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"'))
        # Database-level rights live outside the database: the clone needs them again.
        grant_database(conn, name, TEST_OWNER, TEST_APP)
    admin.dispose()
    return Env(open_database(pg_url(name, TEST_APP)), users, city_id, "postgresql",
               owner_url=pg_url(name, TEST_OWNER)), name


def skip_without_cluster_tools() -> None:
    """Skip a test that makes PostgreSQL clusters of its own (a failover drill) where it cannot:
    PostgreSQL switched off for this run, or its server programs missing."""
    from db.bench.replication import missing_binaries

    if SKIP_PG:
        pytest.skip("CITYOPS_SKIP_PG=1")
    missing = missing_binaries()
    if missing:
        pytest.skip(missing)


@contextlib.contextmanager
def empty_pg_database(prefix: str):
    """A new empty PostgreSQL database set up as a control room's would be before its first
    restore (`createdb`, then `setup-roles`: the test roles' grants), dropped afterwards; yields
    its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    setup_test_roles(name)
    try:
        yield name
    finally:
        drop_pg(name)


def drop_pg(name: str, *roles: str) -> None:
    """Drop the test database ``name``, then ``roles`` made for it alone (not the shared ones)."""
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        for role in roles:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request, tmp_path):
    """A fresh database on each engine, with reference data and one account per role."""
    if request.param == "sqlite":
        e = make_sqlite_env(request.getfixturevalue("sqlite_template"), tmp_path)
        yield e
        e.database.dispose()
    else:
        e, name = make_pg_env(request.getfixturevalue("pg_template"))
        yield e
        e.database.dispose()
        drop_pg(name)


@pytest.fixture
def sqlite_env(sqlite_template, tmp_path):
    e = make_sqlite_env(sqlite_template, tmp_path)
    yield e
    e.database.dispose()


@pytest.fixture
def pg_env(pg_template):
    e, name = make_pg_env(pg_template)
    yield e
    e.database.dispose()
    drop_pg(name)


@pytest.fixture
def app_demo(pg_server):
    """A small demo database built by the test owner role (only the owner may mark a database
    demo, migration 0012), handed to the application role, as a control room's would be."""
    from db.demo.build import build_demo

    name = f"cityops_t_sim_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    try:
        setup_test_roles(name)
        owner = open_database(pg_url(name, TEST_OWNER))  # the owner migrates and builds
        build_demo(owner, cases=200, days=5)
        owner.dispose()
        database = open_database(pg_url(name, TEST_APP), migrate=False)
        try:
            yield database
        finally:
            database.dispose()
    finally:
        drop_pg(name)
