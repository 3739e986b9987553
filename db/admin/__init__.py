"""Least privilege on PostgreSQL: who may change the schema, who may only work with rows.

- :mod:`db.admin.roles` makes the two roles (``cityops db setup-roles``): the *owner* owns the
  schema, runs the migrations and owns the triggers; the *application* role that workstations,
  gateways and the simulator connect as may read and write rows and nothing else (no DDL, no
  TRUNCATE, no trigger control, no ``session_replication_role``, no server files; only INSERT
  and SELECT on ``audit_log`` and ``case_history``). It also says what kind of connection a
  process holds, so the window can refuse a superuser or owner connection.
- :mod:`db.admin.secrets` keeps passwords out of URLs, command lines and child processes'
  arguments: they live in libpq's password file (``PGPASSFILE``) or ``PGPASSWORD``.

SQLite has no roles: nothing here applies to it.
"""
