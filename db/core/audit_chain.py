"""The audit log as a hash chain (migration 0007), and the walk that checks it.

Every ``audit_log`` row holds ``prev_hash`` (the ``row_hash`` of the row before it, in id
order; :data:`GENESIS` for the first) and ``row_hash``::

    row_hash = sha256_hex(prev_hash + "\\n" + canonical(row))

where :func:`canonical` writes the row's content fields (:data:`FIELDS`), each as
``<length in characters>:<text>`` (``~`` for NULL), joined by ``|``: unambiguous whatever the
text holds. The time is UTC as ``YYYY-MM-DD HH:MM:SS.ffffff``.

Who computes it
---------------
A trigger, never the application, so every insert is chained whatever code or person made it:

* PostgreSQL: a BEFORE INSERT trigger, ``SECURITY DEFINER`` (it runs as the owner who migrated,
  with a fixed ``search_path``). It takes the change feed's ordering lock
  (:data:`db.core.feed.FEED_LOCK_KEY`, a transaction advisory lock), then gives the row its id
  from the sequence, reads the last row's hash and sets both hashes, overwriting whatever the
  inserter sent. Two concurrent inserts therefore chain one after the other, ids in commit
  order; an application role cannot forge a row (it can neither alter the trigger nor avoid it).
  The function refuses to run outside READ COMMITTED, where it could not see the row
  committed just before it.
* SQLite: an AFTER INSERT trigger stamps the row with ``cityops_sha256()``, a function
  :mod:`db.core.engine` registers on every connection it opens (``BEGIN IMMEDIATE`` already
  serialises writers). Why a trigger and not Python in :func:`db.core.audit.audit`: a row
  written by any other path (a script, the demo, a future module) is chained too, the same
  rule as PostgreSQL; and a connection without the function (``sqlite3`` on the command line)
  cannot add audit rows at all. SQLite's append-only trigger allows exactly one UPDATE of a
  row: the stamp of a row that has none yet.

What it proves
--------------
:func:`verify` recomputes every hash in Python, independent of the database's functions: a
row edited after it was written no longer matches its ``row_hash``; a row removed from the
middle breaks the next row's ``prev_hash``. Whoever owns the database can re-chain everything
after an edit; and removing the last rows leaves a valid, shorter chain. Both are caught by
the head hash kept outside the database (``cityops db verify-audit`` prints it; a city writes
it down, e.g. in the shift log): later, ``--expect-head`` checks the kept head is still in the
chain.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from db.core.engine import Database

GENESIS = "0" * 64
#: The content fields of a row, in the order they are hashed.
FIELDS = ("id", "at", "actor_id", "actor_name", "action", "entity", "entity_id", "detail_json")
#: The SQLite function the chain trigger calls (registered by db.core.engine).
SQLITE_FUNCTION = "cityops_sha256"
BATCH = 5000


def sha256_hex(value: str | None) -> str | None:
    """SHA-256 of the UTF-8 text, lower-case hex (the SQLite function's body)."""
    if value is None:
        return None
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()


def at_text(at: Any) -> str:
    """The time as hashed: UTC ``YYYY-MM-DD HH:MM:SS.ffffff``. SQLite hands back the stored
    text, which is already that (SQLAlchemy writes it so)."""
    if isinstance(at, str):
        return at
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _field(value: Any) -> str:
    if value is None:
        return "~"
    value = str(value)
    return f"{len(value)}:{value}"


def canonical(row: Any) -> str:
    """The row's content as hashed (``row`` has the attributes :data:`FIELDS`)."""
    values = [getattr(row, name) for name in FIELDS]
    values[1] = None if values[1] is None else at_text(values[1])
    return "|".join(_field(v) for v in values)


def row_hash(prev_hash: str, row: Any) -> str:
    return sha256_hex(prev_hash + "\n" + canonical(row))


def sql_canonical(prefix: str, at_sql: str) -> str:
    """:func:`canonical` as an SQL expression over ``<prefix>.<field>`` (the triggers' and the
    back-fill's), ``at_sql`` being the time already as text."""
    parts = []
    for name in FIELDS:
        value = at_sql if name == "at" else f"CAST({prefix}.{name} AS TEXT)"
        parts.append(f"coalesce(length({value}) || ':' || {value}, '~')")
    return " || '|' || ".join(parts)


# -- the walk ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainBreak:
    """The first row where the chain does not hold."""

    id: int
    kind: str  # "content" (the row changed), "link" (the row before it changed or went), "unstamped"
    detail: str


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head_hash: str | None
    head_id: int | None
    first_break: ChainBreak | None
    breaks: int
    expected_head: str | None = None
    expected_head_id: int | None = None  # the row holding the kept head, when found
    rows_after_expected: int | None = None

    @property
    def expected_head_found(self) -> bool | None:
        return None if self.expected_head is None else self.expected_head_id is not None

    @property
    def ok(self) -> bool:
        return self.first_break is None and self.expected_head_found is not False

    def as_json(self) -> dict:
        return {
            "ok": self.ok, "rows": self.rows, "head_hash": self.head_hash,
            "head_id": self.head_id, "breaks": self.breaks,
            "first_break": None if self.first_break is None else {
                "id": self.first_break.id, "kind": self.first_break.kind,
                "detail": self.first_break.detail},
            "expected_head": self.expected_head,
            "expected_head_found": self.expected_head_found,
            "expected_head_id": self.expected_head_id,
            "rows_after_expected": self.rows_after_expected,
        }


def walk(rows: Iterable[Any], expect_head: str | None = None) -> ChainReport:
    """Check ``rows`` (in id order, each with :data:`FIELDS`, ``prev_hash``, ``row_hash``)."""
    expect = expect_head.strip().lower() if expect_head else None
    prev, prev_id = GENESIS, None
    count = breaks = 0
    first: ChainBreak | None = None
    head_id = expected_id = None
    after = 0
    for row in rows:
        count += 1
        problem: ChainBreak | None = None
        if row.row_hash is None or row.prev_hash is None:
            problem = ChainBreak(row.id, "unstamped", "the row has no hash: written with the "
                                 "chain trigger off")
        elif row.prev_hash != prev:
            before = f"row {prev_id}" if prev_id is not None else "the start of the chain"
            problem = ChainBreak(row.id, "link", f"prev_hash {row.prev_hash[:16]}… is not the "
                                 f"hash of {before} ({prev[:16]}…): a row before it was removed, "
                                 "inserted or rewritten")
        elif row_hash(row.prev_hash, row) != row.row_hash:
            problem = ChainBreak(row.id, "content", "the row's content does not match its "
                                 "row_hash: it was changed after it was written")
        if problem is not None:
            breaks += 1
            first = first or problem
        if expected_id is not None:
            after += 1
        if expect is not None and row.row_hash == expect and expected_id is None:
            expected_id = row.id
        prev, prev_id, head_id = row.row_hash or "", row.id, row.id
    return ChainReport(count, prev if count else None, head_id, first, breaks, expect,
                       expected_id, after if expected_id is not None else None)


def _rows(database: Database) -> Iterable[Any]:
    """Every audit row in id order, read raw (SQLite's stored time text as it is), in batches."""
    columns = ", ".join((*FIELDS, "prev_hash", "row_hash"))
    last = None
    while True:
        with database.read() as session:
            batch = session.execute(text(
                f"SELECT {columns} FROM audit_log "
                + ("" if last is None else "WHERE id > :last ")
                + "ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}).all()
        yield from batch
        if len(batch) < BATCH:
            return
        last = batch[-1].id


def verify(database: Database, expect_head: str | None = None) -> ChainReport:
    """Walk the whole audit log (see :func:`walk`)."""
    return walk(_rows(database), expect_head)


def head(database: Database) -> tuple[int, str] | None:
    """(id, row_hash) of the last audit row, or None for an empty log."""
    with database.read() as session:
        row = session.execute(text(
            "SELECT id, row_hash FROM audit_log ORDER BY id DESC LIMIT 1")).first()
    return (row.id, row.row_hash) if row else None


__all__ = ["FIELDS", "GENESIS", "SQLITE_FUNCTION", "ChainBreak", "ChainReport", "at_text",
           "canonical", "head", "row_hash", "sha256_hex", "sql_canonical", "verify", "walk"]
