"""The one answer to "did the database go away, or say 'not now'?" for every caller."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from db.core.errors import (
    DatabaseBusy,
    DatabaseUnavailable,
    ValidationError,
    is_connection_lost,
    is_database_busy,
    unavailable_or,
)


class _PgError(Exception):
    """A driver error with a SQLSTATE, as psycopg raises them."""

    def __init__(self, text: str, sqlstate: str) -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


def _op(orig: Exception, invalidated: bool = False) -> OperationalError:
    return OperationalError("UPDATE case …", {}, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize("exc, lost, busy", [
    (_op(_PgError("server closed the connection unexpectedly", "")), True, False),
    (_op(_PgError("terminating connection due to administrator command", "57P01")), True, False),
    (_op(_PgError("connection refused", "08001")), True, False),
    (_op(sqlite3.OperationalError("whatever"), invalidated=True), True, False),
    (ConnectionResetError(104, "reset"), True, False),
    (_op(sqlite3.OperationalError("database is locked")), False, True),
    # A refused account is an answer, not a lost link: a supervisor must not retry it forever.
    (_op(_PgError('connection failed: connection to server at "127.0.0.1", port 55432 '
                  'failed: fe_sendauth: no password supplied', "")), False, False),
    (_op(_PgError('connection failed: FATAL:  password authentication failed for user "x"',
                  "28P01")), False, False),
    (_op(_PgError("canceling statement due to lock timeout", "55P03")), False, True),
    (_op(_PgError("deadlock detected", "40P01")), False, True),
    (IntegrityError("INSERT …", {}, sqlite3.IntegrityError("UNIQUE constraint failed")), False, False),
    (ProgrammingError("SELECT …", {}, _PgError("syntax error", "42601")), False, False),
    (ValidationError("请填写意见", code="text_required"), False, False),
])
def test_lost_busy_or_neither(exc, lost, busy):
    assert is_connection_lost(exc) is lost
    assert is_database_busy(exc) is busy
    mapped = unavailable_or(exc)
    if lost:
        assert isinstance(mapped, DatabaseUnavailable)
    elif busy:
        assert isinstance(mapped, DatabaseBusy)
    else:
        assert mapped is exc  # a constraint or a bug is the caller's to handle, never "try again"
