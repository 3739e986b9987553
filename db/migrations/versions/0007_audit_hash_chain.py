"""The audit log hash-chained: prev_hash and row_hash on every row, stamped by a trigger

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

The rule, and why a trigger computes it on both engines: :mod:`db.core.audit_chain`. Rows
already there are chained here, in id order (the append-only trigger is lifted for that, inside
this transaction only). Two nullable columns: SQLite adds and drops them in place, so
``audit_log`` is never copied.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from db.core.audit_chain import GENESIS, SQLITE_FUNCTION, row_hash, sql_canonical
from db.core.feed import FEED_LOCK_KEY

revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

AUDIT_MESSAGE = "audit_log is append-only"  # as 0001 words it
PG_AT = "to_char({p}.at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
CONTENT = ("id", "at", "actor_id", "actor_name", "action", "entity", "entity_id", "detail_json")


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(64), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sa.String(64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_pg()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_chain ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_chain()")
        op.execute("DROP FUNCTION IF EXISTS audit_log_hash(text, audit_log)")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_chain")
        op.execute("DROP TRIGGER IF EXISTS audit_log_hashes_are_set_here")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute(f"""CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END""")
    with op.batch_alter_table('audit_log', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')


# -- PostgreSQL ---------------------------------------------------------------------------

def _upgrade_pg() -> None:
    bind = op.get_bind()
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar()
    path = f'SET search_path = "{schema}", pg_temp'
    canon = sql_canonical("r", PG_AT.format(p="r"))
    op.execute(f"""
        CREATE FUNCTION audit_log_hash(prev text, r audit_log) RETURNS text
        LANGUAGE sql STABLE {path} AS $$
            SELECT encode(sha256(convert_to(prev || E'\\n' || {canon}, 'UTF8')), 'hex')
        $$""")
    # SECURITY DEFINER: runs as the owner who migrates, so the application role needs no right
    # beyond INSERT, and whatever hashes it sends are overwritten.
    op.execute(f"""
        CREATE FUNCTION audit_log_chain() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
        DECLARE
            prev text;
        BEGIN
            IF current_setting('transaction_isolation') <> 'read committed' THEN
                RAISE EXCEPTION 'audit_log chain: write audit rows in READ COMMITTED '
                    '(now %)', current_setting('transaction_isolation');
            END IF;
            -- The change feed's ordering lock: one chain writer at a time, in commit order.
            PERFORM pg_advisory_xact_lock({FEED_LOCK_KEY});
            NEW.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
            SELECT row_hash INTO prev FROM audit_log ORDER BY id DESC LIMIT 1;
            NEW.prev_hash := coalesce(prev, '{GENESIS}');
            NEW.row_hash := audit_log_hash(NEW.prev_hash, NEW);
            RETURN NEW;
        END $$""")
    # Chain what is there, in id order, before the trigger exists.
    op.execute("LOCK TABLE audit_log IN EXCLUSIVE MODE")
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
    op.execute(f"""
        DO $$
        DECLARE
            r audit_log;
            prev text := '{GENESIS}';
            h text;
        BEGIN
            FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
                h := audit_log_hash(prev, r);
                UPDATE audit_log SET prev_hash = prev, row_hash = h WHERE id = r.id;
                prev := h;
            END LOOP;
        END $$""")
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")
    op.execute("""CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_chain()""")


# -- SQLite -------------------------------------------------------------------------------

def _upgrade_sqlite() -> None:
    bind = op.get_bind()
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    # Chain what is there in Python (the migration's connection may lack the SQL function).
    columns = ", ".join(CONTENT)
    prev = GENESIS
    rows = bind.exec_driver_sql(f"SELECT {columns} FROM audit_log ORDER BY id").all()
    for row in rows:
        h = row_hash(prev, row)
        bind.exec_driver_sql("UPDATE audit_log SET prev_hash = ?, row_hash = ? WHERE id = ?",
                             (prev, h, row.id))
        prev = h
    # Append-only again, except the one stamp the chain trigger gives a row that has none.
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in CONTENT)
    op.execute(f"""CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        WHEN OLD.row_hash IS NOT NULL OR {changed}
        BEGIN SELECT RAISE(ABORT, '{AUDIT_MESSAGE}'); END""")
    # The hashes are the database's to set: a row that comes with its own is refused (the
    # stamp below could not overwrite it, the row having a hash already).
    op.execute("""CREATE TRIGGER audit_log_hashes_are_set_here BEFORE INSERT ON audit_log
        WHEN NEW.prev_hash IS NOT NULL OR NEW.row_hash IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'audit_log hashes are set by the database'); END""")
    prev_sql = (f"coalesce((SELECT row_hash FROM audit_log WHERE id < NEW.id "
                f"ORDER BY id DESC LIMIT 1), '{GENESIS}')")
    canon = sql_canonical("NEW", "CAST(NEW.at AS TEXT)")
    op.execute(f"""CREATE TRIGGER audit_log_chain AFTER INSERT ON audit_log
        BEGIN
            UPDATE audit_log SET prev_hash = {prev_sql},
                row_hash = {SQLITE_FUNCTION}({prev_sql} || char(10) || {canon})
            WHERE id = NEW.id;
        END""")
