"""The database enforces the closed loop: transition table, state checks, history required at
commit, append-only history, one history row per (case, version)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

What is refused and why: :mod:`db.cases.guards`. The transition rows and the state values come
from :mod:`db.cases.workflow` (the one source the steps use), read when this revision runs;
``tests/db/cases/test_loop_guards.py`` compares the table with that source, so a later change to
the transitions fails the tests until a migration brings the table along.

PostgreSQL: ``case_transition`` is a table; BEFORE UPDATE triggers on ``case`` check the
transition and the version step; a deferred constraint trigger checks at commit that the case's
(version, state) has its history row; CHECK constraints on the state columns; ``case_history``
refuses UPDATE, DELETE and TRUNCATE. The trigger functions are SECURITY DEFINER (they run as
the owner who migrates, with a fixed search_path), so an application role needs no right on
``case_transition`` at all and cannot change it.

SQLite has no deferred triggers. The commit-time check is a deferred foreign key instead:
``case_check`` mirrors each case's (id, version, state) (kept by triggers on ``case``, refused
to anyone writing it otherwise) and refers to ``case_history(case_id, version, to_state)``,
DEFERRABLE INITIALLY DEFERRED. SQLite cannot add a CHECK to an existing table without copying
it, so the state checks are BEFORE INSERT/UPDATE triggers. ``case`` is never rebuilt here.
A later batch migration that rebuilds ``case`` on SQLite drops its triggers with the old table:
:func:`db.core.migrate.upgrade_to_head` creates any that are missing again after every upgrade
(:data:`db.cases.guards.SQLITE_CASE_TRIGGERS`).
"""
from typing import Sequence, Union

from alembic import op

from db.cases.guards import (
    HISTORY_APPEND_ONLY,
    HISTORY_MISSING,
    SQLITE_CASE_TRIGGERS,
    SQLITE_HISTORY_GUARDS,
    STATE_REFUSED,
    STATES,
    TRANSITION_REFUSED,
    VERSION_REFUSED,
    sql_list,
    transition_rows,
)

revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _fill_transitions() -> None:
    op.execute("""
        CREATE TABLE case_transition (
            step VARCHAR(24) NOT NULL,
            from_state VARCHAR(20) NOT NULL,
            to_state VARCHAR(20) NOT NULL,
            CONSTRAINT pk_case_transition PRIMARY KEY (step, from_state)
        )""")
    values = ",".join(f"('{s}','{f}','{t}')" for s, f, t in transition_rows())
    op.execute(f"INSERT INTO case_transition (step, from_state, to_state) VALUES {values}")


def _refuse_duplicate_history() -> None:
    """Every writer so far adds one history row per version; a database where that is not so
    was edited by hand, and the unique index would fail with a less helpful message."""
    dup = op.get_bind().exec_driver_sql(
        "SELECT case_id, version FROM case_history GROUP BY case_id, version "
        "HAVING count(*) > 1 ORDER BY case_id LIMIT 5").all()
    if dup:
        raise RuntimeError(
            "case_history holds two rows for one (case, version), e.g. "
            f"{[tuple(r) for r in dup]}; resolve them before upgrading (migration 0006)")


def upgrade() -> None:
    _refuse_duplicate_history()
    _fill_transitions()
    op.execute("CREATE UNIQUE INDEX uq_case_history_case_id_version "
               "ON case_history (case_id, version)")
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_pg()
    else:
        _upgrade_sqlite()


# -- PostgreSQL ---------------------------------------------------------------------------

def _definer() -> str:
    """SECURITY DEFINER with the schema fixed at migration time (pg_temp last: a temporary
    table of the caller's can never stand in for ours)."""
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar()
    return f'SECURITY DEFINER SET search_path = "{schema}", pg_temp'


def _upgrade_pg() -> None:
    states = sql_list(STATES)
    op.execute(f'ALTER TABLE "case" ADD CONSTRAINT ck_case_state CHECK (state IN ({states}))')
    op.execute(f"ALTER TABLE case_history ADD CONSTRAINT ck_case_history_to_state "
               f"CHECK (to_state IN ({states}))")
    op.execute(f"ALTER TABLE case_history ADD CONSTRAINT ck_case_history_from_state "
               f"CHECK (from_state IS NULL OR from_state IN ({states}))")
    definer = _definer()
    op.execute(f"""
        CREATE FUNCTION case_state_guard() RETURNS trigger LANGUAGE plpgsql {definer} AS $$
        BEGIN
            IF NEW.state IS DISTINCT FROM OLD.state AND NOT EXISTS (
                    SELECT 1 FROM case_transition
                    WHERE from_state = OLD.state AND to_state = NEW.state) THEN
                RAISE EXCEPTION '{TRANSITION_REFUSED}: case % from % to %',
                    OLD.id, OLD.state, NEW.state USING ERRCODE = 'check_violation';
            END IF;
            IF (NEW.version IS DISTINCT FROM OLD.version OR NEW.state IS DISTINCT FROM OLD.state)
                    AND NEW.version IS DISTINCT FROM OLD.version + 1 THEN
                RAISE EXCEPTION '{VERSION_REFUSED}: case % version % to % (one step, one version)',
                    OLD.id, OLD.version, NEW.version USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$""")
    op.execute("""
        CREATE TRIGGER case_state_guard BEFORE UPDATE OF state, version ON "case"
        FOR EACH ROW EXECUTE FUNCTION case_state_guard()""")
    # At commit: the case as it stands then has the history row of its version and state.
    op.execute(f"""
        CREATE FUNCTION case_history_required() RETURNS trigger LANGUAGE plpgsql {definer} AS $$
        DECLARE
            cur_state text;
            cur_version integer;
            written text;
        BEGIN
            SELECT state, version INTO cur_state, cur_version FROM "case" WHERE id = NEW.id;
            IF NOT FOUND THEN
                RETURN NULL;  -- deleted later in the same transaction
            END IF;
            SELECT to_state INTO written FROM case_history
            WHERE case_id = NEW.id AND version = cur_version;
            IF written IS DISTINCT FROM cur_state THEN
                RAISE EXCEPTION '{HISTORY_MISSING}: case % is % at version % with no history row '
                    'for it', NEW.id, cur_state, cur_version USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE CONSTRAINT TRIGGER case_history_required_insert AFTER INSERT ON "case"
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION case_history_required()""")
    op.execute("""
        CREATE CONSTRAINT TRIGGER case_history_required_update AFTER UPDATE OF state, version
        ON "case" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.version IS DISTINCT FROM NEW.version)
        EXECUTE FUNCTION case_history_required()""")
    op.execute(f"""
        CREATE FUNCTION case_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{HISTORY_APPEND_ONLY}'; END $$""")
    op.execute("""
        CREATE TRIGGER case_history_no_change BEFORE UPDATE OR DELETE ON case_history
        FOR EACH ROW EXECUTE FUNCTION case_history_append_only()""")
    op.execute("""
        CREATE TRIGGER case_history_no_truncate BEFORE TRUNCATE ON case_history
        FOR EACH STATEMENT EXECUTE FUNCTION case_history_append_only()""")


def _downgrade_pg() -> None:
    op.execute("DROP TRIGGER IF EXISTS case_history_no_truncate ON case_history")
    op.execute("DROP TRIGGER IF EXISTS case_history_no_change ON case_history")
    op.execute("DROP FUNCTION IF EXISTS case_history_append_only()")
    op.execute('DROP TRIGGER IF EXISTS case_history_required_update ON "case"')
    op.execute('DROP TRIGGER IF EXISTS case_history_required_insert ON "case"')
    op.execute("DROP FUNCTION IF EXISTS case_history_required()")
    op.execute('DROP TRIGGER IF EXISTS case_state_guard ON "case"')
    op.execute("DROP FUNCTION IF EXISTS case_state_guard()")
    op.execute("ALTER TABLE case_history DROP CONSTRAINT IF EXISTS ck_case_history_from_state")
    op.execute("ALTER TABLE case_history DROP CONSTRAINT IF EXISTS ck_case_history_to_state")
    op.execute('ALTER TABLE "case" DROP CONSTRAINT IF EXISTS ck_case_state')


# -- SQLite -------------------------------------------------------------------------------

def _upgrade_sqlite() -> None:
    states = sql_list(STATES)
    # The parent key of case_check's deferred foreign key.
    op.execute("CREATE UNIQUE INDEX uq_case_history_case_id_version_to_state "
               "ON case_history (case_id, version, to_state)")
    op.execute("""
        CREATE TABLE case_check (
            case_id INTEGER NOT NULL PRIMARY KEY REFERENCES "case" (id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            state VARCHAR(20) NOT NULL,
            CONSTRAINT fk_case_check_history FOREIGN KEY (case_id, version, state)
                REFERENCES case_history (case_id, version, to_state)
                DEFERRABLE INITIALLY DEFERRED
        )""")
    # Only the case's own triggers write case_check: a row must mirror its case as it is.
    head = ('NEW.version IS NOT (SELECT version FROM "case" WHERE id = NEW.case_id) '
            'OR NEW.state IS NOT (SELECT state FROM "case" WHERE id = NEW.case_id)')
    for verb in ("INSERT", "UPDATE"):
        op.execute(f"""CREATE TRIGGER case_check_mirrors_{verb.lower()} BEFORE {verb}
            ON case_check WHEN {head}
            BEGIN SELECT RAISE(ABORT, '{HISTORY_MISSING}'); END""")
    op.execute(f"""CREATE TRIGGER case_check_no_delete BEFORE DELETE ON case_check
        WHEN EXISTS (SELECT 1 FROM "case" WHERE id = OLD.case_id)
        BEGIN SELECT RAISE(ABORT, '{HISTORY_MISSING}'); END""")
    # Existing cases whose head has its history row (all of them, unless written by hand).
    op.execute("""
        INSERT INTO case_check (case_id, version, state)
        SELECT c.id, c.version, c.state FROM "case" c
        WHERE EXISTS (SELECT 1 FROM case_history h
                      WHERE h.case_id = c.id AND h.version = c.version
                      AND h.to_state = c.state)""")
    for _name, ddl in SQLITE_CASE_TRIGGERS:
        op.execute(ddl)
    op.execute(f"""CREATE TRIGGER case_history_state_value BEFORE INSERT ON case_history
        WHEN NEW.to_state NOT IN ({states})
             OR (NEW.from_state IS NOT NULL AND NEW.from_state NOT IN ({states}))
        BEGIN SELECT RAISE(ABORT, '{STATE_REFUSED}'); END""")
    for _name, ddl in SQLITE_HISTORY_GUARDS:
        op.execute(ddl)


SQLITE_TRIGGERS = (
    *(name for name, _ddl in SQLITE_CASE_TRIGGERS),
    "case_check_mirrors_insert", "case_check_mirrors_update", "case_check_no_delete",
    "case_history_state_value", *(name for name, _ddl in SQLITE_HISTORY_GUARDS))


def _downgrade_sqlite() -> None:
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS case_check")
    op.execute("DROP INDEX IF EXISTS uq_case_history_case_id_version_to_state")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _downgrade_pg()
    else:
        _downgrade_sqlite()
    op.execute("DROP INDEX IF EXISTS uq_case_history_case_id_version")
    op.execute("DROP TABLE IF EXISTS case_transition")
