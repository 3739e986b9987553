"""A throwaway database of the same engine as a given URL, removed afterwards.

Benchmarks and tests use it so they never write into the database they are pointed at: a
temp file for SQLite, a uniquely named database on the same PostgreSQL server.
"""
from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.core.engine import Database, open_database


@contextmanager
def scratch_database(url: str) -> Iterator[Database]:
    """A fresh database of the same engine as ``url``, removed afterwards."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            database = open_database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
            try:
                yield database
            finally:
                database.dispose()
        return
    name = f"cityops_scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = open_database(parsed.set(database=name).render_as_string(hide_password=False))
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
