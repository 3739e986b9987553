"""The demo marker is the owner's: only the schema owner (or a superuser) may write app_setting
'demo' or make an account a demo account

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Demo mode (db.demo.build.demo_marker: the app_setting row 'demo' and no account with
``demo = false``) signs demo accounts in without a password, lets callers date events
(db.core.dbclock) and lets the window and the simulator connect as the owner
(db.admin.roles.refuse_privileged_workstation). The application role, which every workstation
holds, could write both halves itself and turn a control room's database into a demo. Now,
on PostgreSQL, BEFORE triggers refuse to anyone who is neither a superuser nor a member of the
table's owner (``may_mark_demo``):

* any INSERT, UPDATE or DELETE of the app_setting row whose key is (or becomes) 'demo';
* an account inserted with ``demo = true``, or updated from false to true (true to false, a demo
  account made real, ends demo mode and stays open to everyone);
* deleting a real account (``demo = false``) while the marker is there: removing the real
  accounts would bring a former demo back.

The trigger functions run as the caller (not SECURITY DEFINER): ``current_user`` is who
connected. Only the owner can drop or disable them, and ``session_replication_role`` (which
would skip them) is a superuser's. The message starts with ``demo_mark_refused``
(:data:`db.demo.build.DEMO_MARK_REFUSED`, frozen here).

SQLite: nothing. It has no roles; whoever can write the file is its owner (README, "What SQLite
cannot guarantee").
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

REFUSED = "demo_mark_refused"  # db.demo.build.DEMO_MARK_REFUSED, as it was
MARKER = "demo"  # db.demo.build.DEMO_SETTING

# (trigger, table, event, WHEN, function)
TRIGGERS = (
    ("app_setting_demo_insert", "app_setting", "INSERT", f"NEW.key = '{MARKER}'", "demo_mark_owner_only"),
    ("app_setting_demo_update", "app_setting", "UPDATE",
     f"OLD.key = '{MARKER}' OR NEW.key = '{MARKER}'", "demo_mark_owner_only"),
    ("app_setting_demo_delete", "app_setting", "DELETE", f"OLD.key = '{MARKER}'", "demo_mark_owner_only"),
    ("user_account_demo_insert", "user_account", "INSERT", "NEW.demo", "demo_mark_owner_only"),
    ("user_account_demo_update", "user_account", "UPDATE", "NEW.demo AND NOT OLD.demo",
     "demo_mark_owner_only"),
    ("user_account_real_delete", "user_account", "DELETE", "NOT OLD.demo", "real_account_kept"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar()
    path = f'SET search_path = "{schema}", pg_temp'
    # Who may: a superuser, or a member of the role that owns the table (the owner who migrates).
    op.execute("""
        CREATE FUNCTION may_mark_demo(tbl regclass) RETURNS boolean
        LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
            SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)
                OR pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = tbl),
                               'MEMBER')
        $$""")
    refuse = (f"RAISE EXCEPTION '{REFUSED}: % on % as %: only the owner of the schema may write "
              "the demo marker and the demo accounts', TG_OP, TG_TABLE_NAME, current_user "
              "USING ERRCODE = 'insufficient_privilege';")
    op.execute(f"""
        CREATE FUNCTION demo_mark_owner_only() RETURNS trigger LANGUAGE plpgsql {path} AS $$
        BEGIN
            IF NOT may_mark_demo(TG_RELID) THEN
                {refuse}
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END $$""")
    op.execute(f"""
        CREATE FUNCTION real_account_kept() RETURNS trigger LANGUAGE plpgsql {path} AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM app_setting WHERE key = '{MARKER}')
                    AND NOT may_mark_demo(TG_RELID) THEN
                {refuse}
            END IF;
            RETURN OLD;
        END $$""")
    for name, table, event, when, function in TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW "
                   f"WHEN ({when}) EXECUTE FUNCTION {function}()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, _event, _when, _function in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS real_account_kept()")
    op.execute("DROP FUNCTION IF EXISTS demo_mark_owner_only()")
    op.execute("DROP FUNCTION IF EXISTS may_mark_demo(regclass)")
