"""The queue benchmark's baseline: the eager table, which reads every row it lists.

A conventional table model runs ``SELECT <every column> … ORDER BY …`` and keeps all the rows;
each sort and each filter asks again. :func:`eager_rows` does exactly that with the queue's own
row query and filters, so the lazy queue (ids first, rows for what is in view) is compared with
the same query a naive model would run, in the same run.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from db.auth.scope import SYSTEM
from db.cases.queries import (
    CaseRow,
    QueueFilter,
    QueueSort,
    _filtered,
    _row_select,
    _sort_parts,
    _to_row,
)
from db.models import Case


def eager_rows(session: Session, flt: QueueFilter, sort: QueueSort,
               now: dt.datetime | None = None) -> list[CaseRow]:
    """Every matching row, in the queue's order."""
    column, last = _sort_parts(sort)
    now = now or dt.datetime.now(dt.UTC)
    order = (column.desc() if sort.descending else column.asc()).nulls_last()
    stmt = _filtered(_row_select(), flt, now, SYSTEM, session).order_by(
        last, order, Case.id.desc() if sort.descending else Case.id)
    return [_to_row(r) for r in session.execute(stmt)]


__all__ = ["eager_rows"]
