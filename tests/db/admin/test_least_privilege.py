"""Least privilege on PostgreSQL, attacked as an insider with a workstation's credentials would.

Every test here connects as the application role (``pg_env``: the control room's roles made by
``db.admin.roles.setup_roles`` on the project's SCRAM cluster, scripts/pg-cluster.sh). Before
this work the workstations held the superuser's connection, and every statement below
succeeded: the audit log's triggers switched off and the log edited, a case's timeline
rewritten, the server's files read.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.exc import DBAPIError

from db.admin.roles import (
    ConnectionKind,
    apply_grants,
    connection_kind,
    refuse_privileged_connection,
    refuse_privileged_workstation,
)
from db.auth.roles import Role
from db.cases.workflow import State, Step
from db.core import feed, jobs
from db.core.engine import open_database
from db.core.errors import PrivilegedConnection, SchemaNotCurrent
from db.demo.build import DEMO_SETTING
from db.models import AppSetting, AuditLog, Case, CaseHistory, UserAccount
from tests.conftest import (
    PG_ADMIN_URL,
    PG_PORT,
    TEST_APP,
    TEST_OWNER,
    drop_pg,
    grant_database,
    pg_url,
    setup_test_roles,
)
from tests.helpers import report, step_args, take

INSUFFICIENT_PRIVILEGE = "42501"


def _trigger_on(env, table: str) -> str:
    with env.database.read() as s:
        name = s.scalar(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) "
            "AND NOT tgisinternal ORDER BY tgname LIMIT 1"), {"t": table})
    assert name, f"{table} has no trigger to attack"
    return name


def _refused(env, sql: str) -> DBAPIError:
    """Run ``sql`` as the application role in its own transaction; it must be refused."""
    with pytest.raises(DBAPIError) as caught:
        with env.database.write() as s:
            s.execute(text(sql))
    return caught.value


@pytest.fixture
def worked(pg_env):
    """A case reported and accepted, so that audit_log and case_history hold rows."""
    r = report(pg_env)
    r = take(pg_env, r, Step.ACCEPT)
    return pg_env, r


def _record(env) -> tuple:
    """What the attacks must leave as it was: every audit and history row."""
    with env.database.read() as s:
        audit = s.execute(select(AuditLog.id, AuditLog.action, AuditLog.actor_id)
                          .order_by(AuditLog.id)).all()
        history = s.execute(select(CaseHistory.id, CaseHistory.to_state, CaseHistory.opinion)
                            .order_by(CaseHistory.id)).all()
    return audit, history


def test_the_application_role_cannot_switch_off_or_rewrite_the_record(worked):
    env, r = worked
    before = _record(env)
    assert len(before[0]) >= 2 and len(before[1]) >= 2  # reported and accepted
    audit_trigger = _trigger_on(env, "audit_log")
    attacks = [
        "ALTER TABLE audit_log DISABLE TRIGGER USER",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        f'DROP TRIGGER "{audit_trigger}" ON audit_log',
        "SET session_replication_role = replica",
        "SET LOCAL session_replication_role = replica",
        "TRUNCATE audit_log",
        "TRUNCATE case_history",
        'TRUNCATE "case" CASCADE',
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "UPDATE case_history SET opinion = '改写的时间线'",
        "DELETE FROM case_history",
        "ALTER TABLE case_history DISABLE TRIGGER ALL",
        "DROP TABLE audit_log",
        "ALTER TABLE audit_log ADD COLUMN note text",
        "UPDATE alembic_version SET version_num = '0001'",
    ]
    for sql in attacks:
        err = _refused(env, sql)
        assert err.orig.sqlstate == INSUFFICIENT_PRIVILEGE, (sql, str(err.orig))
    assert _record(env) == before
    with env.database.read() as s:  # the triggers are still there and enabled
        disabled = s.scalar(text(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
            "AND NOT tgisinternal AND tgenabled = 'D'"))
        assert disabled == 0
        assert s.scalar(text("SHOW session_replication_role")) == "origin"


def test_the_application_role_cannot_read_server_files_or_make_objects(pg_env):
    attacks = [
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_read_binary_file('/etc/passwd')",
        "SELECT pg_ls_dir('.')",
        "COPY audit_log TO '/tmp/cityops-stolen.csv'",
        "COPY (SELECT 1) TO PROGRAM 'id'",
        "SELECT lo_import('/etc/passwd')",
        "CREATE TABLE stolen (x text)",
        "CREATE TEMP TABLE stolen (x text)",
        "CREATE VIEW v AS SELECT 1",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE SCHEMA mine",
        f'SET ROLE "{TEST_OWNER}"',
        f'GRANT "{TEST_OWNER}" TO "{TEST_APP}"',
        f'ALTER ROLE "{TEST_APP}" SUPERUSER',
        "SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), 1)",
    ]
    for sql in attacks:
        err = _refused(pg_env, sql)
        assert err.orig.sqlstate == INSUFFICIENT_PRIVILEGE, (sql, str(err.orig))


def test_the_ordinary_workflow_runs_as_the_application_role(pg_env):
    with pg_env.database.engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == TEST_APP
        assert connection_kind(conn) is ConnectionKind.APPLICATION
    r = report(pg_env)
    for step in (Step.ACCEPT, Step.OPEN, Step.DISPATCH):
        r = take(pg_env, r, step, **({"department_id": step_args(pg_env, step)["department_id"]}
                                     if step is Step.DISPATCH else {}))
    assert r.state is State.HANDLING
    with pg_env.database.read() as s:
        case = s.get(Case, r.case_id)
        assert (case.state, case.version) == (State.HANDLING.value, 4)
        assert s.scalar(select(func.count()).select_from(CaseHistory)
                        .where(CaseHistory.case_id == r.case_id)) == 4
        assert s.scalar(select(func.count()).select_from(AuditLog)
                        .where(AuditLog.entity == "case", AuditLog.entity_id == r.case_id)) == 4
    # The change feed and the scheduled jobs (pruning deletes change-log rows) work too.
    with pg_env.database.read() as s:
        assert feed.latest_seq(s) > 0
    run = jobs.run(pg_env.database, "feed.prune")
    assert run.outcome == jobs.OK, run.error
    refuse_privileged_workstation(pg_env.database)  # a workstation may use this connection
    refuse_privileged_connection(pg_env.database, demo=False)


def test_a_superuser_or_owner_connection_is_refused_outside_demo_mode(pg_env):
    superuser = open_database(pg_url(pg_env.database.engine.url.database), migrate=False)
    owner = open_database(pg_env.owner_url, migrate=False)
    try:
        for database, kind, role in ((superuser, ConnectionKind.SUPERUSER, "cityops_admin"),
                                     (owner, ConnectionKind.OWNER, TEST_OWNER)):
            with database.engine.connect() as conn:
                assert connection_kind(conn) is kind
            with pytest.raises(PrivilegedConnection) as caught:
                refuse_privileged_workstation(database)
            assert caught.value.code == "privileged_connection"
            assert caught.value.params["kind"] == kind.value
            if role == TEST_OWNER or PG_ADMIN_URL.endswith(":55432/postgres"):
                assert caught.value.params["role"] == role
            assert "setup-roles" in caught.value.message
        # On a demo database (marked, and holding no real account: the owner's to make,
        # migration 0012), any connection may run the demo.
        with owner.write() as s:
            s.add(AppSetting(key=DEMO_SETTING, value_json="{}"))
            s.execute(update(UserAccount).values(demo=True))
        refuse_privileged_workstation(owner)
        refuse_privileged_workstation(superuser)
    finally:
        superuser.dispose()
        owner.dispose()


def test_migrations_run_as_the_owner_and_the_application_role_only_checks_the_head(pg_template):
    name = f"cityops_roles_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    try:
        setup_test_roles(name)
        # The application role may not make the schema: it is told who can.
        with pytest.raises(SchemaNotCurrent) as caught:
            open_database(pg_url(name, TEST_APP))
        assert caught.value.code == "schema_not_current"
        assert "cityops db migrate --owner-url" in caught.value.message
        assert caught.value.params["current"] == "-"
        # A superuser's migration runs as the owner (SET ROLE), so the owner owns everything.
        open_database(pg_url(name)).dispose()
        app = open_database(pg_url(name, TEST_APP))
        try:
            with app.read() as s:
                owners = set(s.scalars(text(
                    "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")))
                assert owners == {TEST_OWNER}
                assert s.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")) > 10
            with app.write() as s:  # the schema is the application role's to use
                s.execute(text("INSERT INTO app_setting (key, value_json, updated_at) VALUES ('k', '1', now())"))
        finally:
            app.dispose()
    finally:
        drop_pg(name)


def test_grants_follow_new_tables_and_the_append_only_rule_is_reapplied(pg_env):
    """What a later migration does, done by hand as the owner: a new table (with a sequence)
    is the application role's to use at once (default privileges), and a migration that gave
    UPDATE or DELETE on an append-only table loses it again in the post-migration grant step."""
    owner = create_engine(pg_env.owner_url)
    try:
        with owner.begin() as conn:
            conn.execute(text("CREATE TABLE later_table (id serial PRIMARY KEY, note text)"))
            conn.execute(text(f'GRANT UPDATE, DELETE, TRUNCATE ON audit_log, case_history '
                              f'TO "{TEST_APP}"'))
        with pg_env.database.write() as s:
            s.execute(text("INSERT INTO later_table (note) VALUES ('ok')"))
            s.execute(text("UPDATE later_table SET note = 'changed'"))
        with owner.begin() as conn:
            assert apply_grants(conn) == [TEST_APP]
            assert apply_grants(conn) == [TEST_APP]  # idempotent
    finally:
        owner.dispose()
    for sql in ("UPDATE audit_log SET action = 'x'", "DELETE FROM case_history",
                "TRUNCATE audit_log", "TRUNCATE later_table"):
        assert _refused(pg_env, sql).orig.sqlstate == INSUFFICIENT_PRIVILEGE, sql
    with pg_env.database.write() as s:
        s.execute(text("INSERT INTO later_table (note) VALUES ('still works')"))
        assert s.scalar(text("SELECT count(*) FROM later_table")) == 2


def test_setup_roles_again_keeps_working_passwords_and_the_rules(pg_env):
    """Idempotent: a second set-up on a database in use changes no password and no right."""
    name = pg_env.database.engine.url.database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        grant_database(conn, name, TEST_OWNER, TEST_APP)
    admin.dispose()
    setup_test_roles(name)
    pg_env.database.engine.dispose()  # new connections: the password file still opens them
    r = report(pg_env, role=Role.DUTY_OFFICER)
    assert r.state is State.PENDING_ACCEPT
    assert _refused(pg_env, "UPDATE audit_log SET action = 'x'").orig.sqlstate == INSUFFICIENT_PRIVILEGE


def test_setup_roles_on_a_database_migrated_before_roles_existed(pg_server):
    """Today's deployments: the schema was made by the superuser. Set-up hands every table,
    sequence and trigger function to the owner, and the application role then works rows only."""
    name = f"cityops_old_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    try:
        open_database(pg_url(name)).dispose()  # migrated by the superuser, no roles yet
        setup_test_roles(name)
        check = create_engine(pg_url(name))
        with check.connect() as conn:
            others = conn.execute(text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'v') "
                "AND pg_get_userbyid(c.relowner) <> :o "
                "UNION ALL SELECT p.proname FROM pg_proc p JOIN pg_namespace n "
                "ON n.oid = p.pronamespace WHERE n.nspname = 'public' "
                "AND pg_get_userbyid(p.proowner) <> :o"), {"o": TEST_OWNER}).scalars().all()
        check.dispose()
        assert others == []
        app = open_database(pg_url(name, TEST_APP))
        try:
            with app.write() as s:
                s.execute(text("INSERT INTO app_setting (key, value_json, updated_at) "
                               "VALUES ('k', '1', now())"))
            with pytest.raises(DBAPIError) as caught:
                with app.write() as s:
                    s.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            assert caught.value.orig.sqlstate == INSUFFICIENT_PRIVILEGE
        finally:
            app.dispose()
    finally:
        drop_pg(name)


def test_the_test_cluster_asks_everyone_for_a_password(pg_server):
    """What scripts/pg-cluster.sh makes: no trust rule, SCRAM only, so the rights tested above
    are the roles' and not a trust rule's (the machine's default cluster trusts local users)."""
    import os
    import subprocess

    from tests.conftest import OWN_CLUSTER

    if not OWN_CLUSTER:
        pytest.skip("CITYOPS_TEST_PG_URL names another server: its rules are its own")
    admin = create_engine(PG_ADMIN_URL)
    with admin.connect() as conn:
        methods = set(conn.execute(text("SELECT auth_method FROM pg_hba_file_rules")).scalars())
        encryption = conn.execute(text("SHOW password_encryption")).scalar()
        verifiers = conn.execute(text(
            "SELECT count(*) FILTER (WHERE rolpassword LIKE 'SCRAM-SHA-256$%'), count(*) "
            "FROM pg_authid WHERE rolpassword IS NOT NULL")).one()
        listen = conn.execute(text("SHOW listen_addresses")).scalar()
    admin.dispose()
    assert methods == {"scram-sha-256"} and encryption == "scram-sha-256"
    assert verifiers[0] == verifiers[1] >= 3  # the superuser and the two test roles at least
    assert listen == "127.0.0.1"
    # Without the password file, libpq has nothing to offer and the server says no.
    env = {k: v for k, v in os.environ.items() if k not in ("PGPASSFILE", "PGPASSWORD")}
    env["PGPASSFILE"] = os.devnull
    for user in ("cityops_admin", TEST_APP):
        out = subprocess.run(["psql", "-w", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", user,
                              "-d", "postgres", "-Atc", "SELECT 1"],
                             capture_output=True, text=True, timeout=30, env=env)
        assert out.returncode != 0 and "password" in out.stderr, out.stderr
