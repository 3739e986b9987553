"""Alembic: one linear chain, empty → head → base → head on both engines, schema == models."""
from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from db.core.migrate import alembic_config, script_directory
from db.models import Base
from db.models.base import include_object
from tests.conftest import PG_ADMIN_URL, drop_pg


def test_revision_chain_is_linear():
    script = script_directory()
    revisions = list(script.walk_revisions())
    assert len(script.get_heads()) == 1 and len(script.get_bases()) == 1
    for rev in revisions:
        down = rev.down_revision
        assert down is None or isinstance(down, str), f"{rev.revision} is a merge point"
    children = [r.down_revision for r in revisions if r.down_revision]
    assert len(children) == len(set(children)), "two revisions share a parent (a branch)"


def _roundtrip(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "head")
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        head = script_directory().get_current_head()
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head


def test_sqlite_empty_to_head_and_back(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    _roundtrip(engine)
    engine.dispose()


def test_postgresql_empty_to_head_and_back(pg_template):
    name = f"cityops_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(make_url(PG_ADMIN_URL).set(database=name))
    try:
        _roundtrip(engine)
    finally:
        engine.dispose()
        drop_pg(name)


def test_workstations_starting_together_on_a_fresh_database(tmp_path, pg_template):
    """Several processes upgrade the same empty database at once: all succeed, one schema."""
    import subprocess
    import sys

    name = f"cityops_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    urls = [f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
            make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)]
    try:
        for url in urls:
            code = f"from db.core.engine import open_database; open_database({url!r}).dispose()"
            procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE,
                                      text=True) for _ in range(3)]
            errors = [p.communicate(timeout=120)[1] for p in procs]
            assert [p.returncode for p in procs] == [0, 0, 0], errors
            engine = create_engine(url)
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
            engine.dispose()
    finally:
        drop_pg(name)


def test_a_batch_migration_runs_on_a_sqlite_database_full_of_rows(sqlite_env, tmp_path):
    """Batch mode drops and re-creates ``case``; with foreign keys on that fails once rows
    refer to it. A future revision must pass on a populated workstation file."""
    import shutil

    from db.cases.workflow import State
    from db.core.migrate import MIGRATIONS_DIR, upgrade_to_head
    from tests.helpers import case_in_state

    done = case_in_state(sqlite_env, State.CLOSED)
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts)
    head = script_directory().get_current_head()
    (scripts / "versions" / "9999_widen_title.py").write_text(f'''
from alembic import op
import sqlalchemy as sa
revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None
def upgrade():
    with op.batch_alter_table("case") as batch:
        batch.alter_column("title", type_=sa.String(200), existing_type=sa.String(100))
def downgrade():
    pass
''', encoding="utf-8")
    engine = sqlite_env.database.engine
    upgrade_to_head(engine, scripts)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
        assert conn.execute(text('SELECT state FROM "case" WHERE id = :i'), {"i": done.case_id}).scalar() == "closed"
        assert conn.execute(text("SELECT count(*) FROM case_history")).scalar() == 7
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _empty_database(engine_name: str, tmp_path):
    """An empty database on ``engine_name``: its engine and a clean-up."""
    if engine_name == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'step.sqlite3'}")
        return engine, engine.dispose
    name = f"cityops_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(make_url(PG_ADMIN_URL).set(database=name))

    def cleanup():
        engine.dispose()
        drop_pg(name)

    return engine, cleanup


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_0003_job_state_upgrades_and_downgrades_keeping_other_rows(engine_name, tmp_path,
                                                                    request):
    if engine_name == "postgresql":
        request.getfixturevalue("pg_template")  # skips with CITYOPS_SKIP_PG=1
    engine, cleanup = _empty_database(engine_name, tmp_path)
    cfg = alembic_config(engine)
    try:
        command.upgrade(cfg, "0002")
        assert "job_state" not in inspect(engine).get_table_names()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO app_setting (key, value_json, updated_at) "
                              "VALUES ('kept', '1', CURRENT_TIMESTAMP)"))
        command.upgrade(cfg, "0003")
        columns = {c["name"] for c in inspect(engine).get_columns("job_state")}
        assert columns == {"id", "name", "last_started_at", "last_finished_at", "last_outcome",
                           "last_error", "run_count"}
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO job_state (name) VALUES ('feed.prune')"))
            assert conn.execute(text("SELECT run_count FROM job_state")).scalar() == 0
            with pytest.raises(IntegrityError):  # one row per job name
                with conn.begin_nested():
                    conn.execute(text("INSERT INTO job_state (name) VALUES ('feed.prune')"))
        command.downgrade(cfg, "0002")
        assert "job_state" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT value_json FROM app_setting")).scalar() == "1"
        command.upgrade(cfg, "head")
        assert "job_state" in inspect(engine).get_table_names()
    finally:
        cleanup()


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_0004_must_change_password_flags_the_real_administrator_only(engine_name, tmp_path,
                                                                      request):
    if engine_name == "postgresql":
        request.getfixturevalue("pg_template")  # skips with CITYOPS_SKIP_PG=1
    engine, cleanup = _empty_database(engine_name, tmp_path)
    cfg = alembic_config(engine)
    insert = text("INSERT INTO user_account (username, display_name, role, password_hash, "
                  "active, created_at) VALUES (:u, :u, 'admin', 'x', :yes, CURRENT_TIMESTAMP)")
    try:
        command.upgrade(cfg, "0003")
        with engine.begin() as conn:
            for username in ("admin", "duty1"):
                conn.execute(insert, {"u": username, "yes": True})
        command.upgrade(cfg, "0004")
        with engine.connect() as conn:
            flags = dict(conn.execute(text(
                "SELECT username, must_change_password FROM user_account")).all())
        # Before 0004 no password could be changed: the administrator of a real database still
        # has its one-time password and is flagged; every other account keeps the default.
        assert flags == {"admin": True, "duty1": False}
        command.downgrade(cfg, "0003")
        columns = {c["name"] for c in inspect(engine).get_columns("user_account")}
        assert "must_change_password" not in columns
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM user_account")).scalar() == 2
        # A demo database keeps its published demo password unflagged.
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO app_setting (key, value_json, updated_at) "
                              "VALUES ('demo', '{}', CURRENT_TIMESTAMP)"))
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert not conn.execute(text("SELECT must_change_password FROM user_account "
                                         "WHERE username = 'admin'")).scalar()
    finally:
        cleanup()


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_0005_case_paused_left_upgrades_and_downgrades_keeping_cases(engine_name, tmp_path,
                                                                      request):
    if engine_name == "postgresql":
        request.getfixturevalue("pg_template")  # skips with CITYOPS_SKIP_PG=1
    engine, cleanup = _empty_database(engine_name, tmp_path)
    cfg = alembic_config(engine)

    def columns():
        return {c["name"] for c in inspect(engine).get_columns("case")}

    try:
        command.upgrade(cfg, "0004")
        assert "paused_left_seconds" not in columns()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO app_setting (key, value_json, updated_at) "
                              "VALUES ('kept', '1', CURRENT_TIMESTAMP)"))
        command.upgrade(cfg, "0005")
        assert "paused_left_seconds" in columns()
        nullable = {c["name"]: c["nullable"] for c in inspect(engine).get_columns("case")}
        assert nullable["paused_left_seconds"] is True
        command.downgrade(cfg, "0004")
        assert "paused_left_seconds" not in columns()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT value_json FROM app_setting")).scalar() == "1"
        if engine_name == "sqlite":  # dropped in place: the table keeps AUTOINCREMENT
            with engine.connect() as conn:
                sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'case'")).scalar()
            assert "AUTOINCREMENT" in sql and "version_positive" in sql
        command.upgrade(cfg, "head")
        assert "paused_left_seconds" in columns()
    finally:
        cleanup()


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_0008_marks_demo_accounts_by_their_password_and_only_on_a_demo_database(engine_name,
                                                                              tmp_path, request):
    from db.auth.security import hash_password

    if engine_name == "postgresql":
        request.getfixturevalue("pg_template")  # skips with CITYOPS_SKIP_PG=1
    engine, cleanup = _empty_database(engine_name, tmp_path)
    cfg = alembic_config(engine)
    insert = text("INSERT INTO user_account (username, display_name, role, password_hash, "
                  "active, created_at, must_change_password) "
                  "VALUES (:u, :u, 'duty_officer', :h, :yes, CURRENT_TIMESTAMP, :no)")
    demo, real = hash_password("demo"), hash_password("a-real-one")
    try:
        command.upgrade(cfg, "0005")
        with engine.begin() as conn:
            # "duty2" is named like a demo account but has its own password: a real officer.
            for username, hashed in (("duty1", demo), ("admin", demo), ("duty2", real)):
                conn.execute(insert, {"u": username, "h": hashed, "yes": True, "no": False})
            conn.execute(text("INSERT INTO app_setting (key, value_json, updated_at) "
                              "VALUES ('demo', '{}', CURRENT_TIMESTAMP)"))
        command.upgrade(cfg, "0008")
        with engine.connect() as conn:
            flags = dict(conn.execute(text("SELECT username, demo FROM user_account")).all())
            assert {k: bool(v) for k, v in flags.items()} == {"duty1": True, "admin": True,
                                                              "duty2": False}
            assert conn.execute(text("SELECT count(*) FROM sign_in_failure")).scalar() == 0
        command.downgrade(cfg, "0005")
        assert "sign_in_failure" not in inspect(engine).get_table_names()
        assert "demo" not in {c["name"] for c in inspect(engine).get_columns("user_account")}
        # Not a demo database: the same password marks nothing.
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM app_setting WHERE key = 'demo'"))
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert not any(v for (v,) in conn.execute(text("SELECT demo FROM user_account")))
    finally:
        cleanup()
