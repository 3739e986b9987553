"""Alembic, driven from code: a start-up that may change the schema upgrades it to head.

Several workstations may start at once against a fresh database, so the upgrade is serialised:
a session advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` (the write lock) on SQLite. The one
that waits then finds the schema at head and does nothing.

On PostgreSQL with roles set up (``db.admin.roles``) workstations connect as the application
role, which may not change the schema: for it a schema behind the code is an error
(:class:`SchemaNotCurrent`, "run ``cityops db migrate --owner-url``"), not an upgrade. A
superuser's upgrade runs as the schema's owner (``SET ROLE``), so that the owner keeps owning
every table and trigger; every upgrade ends by re-granting the application roles their rights
(:func:`db.admin.roles.apply_grants`).
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from db.core.errors import SchemaNotCurrent

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
MIGRATION_LOCK_KEY = 0x43_49_54_5A  # any constant; distinct from the change-feed lock
#: Revisions that remove personal data in place (0009: plain reporter phones, now sealed). An
#: upgrade across one rewrites the files afterwards, so that the old values do not linger in
#: free space of the pages (SQLite ``VACUUM``; PostgreSQL ``VACUUM FULL`` of the tables named,
#: whose dead row versions hold them). Backups and PostgreSQL's WAL archive are the city's to
#: expire (README).
SCRUB_AFTER: dict[str, tuple[str, ...]] = {"0009": ("case",)}


def _scrub_due(conn: Connection) -> tuple[str, ...]:
    """The tables to rewrite after upgrading ``conn``'s database from where it is now."""
    current = MigrationContext.configure(conn).get_current_heads()
    if not current:  # a new database: nothing was ever stored in the old form
        return ()
    at = max(current)
    return tuple(t for rev, tables in SCRUB_AFTER.items() if at.isdigit() and at < rev
                 for t in tables)


def alembic_config(engine: Engine | None = None, connection: Connection | None = None,
                   script_location: Path | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location or MIGRATIONS_DIR))
    if engine is not None:
        url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
        cfg.set_main_option("sqlalchemy.url", url)
        cfg.attributes["engine"] = engine
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def is_at_head(engine: Engine, script_location: Path | None = None) -> bool:
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    return set(current) == set(script_directory(script_location).get_heads())


def _behind(conn: Connection, script_location: Path | None) -> SchemaNotCurrent:
    current = MigrationContext.configure(conn).get_current_heads()
    return SchemaNotCurrent(",".join(current) or "-",
                            ",".join(script_directory(script_location).get_heads()))


def upgrade_to_head(engine: Engine, script_location: Path | None = None) -> None:
    """Upgrade to head; ``script_location`` is for tests that bring extra revisions."""
    # Checked without any lock first: a workstation starting while another one writes (a
    # demo build, a busy shift) must not queue for the write lock just to learn nothing is due.
    if is_at_head(engine, script_location):
        return
    if engine.dialect.name == "postgresql":
        from db.admin.roles import ConnectionKind, apply_grants, connection_kind, schema_owner

        with engine.connect() as conn:
            kind = connection_kind(conn)
            if kind is ConnectionKind.APPLICATION:
                raise _behind(conn, script_location)
            owner = schema_owner(conn) if kind is ConnectionKind.SUPERUSER else None
            conn.commit()
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                # A data migration may work in Python for minutes between two statements: not
                # the stuck workstation the idle-transaction timeout is for (db.core.engine).
                conn.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
                if owner:  # tables and triggers the migrations make belong to the owner
                    conn.execute(text('SET ROLE "{}"'.format(owner.replace('"', '""'))))
                scrub = _scrub_due(conn)
                command.upgrade(alembic_config(engine, conn, script_location), "head")
                apply_grants(conn)
                conn.commit()
            finally:
                conn.rollback()
                if owner:
                    conn.execute(text("RESET ROLE"))
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                conn.commit()
        if scrub:  # outside any transaction, as VACUUM must be; by the owner or a superuser
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
                for table in scrub:
                    auto.execute(text(f'VACUUM FULL "{table}"'))
    else:
        _upgrade_sqlite(engine, script_location)


def _upgrade_sqlite(engine: Engine, script_location: Path | None) -> None:
    """Batch mode rebuilds a table and drops the old one, which foreign keys would refuse on a
    database holding rows. The pragma cannot change inside a transaction, so it goes off before
    BEGIN, and the keys are checked by hand before commit."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection  # outside any transaction: the pragma applies
        raw.execute("PRAGMA foreign_keys = OFF")
        # Renaming the copy back to its name must not re-check triggers of other tables that
        # name the table (case_check's name "case"): the copy is the table they mean. (So a
        # migration that renames a table for good must rewrite the triggers that name it.)
        raw.execute("PRAGMA legacy_alter_table = ON")
        try:
            conn.execution_options(cityops_write=True)
            with conn.begin():
                scrub = _scrub_due(conn)
                command.upgrade(alembic_config(engine, conn, script_location), "head")
                # A batch copy of "case" leaves its triggers behind with the old table.
                from db.cases.guards import restore_sqlite_case_triggers

                restore_sqlite_case_triggers(conn)
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
            if scrub:  # the whole file rewritten, outside any transaction
                raw.execute("VACUUM")
        finally:
            raw.execute("PRAGMA legacy_alter_table = OFF")
            raw.execute("PRAGMA foreign_keys = ON")


def script_directory(script_location: Path | None = None) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(script_location=script_location))
