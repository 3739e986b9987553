"""request_log is set once: a request's result is written once and never rewritten; a request id
is forgotten only after the city's retention

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

A request's row (db.core.requests) is what a retry and the re-check of an unknown outcome
believe: "done, and this was the result". The application role, which every workstation holds,
needs INSERT (the claim), UPDATE (the result, once) and DELETE (the pruning job); with them as
plain rights an insider could rewrite a done request's result (the officer's retry is then shown
a forged case), or delete a fresh id (a retry then writes twice). On PostgreSQL a BEFORE trigger
now refuses, to anyone but the schema's owner or a superuser (``may_mark_demo``, 0012: the
owner's test):

* an UPDATE other than the one the write makes: ``result_json`` from NULL to a value, with
  ``request_id``, ``operation``, ``actor_id`` and ``at`` unchanged;
* a DELETE of a row younger than the city's retention (setting ``request_retention_days``,
  1-3650, default 30) by the server's clock; on a test database (a ``caller_time_allowed`` row,
  which only the owner writes) the pruning job's clock is the test's, so any row may go.

The message starts with ``request_log_set_once``. SQLite: nothing (no roles).
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

REFUSED = "request_log_set_once"
TRIGGERS = (("request_log_set_once_update", "UPDATE"), ("request_log_set_once_delete", "DELETE"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar()
    refuse = (f"RAISE EXCEPTION '{REFUSED}: % of request % as %: a request''s record is written "
              "once and kept for the city''s retention', TG_OP, OLD.request_id, current_user "
              "USING ERRCODE = 'insufficient_privilege';")
    op.execute(f"""
        CREATE FUNCTION request_log_set_once() RETURNS trigger LANGUAGE plpgsql
        SET search_path = "{schema}", pg_temp AS $$
        DECLARE
            days integer;
        BEGIN
            IF may_mark_demo(TG_RELID) THEN  -- the owner: migrations, a restore
                RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
            END IF;
            IF TG_OP = 'UPDATE' THEN
                IF OLD.result_json IS NULL AND NEW.result_json IS NOT NULL
                        AND NEW.request_id = OLD.request_id AND NEW.operation = OLD.operation
                        AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id AND NEW.at = OLD.at THEN
                    RETURN NEW;
                END IF;
                {refuse}
            END IF;
            IF EXISTS (SELECT 1 FROM caller_time_allowed) THEN
                RETURN OLD;
            END IF;
            BEGIN
                SELECT greatest(1, least(3650, value_json::numeric::integer)) INTO days
                FROM app_setting WHERE key = 'request_retention_days';
            EXCEPTION WHEN others THEN
                days := NULL;
            END;
            IF OLD.at < clock_timestamp() - make_interval(days => coalesce(days, 30)) THEN
                RETURN OLD;
            END IF;
            {refuse}
        END $$""")
    for name, event in TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON request_log FOR EACH ROW "
                   "EXECUTE FUNCTION request_log_set_once()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _event in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON request_log")
    op.execute("DROP FUNCTION IF EXISTS request_log_set_once()")
