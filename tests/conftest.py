"""Fixtures: a fresh, migrated database with reference data for each test, on both engines.

PostgreSQL tests run against the real server named by ``CITYOPS_TEST_PG_URL`` (default: the
local server, database ``test`` as the maintenance database). Each test gets its own database
cloned from a template (``CREATE DATABASE … TEMPLATE``), so tests never see each other's rows.
SQLite tests copy a template file. A missing PostgreSQL server fails the run; set
``CITYOPS_SKIP_PG=1`` to run only SQLite on a machine without one.
"""
from __future__ import annotations

import importlib.abc
import os
import shutil
import sys
import uuid
from dataclasses import dataclass

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
from db.auth.roles import Role
from db.auth.security import hash_password
from db.core.config import normalise_url  # noqa: E402
from db.core.engine import Database, open_database
from db.models import Department, UserAccount
from db.reference.city import ensure_reference_data

PG_ADMIN_URL = normalise_url(
    os.environ.get("CITYOPS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
SKIP_PG = os.environ.get("CITYOPS_SKIP_PG") == "1"
TEST_PASSWORD = "pass-1234"
TEMPLATE_PREFIX = "cityops_tmpl_"


@dataclass
class Env:
    """A test database plus one account per role (ids), all with ``TEST_PASSWORD``."""

    database: Database
    users: dict[Role, int]
    city_id: int
    engine_name: str


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
    return _add_users(database), city_id


def _pg_admin():
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def pg_template():
    if SKIP_PG:
        pytest.skip("CITYOPS_SKIP_PG=1")
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # the server must be there: .ci/run starts it
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc}")
    name = f"{TEMPLATE_PREFIX}{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    database = open_database(url)
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
    admin.dispose()
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return Env(open_database(url), users, city_id, "postgresql"), name


def drop_pg(name: str) -> None:
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
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
