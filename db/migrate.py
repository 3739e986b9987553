"""Alembic, driven from code: every start-up upgrades to head.

Several workstations may start at once against a fresh database, so the upgrade is serialised:
a session advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` (the write lock) on SQLite. The one
that waits then finds the schema at head and does nothing.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
MIGRATION_LOCK_KEY = 0x43_49_54_5A  # any constant; distinct from the change-feed lock


def alembic_config(engine: Engine | None = None, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
        cfg.set_main_option("sqlalchemy.url", url)
        cfg.attributes["engine"] = engine
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade_to_head(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                command.upgrade(alembic_config(engine, conn), "head")
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                conn.commit()
    elif engine.dialect.name == "sqlite":
        with engine.execution_options(cityops_write=True).connect() as conn:
            command.upgrade(alembic_config(engine, conn), "head")
            conn.commit()
    else:
        command.upgrade(alembic_config(engine), "head")


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())
