"""Read models for the screens: plain frozen dataclasses, so nothing lazy-loads on a GUI thread.

The queue works in two steps, like Anki's browser: :func:`queue_ids` returns only the ids of the
matching cases, filtered and sorted by the database; :func:`case_rows` then fetches the rows a
view is about to show. A million cases open at once because only ids travel first.

When a few cases change, the queue does not ask for all the ids again: :func:`sort_keys` gives
the sort key of given ids (only those matching the filter, when one is given) as Python values
that compare exactly as the database orders them (:func:`key_before`), so the changed ids can
be placed into the list the screen already has by binary search.

Every read of cases takes the ``actor`` it reads for (an account id, or a
:class:`~db.auth.scope.Scope` already read in the same session) and applies the same scope as
the workflow steps (:mod:`db.auth.scope`): a department handler's queue holds their
department's cases, a field officer's their own and their grids', and a case outside the
scope is not in the list, not found by the search and refused by :func:`case_detail`. The
system's own reads pass :data:`~db.auth.scope.SYSTEM`.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Select, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, aliased

from db.auth.scope import Actor, Scope, actor_scope
from db.auth.security import mask_name, mask_phone
from db.cases import deadline
from db.cases.workflow import FINAL_STATES, State, Step, effective_limit, steps_allowed
from db.core import pii, validate
from db.core.errors import PhoneKeyProblem
from db.models import (
    Case,
    CaseClass,
    CaseHistory,
    Department,
    Grid,
    GridMember,
    Staff,
    Town,
    Village,
)

log = logging.getLogger(__name__)
OPEN_STATES = frozenset(State) - FINAL_STATES
SORT_COLUMNS = {
    "number": Case.id,
    "reported_at": Case.reported_at,
    "deadline_at": Case.deadline_at,
    "state": Case.state,
    "urgency": Case.urgency,
    "town": Case.town_id,
    "class": Case.class_id,
    "source": Case.source,
    "updated_at": Case.updated_at,
    # Added for the queue's header: rank urgency and state by meaning, not by their code's
    # spelling ("emergency" < "normal" < "urgent" alphabetically is no order at all).
    "urgency_rank": sql_case({"emergency": 0, "urgent": 1, "normal": 2}, value=Case.urgency,
                             else_=3),
    "state_rank": sql_case({s.value: i for i, s in enumerate(State)}, value=Case.state,
                           else_=len(State)),
    "assignee": Case.assignee_department_id,
}
#: Sort columns whose values compare in Python as they do in the database (numbers, times):
#: a changed case can be placed by :func:`sort_keys`. Text columns (the database's collation
#: may differ from Python's) are sorted by asking for the id list again.
PLACEABLE_SORTS = frozenset({"number", "reported_at", "deadline_at", "updated_at", "urgency_rank",
                             "state_rank", "town", "class", "assignee"})
ROW_FETCH_LIMIT = 1000  # rows per round trip; IN lists beyond this get slow on SQLite


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows. Empty collections mean "any"."""

    states: frozenset[str] = field(default_factory=lambda: frozenset(s.value for s in OPEN_STATES))
    town_ids: frozenset[int] = frozenset()
    class_ids: frozenset[int] = frozenset()
    sources: frozenset[str] = frozenset()
    overdue_only: bool = False
    assignee_user_id: int | None = None  # "mine"
    text: str = ""
    city_id: int | None = None

    def excluded_by(self, match: CaseMatch) -> str | None:
        """The first of this filter's fields that keeps ``match`` out of the list (``states``,
        ``town_ids``, ``class_ids``, ``sources``, ``assignee_user_id``, ``overdue_only``), or
        None when the list has it. The text is not asked: a match is one for the text."""
        checks = (
            ("states", not self.states or match.state in self.states),
            ("town_ids", not self.town_ids or match.town_id in self.town_ids),
            ("class_ids", not self.class_ids or match.class_id in self.class_ids),
            ("sources", not self.sources or match.source in self.sources),
            ("assignee_user_id", self.assignee_user_id is None
             or match.assignee_user_id == self.assignee_user_id),
            ("overdue_only", not self.overdue_only or match.overdue),
        )
        return next((name for name, passes in checks if not passes), None)


@dataclass(frozen=True)
class QueueSort:
    column: str = "deadline_at"
    descending: bool = False


@dataclass(frozen=True)
class CaseRow:
    id: int
    number: str
    version: int
    state: str
    urgency: str
    source: str
    class_id: int | None
    class_name: str
    limit_amount: int | None
    limit_unit: str | None
    town_name: str
    assignee_name: str
    lat: float
    lon: float
    title: str
    reported_at: dt.datetime
    dispatched_at: dt.datetime | None
    deadline_at: dt.datetime | None
    deadline_estimated: bool


@dataclass(frozen=True)
class CaseMatch:
    """A case found by its number or its reporter's phone, whatever the queue's filters, with
    what :meth:`QueueFilter.excluded_by` needs to say which filter hides it. Never the phone."""

    id: int
    number: str
    state: str
    town_id: int | None
    town_name: str
    class_id: int | None
    class_name: str
    source: str
    assignee_user_id: int | None
    overdue: bool


@dataclass(frozen=True)
class HistoryEntry:
    step: str
    from_state: str | None
    to_state: str
    actor_name: str
    at: dt.datetime
    opinion: str
    data: dict


@dataclass(frozen=True)
class CaseDetail:
    row: CaseRow
    description: str
    address: str
    village_name: str
    grid_name: str
    grid_id: int | None
    reporter_name_masked: str
    reporter_phone_masked: str
    media: list[str]
    external_ref: str | None
    extension_count: int
    rework_count: int
    pending_extension: dict | None
    history: list[HistoryEntry]
    #: The steps the reader may take on this case now (:func:`db.cases.workflow.steps_allowed`:
    #: role, state and scope): the buttons the window shows, and no others.
    steps: tuple[Step, ...] = ()
    #: Why the reporter's phone cannot be shown on this workstation (its phone key is missing
    #: or wrong: db.core.pii), else None. ``reporter_phone_masked`` is then "".
    reporter_phone_problem: PhoneKeyProblem | None = None


def _scoped(stmt: Select, scope: Scope) -> Select:
    """``stmt`` limited to the cases ``scope`` covers (:meth:`Scope.clause`)."""
    clause = scope.clause()
    return stmt if clause is None else stmt.where(clause)


def _filtered(stmt: Select, flt: QueueFilter, now: dt.datetime, scope: Scope,
              session: Session) -> Select:
    stmt = _scoped(stmt, scope)
    if flt.states:
        stmt = stmt.where(Case.state.in_(sorted(flt.states)))
    if flt.town_ids:
        stmt = stmt.where(Case.town_id.in_(sorted(flt.town_ids)))
    if flt.class_ids:
        stmt = stmt.where(Case.class_id.in_(sorted(flt.class_ids)))
    if flt.sources:
        stmt = stmt.where(Case.source.in_(sorted(flt.sources)))
    if flt.city_id is not None:
        stmt = stmt.where(Case.city_id == flt.city_id)
    if flt.overdue_only:
        # Past the deadline while the department's clock runs (db.cases.deadline): a parked
        # case, or one reported handled (awaiting check/closing), is not the department's delay.
        stmt = stmt.where(Case.deadline_at < now, Case.state.in_(overdue_states()))
    if flt.assignee_user_id is not None:
        stmt = stmt.where(Case.assignee_user_id == flt.assignee_user_id)
    text = flt.text.strip()
    if text:
        like = f"%{_escape_like(text)}%"
        conditions = [Case.number.like(like, escape="\\"), Case.description.like(like, escape="\\"),
                      Case.address.like(like, escape="\\"), Case.title.like(like, escape="\\")]
        digits = number_or_phone_digits(text)
        if digits:
            # The free-text filter looks in many columns: a workstation without the phone key
            # still filters by the others (the number search below says what is wrong).
            try:
                cipher = pii.cipher_if_keyed(session)
            except PhoneKeyProblem as exc:
                log.warning("queue filter without the phone search: %s", exc.message)
                cipher = None
            if cipher is not None:
                conditions.append(Case.reporter_phone_hash == cipher.search_hash(digits))
        stmt = stmt.where(or_(*conditions))
    return stmt


_NUMBER_OR_PHONE = re.compile(r"[\d\s()-]+")


def number_or_phone_digits(text: str) -> str:
    """The digits of ``text`` when it is typed like a case number or a phone number (digits,
    spaces, dashes, brackets), else ""."""
    text = text.strip()
    if not _NUMBER_OR_PHONE.fullmatch(text):
        return ""
    return re.sub(r"\D", "", text)


def _number_or_phone(session: Session, digits: str):
    """Case number equal to ``digits``, or the reporter phone whose keyed hash is that of
    ``digits`` (db.core.pii: the digits are never stored). A workstation whose key is missing or
    wrong is told so (``PhoneKeyProblem``) rather than shown "no such case"."""
    cipher = pii.cipher_if_keyed(session)
    if cipher is None:  # no key made: no number is stored
        return Case.number == digits
    return or_(Case.number == digits, Case.reporter_phone_hash == cipher.search_hash(digits))


def find_by_number_or_phone(session: Session, text: str, city_id: int | None = None,
                            now: dt.datetime | None = None, limit: int = 20, *,
                            actor: Actor) -> list[CaseMatch]:
    """The cases whose number, or whose reporter's phone, is exactly the digits typed in
    ``text`` (see :func:`number_or_phone_digits`), newest first, whatever their state: the
    queue's search finds a case its filters hide, and says which filter that is. Only cases
    within ``actor``'s scope are found: the search is no way round the scope."""
    digits = number_or_phone_digits(text)
    if not digits:
        return []
    scope = actor_scope(session, actor)
    now = now or dt.datetime.now(dt.UTC)
    overdue = (Case.deadline_at < now) & Case.state.in_(overdue_states())
    stmt = (select(Case.id, Case.number, Case.state, Case.town_id, Town.name, Case.class_id,
                   CaseClass.minor_name, Case.source, Case.assignee_user_id, overdue)
            .outerjoin(Town, Town.id == Case.town_id)
            .outerjoin(CaseClass, CaseClass.id == Case.class_id)
            .where(_number_or_phone(session, digits))
            .order_by(Case.reported_at.desc(), Case.id.desc()).limit(limit))
    if city_id is not None:
        stmt = stmt.where(Case.city_id == city_id)
    stmt = _scoped(stmt, scope)
    return [CaseMatch(cid, number, state, town_id, town or "", class_id, class_name or "", source,
                      assignee, bool(late))
            for cid, number, state, town_id, town, class_id, class_name, source, assignee, late
            in session.execute(stmt)]


def overdue_states() -> list[str]:
    """The states a case can be overdue in: those whose deadline clock runs, by the one rule
    of :mod:`db.cases.deadline` (read at each query, never copied)."""
    return deadline.running_state_values()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _sort_parts(sort: QueueSort):
    """(column, "goes last" condition) of a sort; see :func:`queue_ids` for the order."""
    column = SORT_COLUMNS.get(sort.column)
    if column is None:
        raise ValueError(f"cannot sort by {sort.column!r}")
    # NULL deadlines (not dispatched yet) go last whichever way the user sorts; so do cases
    # whose department clock has stopped (parked, or reported handled), whose passed
    # deadlines would otherwise bury the work that can still be saved.
    last = column.is_(None)
    if sort.column == "deadline_at":
        last = or_(last, Case.state.not_in(overdue_states()))
    return column, last


def queue_ids(session: Session, flt: QueueFilter = QueueFilter(), sort: QueueSort = QueueSort(),
              now: dt.datetime | None = None, limit: int | None = None, *,
              actor: Actor) -> list[int]:
    """Ids of the matching cases within ``actor``'s scope, in display order (ties broken by
    id, so the order is stable).

    The order is: cases that go last (see :func:`_sort_parts`) after the others; then the
    column, NULLs last in both directions (said explicitly: the engines disagree otherwise);
    then the id, in the column's direction.
    """
    column, last = _sort_parts(sort)
    now = now or dt.datetime.now(dt.UTC)
    stmt = _filtered(select(Case.id), flt, now, actor_scope(session, actor), session)
    order = (column.desc() if sort.descending else column.asc()).nulls_last()
    stmt = stmt.order_by(last, order, Case.id.desc() if sort.descending else Case.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    # A million ids: read them straight from the driver's cursor. SQLAlchemy's result rows
    # cost more than the query itself here (1.8 s against 0.7 s for 1M ids on SQLite).
    result = session.connection().execute(stmt)
    cursor = getattr(result, "cursor", None)
    if cursor is None:  # pragma: no cover - a result without a DBAPI cursor
        return list(result.scalars())
    try:
        return [row[0] for row in cursor.fetchall()]
    finally:
        result.close()


SortKey = tuple  # (goes last, column is NULL, column value, id): see key_before


def sort_keys(session: Session, sort: QueueSort, ids: Iterable[int],
              flt: QueueFilter | None = None, now: dt.datetime | None = None, *,
              actor: Actor) -> dict[int, SortKey]:
    """The sort keys of ``ids`` under ``sort``, of those within ``actor``'s scope; with
    ``flt``, only of the ids it matches.

    Keys compare with :func:`key_before` exactly as :func:`queue_ids` orders rows, for the
    sorts in :data:`PLACEABLE_SORTS`.
    """
    column, last = _sort_parts(sort)
    now = now or dt.datetime.now(dt.UTC)
    scope = actor_scope(session, actor)
    out: dict[int, SortKey] = {}
    ids = list(dict.fromkeys(int(i) for i in ids))
    for start in range(0, len(ids), ROW_FETCH_LIMIT):
        chunk = ids[start:start + ROW_FETCH_LIMIT]
        stmt = select(Case.id, last, column).where(Case.id.in_(chunk))
        stmt = _filtered(stmt, flt, now, scope, session) if flt is not None else _scoped(stmt, scope)
        for cid, goes_last, value in session.execute(stmt):
            out[cid] = (bool(goes_last), value is None, value, cid)
    return out


def key_before(a: SortKey, b: SortKey, descending: bool) -> bool:
    """True when a row with key ``a`` comes before one with key ``b`` in :func:`queue_ids`."""
    if a[0] != b[0]:
        return not a[0]  # the rows that go last, last
    if a[1] != b[1]:
        return not a[1]  # NULLs last, whichever the direction
    if a[2] != b[2]:
        return (a[2] > b[2]) if descending else (a[2] < b[2])
    return (a[3] > b[3]) if descending else (a[3] < b[3])


def count_by_state(session: Session, city_id: int | None = None, *,
                   actor: Actor) -> dict[str, int]:
    """How many cases within ``actor``'s scope are in each state."""
    stmt = _scoped(select(Case.state, func.count()).group_by(Case.state),
                   actor_scope(session, actor))
    if city_id is not None:
        stmt = stmt.where(Case.city_id == city_id)
    return dict(session.execute(stmt).all())


def _row_select() -> Select:
    assignee_dept = aliased(Department)
    assignee_staff = aliased(Staff)
    return (
        select(Case.id, Case.number, Case.version, Case.state, Case.urgency, Case.source,
               Case.class_id, CaseClass.minor_name, CaseClass.limit_amount, CaseClass.limit_unit,
               Town.name, assignee_staff.name, assignee_dept.name, Case.lat, Case.lon, Case.title,
               Case.reported_at, Case.dispatched_at, Case.deadline_at, Case.deadline_estimated)
        .outerjoin(CaseClass, CaseClass.id == Case.class_id)
        .outerjoin(Town, Town.id == Case.town_id)
        .outerjoin(assignee_dept, assignee_dept.id == Case.assignee_department_id)
        .outerjoin(assignee_staff, assignee_staff.id == Case.assignee_staff_id)
    )


def _to_row(r) -> CaseRow:
    (cid, number, version, state, urgency, source, class_id, class_name, limit_amount, limit_unit,
     town, staff_name, dept_name, lat, lon, title, reported, dispatched, deadline, estimated) = r
    assignee = " / ".join(x for x in (dept_name, staff_name) if x)
    if limit_amount is not None:  # an emergency runs on the 30-minute clock whatever its class
        limit_amount, limit_unit = effective_limit(limit_amount, limit_unit, urgency)
    return CaseRow(cid, number, version, state, urgency, source, class_id, class_name or "",
                   limit_amount, limit_unit, town or "", assignee, lat, lon, title or "", reported,
                   dispatched, deadline, bool(estimated))


def case_rows(session: Session, ids: Iterable[int], *, actor: Actor) -> dict[int, CaseRow]:
    """The rows for ``ids`` (missing ids are simply absent: deleted, or outside ``actor``'s
    scope)."""
    ids = list(dict.fromkeys(ids))
    scope = actor_scope(session, actor)
    out: dict[int, CaseRow] = {}
    for start in range(0, len(ids), ROW_FETCH_LIMIT):
        chunk = ids[start:start + ROW_FETCH_LIMIT]
        for r in session.execute(_scoped(_row_select().where(Case.id.in_(chunk)), scope)):
            row = _to_row(r)
            out[row.id] = row
    return out



def case_detail(session: Session, case_id: int, *, actor: Actor) -> CaseDetail | None:
    """Everything about one case for ``actor``, with the steps they may take on it now
    (:attr:`CaseDetail.steps`); None when the case does not exist. A case outside the actor's
    scope is refused (:class:`~db.core.errors.PermissionDenied` ``case_out_of_scope``)."""
    case_id = validate.record_id(case_id, "案件")
    scope = actor_scope(session, actor)
    r = session.execute(_row_select().where(Case.id == case_id)).first()
    if r is None:
        return None
    case = session.get(Case, case_id)
    scope.check(case)
    village = session.get(Village, case.village_id) if case.village_id else None
    grid = session.get(Grid, case.grid_id) if case.grid_id else None
    phone_masked, phone_problem = "", None
    if case.reporter_phone_enc:
        try:
            phone_masked = mask_phone(pii.cipher(session).open(case.reporter_phone_enc))
        except PhoneKeyProblem as exc:  # shown in words where the number would be
            phone_problem = exc
    history = [
        HistoryEntry(h.step, h.from_state, h.to_state, h.actor_name, h.at, h.opinion,
                     json.loads(h.data_json or "{}"))
        for h in session.scalars(select(CaseHistory).where(CaseHistory.case_id == case_id)
                                 .order_by(CaseHistory.id))
    ]
    return CaseDetail(
        row=_to_row(r), description=case.description, address=case.address,
        village_name=village.name if village else "", grid_name=grid.name if grid else "",
        grid_id=case.grid_id, reporter_name_masked=mask_name(case.reporter_name),
        reporter_phone_masked=phone_masked,
        media=json.loads(case.media_json or "[]"), external_ref=case.external_ref,
        extension_count=case.extension_count, rework_count=case.rework_count,
        pending_extension=json.loads(case.pending_extension_json or "null"), history=history,
        steps=tuple(steps_allowed(scope, case)), reporter_phone_problem=phone_problem,
    )


#: What a department is to a case, among the dispatch choices (a flag the UI words itself).
RESPONSIBLE = "responsible"  # the case class's responsible department
LOCAL = "local"  # a department of the case's own town


@dataclass(frozen=True)
class Choice:
    id: int
    name: str
    hint: str = ""  # shown as it is: a grid duty, a town's kind, a class's major class
    relation: str = ""  # RESPONSIBLE / LOCAL for dispatch departments, else ""


def dispatch_choices(session: Session, case_id: int) -> tuple[list[Choice], list[Choice]]:
    """Departments (the class's own first) and people (the case's grid members first)."""
    case = session.get(Case, case_id)
    preferred = None
    if case and case.class_id:
        preferred = session.scalar(select(CaseClass.department_id).where(CaseClass.id == case.class_id))
    depts = session.execute(select(Department.id, Department.name, Department.town_id)
                            .where(or_(Department.town_id.is_(None),
                                       Department.town_id == (case.town_id if case else None)))
                            .order_by(Department.id)).all()
    order = {RESPONSIBLE: 0, LOCAL: 1, "": 2}
    departments = sorted((Choice(d, n, relation=RESPONSIBLE if d == preferred else
                                 (LOCAL if t else "")) for d, n, t in depts),
                         key=lambda c: (order[c.relation], c.id))
    people: list[Choice] = []
    if case and case.grid_id:
        people = [Choice(s, n, duty) for s, n, duty in session.execute(
            select(Staff.id, Staff.name, GridMember.duty)
            .join(GridMember, GridMember.staff_id == Staff.id)
            .where(GridMember.grid_id == case.grid_id, Staff.active.is_(True))
            .order_by(GridMember.sort, Staff.id))]
    return departments, people


@dataclass(frozen=True)
class FilterChoices:
    """What the queue's filter combos (and the accept dialog's class picker) offer."""

    towns: list[Choice]  # hint: the town's kind (街道 / 镇 / 园区)
    classes: list[Choice]  # hint: the major class's name


def filter_choices(session: Session, city_id: int | None = None) -> FilterChoices:
    """Towns of ``city_id`` (all towns when None) in code order and the active minor classes,
    grouped by their major class."""
    stmt = select(Town.id, Town.name, Town.kind).order_by(Town.code, Town.id)
    if city_id is not None:
        stmt = stmt.where(Town.city_id == city_id)
    towns = [Choice(i, n, k) for i, n, k in session.execute(stmt)]
    classes = [Choice(i, n, m) for i, n, m in session.execute(
        select(CaseClass.id, CaseClass.minor_name, CaseClass.major_name)
        .where(CaseClass.active.is_(True))
        .order_by(CaseClass.kind, CaseClass.major_code, CaseClass.minor_code, CaseClass.id))]
    return FilterChoices(towns, classes)



__all__ = [
    "CaseDetail", "CaseMatch", "CaseRow", "Choice", "FilterChoices", "HistoryEntry", "OPEN_STATES",
    "PLACEABLE_SORTS", "QueueFilter", "QueueSort", "case_detail", "case_rows", "count_by_state",
    "dispatch_choices", "filter_choices", "find_by_number_or_phone", "key_before",
    "number_or_phone_digits", "overdue_states", "queue_ids", "sort_keys",
]
