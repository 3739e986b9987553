"""The owner role and the application role on PostgreSQL (``cityops db setup-roles``).

The **owner** (default ``cityops_owner``) owns the schema ``public`` and everything in it: it
runs the migrations, so it owns the tables and their triggers. The **application role**
(default ``cityops_app``) is what workstations, gateways and the simulator connect as. It holds
exactly:

- ``CONNECT`` on the database and ``USAGE`` on the schema (no ``CREATE``: no table, view,
  function or trigger of its own; no ``TEMPORARY`` either);
- ``SELECT, INSERT, UPDATE, DELETE`` on the tables, and ``USAGE, SELECT`` on their sequences;
- on the append-only tables (:data:`APPEND_ONLY_TABLES`: ``audit_log``, ``case_history``) only
  ``SELECT, INSERT``; on the read-only tables (:data:`READ_ONLY_TABLES`) only ``SELECT``:
  ``alembic_version`` (to check the schema is at head), ``case_transition``, and
  ``caller_time_allowed`` (a test database's mark: the application role must not be able to
  make a database take its callers' times, :mod:`db.core.dbclock`).

What it therefore cannot do, because PostgreSQL keeps these for a table's owner or a superuser:
``ALTER TABLE … DISABLE TRIGGER``, ``DROP TRIGGER``, any DDL, ``TRUNCATE`` (never granted),
``SET session_replication_role`` (a superuser setting), ``pg_read_file`` and the other server
file functions (superuser or ``pg_read_server_files``, whose memberships set-up strips). Nor,
by the triggers of migration 0012, write the demo marker or make an account a demo account:
demo mode (no passwords, callers' times, the owner's connection for the window) is the owner's
to give (:func:`db.demo.build.demo_marker`). Both roles are made ``NOSUPERUSER NOCREATEDB
NOCREATEROLE NOREPLICATION NOBYPASSRLS``.

Grants must follow the schema as migrations add tables: set-up records ``ALTER DEFAULT
PRIVILEGES FOR ROLE owner IN SCHEMA public`` (new tables and sequences are the application
role's to use), and every migration run ends with :func:`apply_grants`, which (re)grants on
every table and re-applies the append-only rule. The application roles are read back from those
default privileges, so nothing else has to remember their names.

Passwords: the new roles' passwords are random, sent to the server only as SCRAM verifiers
(hashed by libpq on this side, so no server log can show them), and written to the libpq
password file (:mod:`db.admin.passwords`). A role that already has a line there keeps its
password, so running set-up again changes nothing that works.
"""
from __future__ import annotations

import enum
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from db.admin.passwords import new_password, pgpass_lookup, refuse_password_in_url, write_pgpass
from db.core.config import normalise_url, url_servers
from db.core.errors import CityOpsError, PrivilegedConnection

OWNER_ROLE = "cityops_owner"
APP_ROLE = "cityops_app"
SCHEMA = "public"
#: Tables the application role may only add to and read: the record of what happened.
APPEND_ONLY_TABLES = ("audit_log", "case_history")
#: Tables the application role may only read.
READ_ONLY_TABLES = ("alembic_version", "case_transition", "caller_time_allowed")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class ConnectionKind(enum.StrEnum):
    """What a connection may do to the database's rules."""

    SUPERUSER = "superuser"  # superuser, or a role that can make roles, replicate or bypass RLS
    OWNER = "owner"  # may change the schema: owns it or a table in it, or may create in it
    APPLICATION = "application"  # rows only


class NotSuperuser(CityOpsError):
    code = "not_superuser"

    def __init__(self, role: str) -> None:
        super().__init__(f"{role} 不是超级用户，不能建立角色", role=role)


@dataclass
class RoleSetup:
    """What :func:`setup_roles` did. ``passwords`` holds the new passwords only when no password
    file was given (the caller shows them once); otherwise it is empty."""

    database: str
    owner: str
    app: str
    created: list[str] = field(default_factory=list)
    new_password_for: list[str] = field(default_factory=list)
    pgpass: Path | None = None
    passwords: dict[str, str] = field(default_factory=dict, repr=False)


def _ident(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a plain role name: {name!r}")
    return f'"{name}"'


def connection_kind(conn: Connection) -> ConnectionKind:
    """Who this connection is, as far as the rules go (PostgreSQL only)."""
    row = conn.execute(text(
        "SELECT r.rolsuper OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls AS super, "
        "       has_schema_privilege(current_user, n.oid, 'CREATE') "
        "       OR pg_has_role(current_user, n.nspowner, 'MEMBER') "
        "       OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid "
        "                  AND c.relkind IN ('r', 'p') "
        "                  AND pg_has_role(current_user, c.relowner, 'MEMBER')) AS owner "
        "FROM pg_roles r, pg_namespace n "
        "WHERE r.rolname = current_user AND n.nspname = :schema"), {"schema": SCHEMA}).one()
    if row.super:
        return ConnectionKind.SUPERUSER
    if row.owner:
        return ConnectionKind.OWNER
    return ConnectionKind.APPLICATION


def current_role(conn: Connection) -> str:
    return conn.execute(text("SELECT current_user")).scalar_one()


def refuse_privileged_connection(database, *, demo: bool) -> None:
    """Raise :class:`PrivilegedConnection` when ``database`` (PostgreSQL) is connected as a
    superuser or the owner and this is not demo mode. SQLite has no roles: nothing to refuse."""
    if not database.is_postgres or demo:
        return
    with database.engine.connect() as conn:
        kind = connection_kind(conn)
        if kind is not ConnectionKind.APPLICATION:
            raise PrivilegedConnection(current_role(conn), kind.value)


def is_demo_database(database) -> bool:
    """Whether ``database`` is marked as demo data (False when it cannot tell: no schema yet)."""
    from sqlalchemy.exc import SQLAlchemyError

    from db.auth.accounts import demo_info

    try:
        return demo_info(database) is not None
    except SQLAlchemyError:
        return False


def refuse_privileged_workstation(database) -> None:
    """For a workstation, gateway or simulator: :func:`refuse_privileged_connection`, with demo
    mode read from the database itself."""
    if database.is_postgres:
        refuse_privileged_connection(database, demo=is_demo_database(database))


def schema_owner(conn: Connection) -> str | None:
    """The role the migrations run as: the owner of the schema, when set-up made one (a plain
    role; the default owner, a superuser or ``pg_database_owner``, is none)."""
    return conn.execute(text(
        "SELECT r.rolname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner "
        "WHERE n.nspname = :schema AND NOT r.rolsuper AND r.rolname <> 'pg_database_owner' "
        "AND EXISTS (SELECT 1 FROM pg_default_acl d WHERE d.defaclrole = r.oid "
        "            AND d.defaclnamespace = n.oid)"), {"schema": SCHEMA}).scalar()


def application_roles(conn: Connection) -> list[str]:
    """The roles the schema owner's default privileges grant tables to (set-up's record)."""
    return list(conn.execute(text(
        "SELECT DISTINCT g.rolname FROM pg_default_acl d "
        "JOIN pg_namespace n ON n.oid = d.defaclnamespace "
        "CROSS JOIN LATERAL aclexplode(d.defaclacl) a "
        "JOIN pg_roles g ON g.oid = a.grantee "
        "WHERE n.nspname = :schema AND d.defaclobjtype = 'r' AND a.grantee <> d.defaclrole "
        "ORDER BY g.rolname"), {"schema": SCHEMA}).scalars())


def _existing_tables(conn: Connection, names: tuple[str, ...]) -> list[str]:
    return list(conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND c.relname = ANY(:names) "
        "ORDER BY c.relname"), {"schema": SCHEMA, "names": list(names)}).scalars())


def apply_grants(conn: Connection) -> list[str]:
    """(Re)grant the application roles their rights on every table and sequence, and re-apply
    the append-only and read-only rules. Idempotent; run after every migration (by the owner or
    a superuser). Returns the application roles it granted to (none on a database without
    set-up, such as a developer's trust cluster)."""
    apps = application_roles(conn)
    append_only = _existing_tables(conn, APPEND_ONLY_TABLES)
    read_only = _existing_tables(conn, READ_ONLY_TABLES)
    for app in apps:
        role = _ident(app)
        statements = [
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {SCHEMA} TO {role}",
            f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {SCHEMA} FROM {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {role}",
            f"REVOKE UPDATE ON ALL SEQUENCES IN SCHEMA {SCHEMA} FROM {role}",
        ]
        statements += [f'REVOKE UPDATE, DELETE ON "{t}" FROM {role}' for t in append_only]
        statements += [f'REVOKE INSERT, UPDATE, DELETE ON "{t}" FROM {role}' for t in read_only]
        for statement in statements:
            conn.execute(text(statement))
    return apps


def _take_ownership(conn: Connection, owner: str) -> None:
    """A database migrated before set-up: the owner takes what is in the schema (tables carry
    their indexes, triggers and column sequences along)."""
    who = _ident(owner)
    rows = conn.execute(text(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
        "AND pg_get_userbyid(c.relowner) <> :owner ORDER BY c.relname"),
        {"schema": SCHEMA, "owner": owner}).all()
    words = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW"}
    for name, kind in rows:
        conn.execute(text(f'ALTER {words[kind]} {SCHEMA}."{name}" OWNER TO {who}'))
    # Sequences no table column owns (those that one does moved with their table above).
    for (name,) in conn.execute(text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> :owner "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid "
            "                AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))"),
            {"schema": SCHEMA, "owner": owner}):
        conn.execute(text(f'ALTER SEQUENCE {SCHEMA}."{name}" OWNER TO {who}'))
    for (signature,) in conn.execute(text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = :schema AND pg_get_userbyid(p.proowner) <> :owner"),
            {"schema": SCHEMA, "owner": owner}):
        conn.execute(text(f"ALTER ROUTINE {signature} OWNER TO {who}"))
    for (name,) in conn.execute(text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = :schema AND t.typtype IN ('e', 'd') "
            "AND pg_get_userbyid(t.typowner) <> :owner"), {"schema": SCHEMA, "owner": owner}):
        conn.execute(text(f'ALTER TYPE {SCHEMA}."{name}" OWNER TO {who}'))


def _scram_verifier(conn: Connection, role: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier libpq computes on this side (``PQencryptPasswordConn``): the
    server gets only the verifier, so the password is in no statement a log could keep."""
    raw = conn.connection.driver_connection
    return raw.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()


def _set_password(conn: Connection, role: str, password: str) -> None:
    from psycopg import sql

    verifier = _scram_verifier(conn, role, password)
    raw = conn.connection.driver_connection
    raw.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role),
                                                             sql.Literal(verifier)))


def _role_exists(conn: Connection, role: str) -> bool:
    return conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is not None


def _pgpass_hosts(host: str | None) -> list[str]:
    if host in (None, "", "localhost", "127.0.0.1"):
        return ["127.0.0.1", "localhost"]
    return [host]


def setup_roles(superuser_url: str, *, owner: str = OWNER_ROLE, app: str = APP_ROLE,
                pgpass: Path | None = None, reset_passwords: bool = False,
                pgpass_port: str | None = None) -> RoleSetup:
    """Make (or bring back to spec) the owner and application roles for the database that
    ``superuser_url`` names, connected as a superuser whose password libpq finds itself.

    A role that does not exist yet, or has no line in ``pgpass`` (or ``reset_passwords``), gets
    a new random password: written to ``pgpass`` when given, else returned in
    :attr:`RoleSetup.passwords` for the caller to show once. Idempotent otherwise.
    ``pgpass_port`` writes the lines for another port field than the URL's (``*``: any port,
    for tests that reach the server through a proxy).
    """
    if owner == app:
        raise ValueError("the owner and the application role must differ")
    _ident(owner), _ident(app)
    refuse_password_in_url(superuser_url, "--superuser-url")
    url = make_url(normalise_url(superuser_url))
    if url.get_backend_name() != "postgresql" or not url.database:
        raise ValueError("setup-roles needs a postgresql:// URL that names the database")
    dbname = url.database
    result = RoleSetup(database=dbname, owner=owner, app=app, pgpass=pgpass)
    # Every server the URL names (a primary and its standby share the roles, replicated).
    servers = [(_pgpass_hosts(host), port) for host, port in url_servers(url)]
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn, _cluster_lock(url):
            me = current_role(conn)
            if not conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
                raise NotSuperuser(me)
            for role in (owner, app):
                _make_role(conn, role, result, servers, reset_passwords, pgpass_port)
            _grant(conn, dbname, owner, app)
    finally:
        engine.dispose()
    return result


@contextmanager
def _cluster_lock(url):
    """One set-up at a time on the cluster: roles are the cluster's, and two set-ups (two test
    runs starting together) must not give a role two passwords. An advisory lock is keyed per
    database, so it is taken in the ``postgres`` maintenance database that every cluster has."""
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        conn = engine.connect()
    except Exception:  # no maintenance database: set-up runs unserialised
        engine.dispose()
        yield
        return
    try:
        conn.execute(text("SELECT pg_advisory_lock(hashtext('cityops.setup_roles'))"))
        yield
    finally:
        conn.close()  # the session lock goes with the session
        engine.dispose()


_ROLE_ATTRS = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"


def _make_role(conn: Connection, role: str, result: RoleSetup,
               servers: list[tuple[list[str], int]], reset: bool,
               pgpass_port: str | None) -> None:
    who = _ident(role)
    if _role_exists(conn, role):
        conn.execute(text(f"ALTER ROLE {who} {_ROLE_ATTRS}"))
    else:
        try:
            conn.execute(text(f"CREATE ROLE {who} {_ROLE_ATTRS}"))
            result.created.append(role)
        except Exception:  # made meanwhile by another set-up (roles are the cluster's)
            if not _role_exists(conn, role):
                raise
    # Whatever roles it was given before (pg_read_server_files, the owner…) it loses.
    for (granted,) in conn.execute(text(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = :r"), {"r": role}).all():
        conn.execute(text(f'REVOKE "{granted}" FROM {who}'))
    known = None
    if result.pgpass is not None and not reset and role not in result.created:
        known = next((pw for hosts, port in servers
                      if (pw := pgpass_lookup(result.pgpass, hosts[0], port, role)) is not None),
                     None)
    if known is not None:  # kept; a server of the URL the file lacks gets the same line
        for hosts, port in servers:
            if pgpass_lookup(result.pgpass, hosts[0], port, role) is None:
                write_pgpass(result.pgpass, role, known, hosts=hosts, port=pgpass_port or port)
        return
    password = new_password()
    _set_password(conn, role, password)
    result.new_password_for.append(role)
    if result.pgpass is not None:
        for hosts, port in servers:
            write_pgpass(result.pgpass, role, password, hosts=hosts, port=pgpass_port or port)
    else:
        result.passwords[role] = password


def grant_database(conn: Connection, dbname: str, owner: str = OWNER_ROLE,
                   app: str = APP_ROLE) -> None:
    """The database-level part: only the two roles (and superusers) connect, nobody makes
    temporary tables, the owner may add schemas and trusted extensions. Kept in the shared
    catalogue, so a database cloned from a template (``CREATE DATABASE … TEMPLATE``) needs it
    again; everything else travels with the clone."""
    db, own, use = f'"{dbname}"', _ident(owner), _ident(app)
    for statement in (
        f"REVOKE ALL ON DATABASE {db} FROM PUBLIC",
        f"REVOKE ALL ON DATABASE {db} FROM {use}",
        f"GRANT CONNECT ON DATABASE {db} TO {own}, {use}",
        # A migration may need a trusted extension (pgcrypto…): that takes CREATE here.
        f"GRANT CREATE ON DATABASE {db} TO {own}",
    ):
        conn.execute(text(statement))


def _grant(conn: Connection, dbname: str, owner: str, app: str) -> None:
    own, use = _ident(owner), _ident(app)
    grant_database(conn, dbname, owner, app)
    for statement in (
        # The owner owns the schema (PostgreSQL before 15 let PUBLIC create in it).
        f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC",
        f"ALTER SCHEMA {SCHEMA} OWNER TO {own}",
        f"REVOKE ALL ON SCHEMA {SCHEMA} FROM {use}",
        f"GRANT USAGE ON SCHEMA {SCHEMA} TO {use}",
    ):
        conn.execute(text(statement))
    _take_ownership(conn, owner)
    for statement in (
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {own} IN SCHEMA {SCHEMA} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {use}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {own} IN SCHEMA {SCHEMA} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {use}",
    ):
        conn.execute(text(statement))
    apply_grants(conn)


__all__ = ["APPEND_ONLY_TABLES", "APP_ROLE", "OWNER_ROLE", "ConnectionKind", "NotSuperuser",
           "RoleSetup", "application_roles", "apply_grants", "connection_kind", "current_role",
           "grant_database", "is_demo_database", "refuse_privileged_connection",
           "refuse_privileged_workstation", "schema_owner", "setup_roles"]
