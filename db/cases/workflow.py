"""The case closed loop as an explicit state machine.

Every step is one function ``step(database, actor_id, case_id, seen_version, ...)``. In one
transaction it loads the actor's account (the role comes from the database, never from the
caller), checks that the step is allowed from the case's current state for that role, checks the
step's data, then writes the case, one history row, one audit row and a change-feed row. If the
case's version is not the one the actor saw, it raises :class:`~db.core.errors.ConflictError` naming
who changed the case and when; nothing is written.

Every time a step writes (its history row, ``dispatched_at``, ``handled_at``, the deadline's start)
is the database's clock, read after the case's row lock and never before the case's last event
(:mod:`db.core.dbclock`); a caller's ``now`` is taken only by a demo or test database.

The transition table :data:`TRANSITIONS` is the single source of truth: the UI asks
:func:`allowed_steps` which buttons to show, and the steps enforce the same table.
"""
from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db import settings
from db.auth.actors import load_actor
from db.auth.roles import Role
from db.auth.scope import Scope, scope_of
from db.core import feed, pii, validate
from db.core.audit import audit
from db.core.dbclock import event_time
from db.core.engine import Database
from db.core.entities import Entity
from db.core.errors import InvalidTransition, PermissionDenied, ValidationError, raise_mapped
from db.core.requests import exactly_once
from db.core.text import MAX_SHORT_TEXT, clean_text
from db.core.timecheck import check_time
from db.core.versioned import versioned_write
from db.geo.polygons import city_geo
from db.models import Case, CaseClass, CaseHistory, Department, Staff, UserAccount
from db.worktime.clock import SHANGHAI, UNITS, CalendarError, WorkCalendar

MAX_EXTENSION = {"work_hours": 200, "work_days": 60, "minutes": 24 * 60}


class State(enum.StrEnum):
    PENDING_ACCEPT = "pending_accept"
    PENDING_OPEN = "pending_open"
    PENDING_DISPATCH = "pending_dispatch"
    HANDLING = "handling"
    EXTENSION_PENDING = "extension_pending"
    PARKED = "parked"
    PENDING_CHECK = "pending_check"
    PENDING_CLOSE = "pending_close"
    CLOSED = "closed"
    VOID = "void"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    State.PENDING_ACCEPT: "待受理",
    State.PENDING_OPEN: "待立案",
    State.PENDING_DISPATCH: "待派遣",
    State.HANDLING: "处置中",
    State.EXTENSION_PENDING: "延期待批",
    State.PARKED: "挂账",
    State.PENDING_CHECK: "待核查",
    State.PENDING_CLOSE: "待结案",
    State.CLOSED: "已结案",
    State.VOID: "作废",
}

#: States in which the case is in a department's hands and its deadline clock exists.
DISPATCHED_STATES = frozenset({State.HANDLING, State.EXTENSION_PENDING, State.PARKED,
                               State.PENDING_CHECK, State.PENDING_CLOSE})
FINAL_STATES = frozenset({State.CLOSED, State.VOID})


class Source(enum.StrEnum):
    HOTLINE_12345 = "hotline_12345"
    TRANSFER_110 = "transfer_110"
    TRANSFER_119 = "transfer_119"
    INSPECTOR = "inspector"
    VIDEO = "video"
    SENSOR = "sensor"
    LEADER = "leader"
    ENTERPRISE = "enterprise"
    WALK_IN = "walk_in"

    @property
    def label(self) -> str:
        return SOURCE_LABELS[self]


SOURCE_LABELS = {
    Source.HOTLINE_12345: "12345热线",
    Source.TRANSFER_110: "110转办",
    Source.TRANSFER_119: "119转办",
    Source.INSPECTOR: "监督员上报",
    Source.VIDEO: "视频识别",
    Source.SENSOR: "物联感知",
    Source.LEADER: "领导交办",
    Source.ENTERPRISE: "企业直通车",
    Source.WALK_IN: "来访",
}


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    @property
    def label(self) -> str:
        return {"normal": "一般", "urgent": "紧急", "emergency": "特急"}[self.value]


class Step(enum.StrEnum):
    ACCEPT = "accept"
    OPEN = "open"
    DISPATCH = "dispatch"
    RETURN = "return"
    FEEDBACK = "feedback"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REJECT_EXTENSION = "reject_extension"
    PARK = "park"
    UNPARK = "unpark"
    VERIFY = "verify"
    REWORK = "rework"
    CLOSE = "close"
    FIX_ON_SPOT = "fix_on_spot"
    VOID = "void"

    @property
    def label(self) -> str:
        return STEP_LABELS[self]


STEP_LABELS = {
    Step.ACCEPT: "受理", Step.OPEN: "立案", Step.DISPATCH: "派遣", Step.RETURN: "回退",
    Step.FEEDBACK: "处置反馈", Step.REQUEST_EXTENSION: "申请延期", Step.APPROVE_EXTENSION: "批准延期",
    Step.REJECT_EXTENSION: "驳回延期", Step.PARK: "挂账", Step.UNPARK: "恢复处置",
    Step.VERIFY: "核查通过", Step.REWORK: "返工", Step.CLOSE: "结案",
    Step.FIX_ON_SPOT: "当即办理", Step.VOID: "作废",
}
REPORT_STEP = "report"  # history step of the row that creates a case


@dataclass(frozen=True)
class Transition:
    step: Step
    source: State
    target: State
    roles: frozenset[Role]


_R = Role
_INTAKE = frozenset({_R.DUTY_OFFICER, _R.SHIFT_LEADER})
_DESK = frozenset({_R.DUTY_OFFICER, _R.DISPATCHER, _R.SHIFT_LEADER, _R.LEADER})
_LEAD = frozenset({_R.SHIFT_LEADER, _R.LEADER})
_FIELD = frozenset({_R.DEPARTMENT_HANDLER, _R.FIELD_OFFICER})
_CHECK = frozenset({_R.INSPECTOR, _R.DUTY_OFFICER, _R.SHIFT_LEADER})
_ON_SPOT = frozenset({_R.INSPECTOR, _R.FIELD_OFFICER, _R.DUTY_OFFICER, _R.SHIFT_LEADER})
_VOIDERS = frozenset({_R.DUTY_OFFICER, _R.SHIFT_LEADER, _R.LEADER})

#: Who may create (report) a case.
REPORTERS = frozenset({_R.DUTY_OFFICER, _R.DISPATCHER, _R.SHIFT_LEADER, _R.LEADER,
                       _R.INSPECTOR, _R.FIELD_OFFICER})

TRANSITIONS: tuple[Transition, ...] = (
    Transition(Step.ACCEPT, State.PENDING_ACCEPT, State.PENDING_OPEN, _INTAKE),
    Transition(Step.OPEN, State.PENDING_OPEN, State.PENDING_DISPATCH, _INTAKE),
    Transition(Step.DISPATCH, State.PENDING_DISPATCH, State.HANDLING, _DESK),
    Transition(Step.RETURN, State.HANDLING, State.PENDING_DISPATCH, _FIELD | {_R.SHIFT_LEADER}),
    Transition(Step.FEEDBACK, State.HANDLING, State.PENDING_CHECK, _FIELD),
    Transition(Step.REQUEST_EXTENSION, State.HANDLING, State.EXTENSION_PENDING, _FIELD),
    Transition(Step.APPROVE_EXTENSION, State.EXTENSION_PENDING, State.HANDLING, _LEAD),
    Transition(Step.REJECT_EXTENSION, State.EXTENSION_PENDING, State.HANDLING, _LEAD),
    Transition(Step.PARK, State.HANDLING, State.PARKED, _LEAD),
    Transition(Step.UNPARK, State.PARKED, State.HANDLING, _LEAD),
    Transition(Step.VERIFY, State.PENDING_CHECK, State.PENDING_CLOSE, _CHECK),
    Transition(Step.REWORK, State.PENDING_CHECK, State.HANDLING, _CHECK),
    Transition(Step.REWORK, State.PENDING_CLOSE, State.HANDLING, _LEAD),
    Transition(Step.REWORK, State.CLOSED, State.HANDLING, _LEAD),
    Transition(Step.CLOSE, State.PENDING_CLOSE, State.CLOSED, _LEAD),
    Transition(Step.FIX_ON_SPOT, State.PENDING_ACCEPT, State.CLOSED, _ON_SPOT),
    Transition(Step.FIX_ON_SPOT, State.PENDING_OPEN, State.CLOSED, _ON_SPOT),
    Transition(Step.VOID, State.PENDING_ACCEPT, State.VOID, _VOIDERS),
    Transition(Step.VOID, State.PENDING_OPEN, State.VOID, _VOIDERS),
    Transition(Step.VOID, State.PENDING_DISPATCH, State.VOID, _VOIDERS),
)
#: Steps that must carry an opinion: the steps refuse a blank one, the dialogs ask for it.
OPINION_REQUIRED = frozenset({
    Step.RETURN, Step.FEEDBACK, Step.REQUEST_EXTENSION, Step.REJECT_EXTENSION, Step.PARK,
    Step.REWORK, Step.FIX_ON_SPOT, Step.VOID,
})
_BY_KEY: dict[tuple[Step, State], Transition] = {(t.step, t.source): t for t in TRANSITIONS}


def find_transition(step: Step | str, state: State | str) -> Transition | None:
    return _BY_KEY.get((Step(step), State(state)))


def allowed_steps(role: Role | str, state: State | str) -> list[Step]:
    """The steps ``role`` may take from ``state``, in table order, whatever the case."""
    role, state = Role(role), State(state)
    return [t.step for t in TRANSITIONS if t.source == state and role in t.roles]


def steps_allowed(scope: Scope, case) -> list[Step]:
    """The steps the person of ``scope`` may take on ``case`` now, in table order: what the
    window offers. Their role's steps from the case's state (:func:`allowed_steps`), and none
    when the case lies outside their scope (:mod:`db.auth.scope`): the two rules every step
    enforces (:func:`_run_step`), asked here so that no one is offered a step, types an
    opinion, and loses it to the refusal. ``case`` is a :class:`~db.models.Case` or anything
    with its ``state`` and assignment fields."""
    if scope.role is None or not scope.covers(case):
        return []
    return allowed_steps(scope.role, case.state)


# -- results ----------------------------------------------------------------------------

@dataclass(frozen=True)
class StepResult:
    """What a step leaves behind: plain values, safe to hand to any thread."""

    case_id: int
    number: str
    state: State
    version: int
    deadline_at: dt.datetime | None
    deadline_estimated: bool


def _result(case: Case) -> StepResult:
    return StepResult(case.id, case.number, State(case.state), case.version, case.deadline_at,
                      case.deadline_estimated)


# -- shared plumbing ---------------------------------------------------------------------

def _calendar(database: Database, session: Session) -> WorkCalendar:
    cal = database.cache.get("calendar")
    if cal is None:
        from db.worktime.calendar_data import load_calendar

        cal = database.cache["calendar"] = load_calendar(session)
    return cal


def _case_class(session: Session, case: Case) -> CaseClass:
    if case.class_id is None:
        raise ValidationError("案件尚未分类，无法计算处置时限", code="unclassified",
                              field="class_id")
    return session.get(CaseClass, case.class_id)


StepBody = Callable[[Session, Database, UserAccount, Case, dt.datetime], dict]


def _run_step(database: Database, step: Step, actor_id: int, case_id: int, seen_version: int,
              opinion: str, body: StepBody, *, now: dt.datetime | None = None) -> StepResult:
    """A step is a versioned write of the case (:mod:`db.core.versioned`) whose body checks
    the transition table, the role and the actor's scope (:mod:`db.auth.scope`: a field
    officer's own and grid's cases, a department handler's department's), then makes the
    step's own changes. Any refusal leaves nothing written."""
    opinion = clean_text(opinion, "意见", required=step in OPINION_REQUIRED)
    try:
        with versioned_write(database, Entity.CASE, Case, actor_id, case_id, seen_version,
                             now=now) as w:
            case, actor = w.row, w.actor
            transition = find_transition(step, case.state)
            if transition is None:
                raise InvalidTransition(
                    f"案件处于“{State(case.state).label}”，不能{step.label}",
                    code="step_not_allowed", step=step.value, state=case.state)
            if Role(actor.role) not in transition.roles:
                raise PermissionDenied(
                    f"{Role(actor.role).label}无权在“{State(case.state).label}”状态{step.label}",
                    code="role_cannot_step", step=step.value, role=actor.role, state=case.state)
            scope_of(w.session, actor).check(case)
            data = body(w.session, database, actor, case, w.at) or {}
            from_state = case.state
            case.state = transition.target.value

            def history(version: int) -> CaseHistory:
                return CaseHistory(
                    case_id=case.id, step=step.value, from_state=from_state, to_state=case.state,
                    actor_id=actor.id, actor_name=actor.display_name, at=w.at, opinion=opinion,
                    data_json=json.dumps(data, ensure_ascii=False, default=str), version=version)

            w.record(f"case.{step.value}", {"from": from_state, "to": case.state, **data},
                     history=history)
            return _result(case)
    except CalendarError as exc:
        raise ValidationError(f"无法计算处置时限：{exc}", code="deadline_incomputable",
                              reason=str(exc)) from exc


EMERGENCY_LIMIT = (30, "minutes")  # 紧急事项半小时到达现场


def effective_limit(limit_amount: int, limit_unit: str, urgency: str) -> tuple[int, str]:
    """The time limit a case runs on: its class's, or the 30-minute on-site clock when the case
    is an emergency whatever its class."""
    if urgency == Urgency.EMERGENCY:
        return EMERGENCY_LIMIT
    return limit_amount, limit_unit


def _set_deadline(database: Database, session: Session, case: Case, start: dt.datetime) -> None:
    cls = _case_class(session, case)
    amount, unit = effective_limit(cls.limit_amount, cls.limit_unit, case.urgency)
    deadline = _calendar(database, session).deadline(start, amount, unit)
    case.deadline_at = deadline.at
    case.deadline_estimated = deadline.estimated


# -- creating a case ----------------------------------------------------------------------

@exactly_once("case.report")
def report_case(
    database: Database,
    actor_id: int,
    *,
    source: Source | str,
    lat: float,
    lon: float,
    description: str,
    city_id: int | None = None,
    address: str = "",
    title: str = "",
    class_id: int | None = None,
    urgency: Urgency | str = Urgency.NORMAL,
    reporter_name: str | None = None,
    reporter_phone: str | None = None,
    media: list[str] | None = None,
    external_ref: str | None = None,
    now: dt.datetime | None = None,
) -> StepResult:
    """Record a problem from any channel as a new case in 待受理."""
    return report_in(None, database, actor_id, source=source, lat=lat, lon=lon,
                     description=description, city_id=city_id, address=address, title=title,
                     class_id=class_id, urgency=urgency, reporter_name=reporter_name,
                     reporter_phone=reporter_phone, media=media, external_ref=external_ref,
                     now=now)


def report_in(session: Session | None, database: Database, actor_id: int, *,
              source: Source | str, lat: float, lon: float, description: str,
              city_id: int | None = None, address: str = "", title: str = "",
              class_id: int | None = None, urgency: Urgency | str = Urgency.NORMAL,
              reporter_name: str | None = None, reporter_phone: str | None = None,
              media: list[str] | None = None, external_ref: str | None = None,
              now: dt.datetime | None = None) -> StepResult:
    """:func:`report_case` with the same checks and records, inside the caller's write
    transaction ``session`` when one is given (a step that creates a case together with other
    writes, e.g. :func:`db.alerts.lifecycle.to_case`); ``None`` opens its own transaction."""
    source = validate.one_of(source, Source, "来源", code="source_or_urgency_invalid")
    urgency = validate.one_of(urgency, Urgency, "紧急程度", code="source_or_urgency_invalid")
    lat, lon = validate.coordinates(lat, lon)
    city_id = validate.record_id(city_id, "城市", required=False)
    class_id = validate.record_id(class_id, "案件类别", required=False)
    description = clean_text(description, "问题描述", required=True)
    address = clean_text(address, "地址", limit=MAX_SHORT_TEXT)
    title = clean_text(title, "标题", limit=100)
    reporter_name = clean_text(reporter_name, "反映人", limit=40) or None
    reporter_phone = pii.clean_phone(reporter_phone, "联系电话")
    media = validate.text_list(media, "附件", limit=500)
    external_ref = clean_text(external_ref, "工单号", limit=60) or None
    at = check_time(now) if now is not None else None  # its form; who may give one: _report
    try:
        return _report(database, actor_id, source=source, lat=lat, lon=lon, city_id=city_id,
                       description=description, address=address, title=title,
                       class_id=class_id, urgency=urgency, reporter_name=reporter_name,
                       reporter_phone=reporter_phone, media=media, external_ref=external_ref,
                       at=at, session=session)
    except DBAPIError as exc:
        raise_mapped(exc)


def _report(database: Database, actor_id: int, *, source: Source, lat: float, lon: float,
            city_id: int | None, description: str, address: str, title: str,
            class_id: int | None, urgency: Urgency, reporter_name: str | None,
            reporter_phone: str | None, media: list[str], external_ref: str | None,
            at: dt.datetime | None, session: Session | None = None) -> StepResult:
    # The caller's transaction when given: its other writes and this case commit together.
    with (nullcontext(session) if session is not None else database.write()) as session:
        at = event_time(session, at)  # the database's clock (a caller's: demo and tests only)
        actor = load_actor(session, actor_id)
        if Role(actor.role) not in REPORTERS:
            raise PermissionDenied(f"{Role(actor.role).label}无权登记案件", code="role_cannot_report",
                                   role=actor.role)
        if city_id is None:
            from db.models import City

            city_id = session.scalar(select(City.id).order_by(City.id).limit(1))
            if city_id is None:
                raise ValidationError("数据库中还没有城市数据", code="no_city_data")
        location = city_geo(database, session).locate(city_id, lat, lon)
        if class_id is not None and session.get(CaseClass, class_id) is None:
            raise ValidationError(f"案件类别 {class_id} 不存在", code="unknown_class",
                                      field="class_id", id=class_id)
        # Sealed before anything is written: no key, or a wrong one, refuses the report whole.
        phone_enc, phone_hash = pii.cipher(session).seal(reporter_phone) if reporter_phone else (None, None)
        case = Case(
            number=uuid.uuid4().hex[:24], city_id=city_id, source=source.value,
            state=State.PENDING_ACCEPT.value, urgency=urgency.value, class_id=class_id,
            lat=lat, lon=lon, address=address, town_id=location.town_id,
            village_id=location.village_id, grid_id=location.grid_id, title=title,
            description=description, reporter_name=reporter_name,
            reporter_phone_enc=phone_enc, reporter_phone_hash=phone_hash,
            media_json=json.dumps(media, ensure_ascii=False), external_ref=external_ref,
            reported_at=at, created_by_id=actor.id, updated_at=at, version=1,
        )
        session.add(case)
        session.flush()
        case.number = case_number(at, case.id)
        session.add(CaseHistory(
            case_id=case.id, step=REPORT_STEP, from_state=None, to_state=case.state,
            actor_id=actor.id, actor_name=actor.display_name, at=at, opinion="",
            data_json=json.dumps({"source": source.value}), version=1,
        ))
        audit(session, actor, "case.report", "case", case.id,
              {"source": source.value, "lat": lat, "lon": lon}, at)
        feed.publish(session, Entity.CASE, [case.id], op="insert")
        return _result(case)


def case_number(at: dt.datetime, case_id: int) -> str:
    """案件编号: local date plus the id, unique and sortable by day."""
    return f"{at.astimezone(SHANGHAI):%Y%m%d}{case_id:08d}"


# -- the steps ---------------------------------------------------------------------------

@exactly_once("case.accept")
def accept(database: Database, actor_id: int, case_id: int, seen_version: int, *,
           class_id: int, urgency: Urgency | str | None = None, opinion: str = "",
           now: dt.datetime | None = None) -> StepResult:
    """受理: classify the report and pass it on for opening."""
    class_id = validate.record_id(class_id, "案件类别")
    urgency = validate.one_of(urgency, Urgency, "紧急程度", code="source_or_urgency_invalid",
                              required=False)

    def body(session, _db, _actor, case, _at):
        if session.get(CaseClass, class_id) is None:
            raise ValidationError(f"案件类别 {class_id} 不存在", code="unknown_class",
                                      field="class_id", id=class_id)
        case.class_id = class_id
        if urgency is not None:
            case.urgency = urgency.value
        return {"class_id": class_id, "urgency": case.urgency}

    return _run_step(database, Step.ACCEPT, actor_id, case_id, seen_version, opinion, body, now=now)


@exactly_once("case.open")
def open_case(database: Database, actor_id: int, case_id: int, seen_version: int, *,
              opinion: str = "", now: dt.datetime | None = None) -> StepResult:
    """立案: the case meets its class's opening standard."""

    def body(session, _db, _actor, case, at):
        _case_class(session, case)
        case.opened_at = at
        return {}

    return _run_step(database, Step.OPEN, actor_id, case_id, seen_version, opinion, body, now=now)


@exactly_once("case.dispatch")
def dispatch(database: Database, actor_id: int, case_id: int, seen_version: int, *,
             department_id: int, staff_id: int | None = None, user_id: int | None = None,
             opinion: str = "", now: dt.datetime | None = None) -> StepResult:
    """派遣: hand the case to a department (and optionally a person); the clock starts.

    A person (``staff_id``) or an account (``user_id``) that has been deactivated is refused
    (``assignee_inactive``): the case would sit with someone who can no longer act on it."""
    department_id = validate.record_id(department_id, "部门")
    staff_id = validate.record_id(staff_id, "人员", required=False)
    user_id = validate.record_id(user_id, "账号", required=False)

    def body(session, db, _actor, case, at):
        if session.get(Department, department_id) is None:
            raise ValidationError(f"部门 {department_id} 不存在", code="unknown_department",
                                  field="department_id", id=department_id)
        staff = session.get(Staff, staff_id) if staff_id is not None else None
        if staff_id is not None and staff is None:
            raise ValidationError(f"人员 {staff_id} 不存在", code="unknown_staff",
                                  field="staff_id", id=staff_id)
        if staff is not None and not staff.active:
            raise ValidationError(f"人员 {staff.name} 已停用，不能派遣", code="assignee_inactive",
                                  field="staff_id", id=staff_id, name=staff.name)
        account = session.get(UserAccount, user_id) if user_id is not None else None
        if user_id is not None and account is None:
            raise ValidationError(f"账号 {user_id} 不存在", code="unknown_account",
                                  field="user_id", id=user_id)
        if account is not None and not account.active:
            raise ValidationError(f"账号 {account.display_name} 已停用，不能派遣",
                                  code="assignee_inactive", field="user_id", id=user_id,
                                  name=account.display_name)
        assignee_user = user_id
        if assignee_user is None and staff_id is not None:
            # The person's own account, so the case shows under "mine" when they sign in.
            assignee_user = session.scalar(select(UserAccount.id).where(
                UserAccount.staff_id == staff_id, UserAccount.active.is_(True)).limit(1))
        case.assignee_department_id = department_id
        case.assignee_staff_id = staff_id
        case.assignee_user_id = assignee_user
        case.dispatched_at = at
        _set_deadline(db, session, case, at)
        return {"department_id": department_id, "staff_id": staff_id, "user_id": assignee_user,
                "deadline_at": case.deadline_at.isoformat(),
                "estimated": case.deadline_estimated}

    return _run_step(database, Step.DISPATCH, actor_id, case_id, seen_version, opinion, body,
                     now=now)


@exactly_once("case.return")
def return_case(database: Database, actor_id: int, case_id: int, seen_version: int, *,
                opinion: str, now: dt.datetime | None = None) -> StepResult:
    """回退: the department says the case is not theirs; it goes back for dispatch."""

    def body(_session, _db, _actor, case, _at):
        previous = case.assignee_department_id
        case.assignee_department_id = case.assignee_staff_id = case.assignee_user_id = None
        case.dispatched_at = case.deadline_at = None
        case.deadline_estimated = False
        return {"returned_by_department_id": previous}

    return _run_step(database, Step.RETURN, actor_id, case_id, seen_version, opinion, body, now=now)


@exactly_once("case.feedback")
def feedback(database: Database, actor_id: int, case_id: int, seen_version: int, *,
             opinion: str, media: list[str] | None = None,
             now: dt.datetime | None = None) -> StepResult:
    """处置反馈: the department reports the problem handled."""
    media = validate.text_list(media, "附件", limit=500)

    def body(_session, _db, _actor, case, at):
        case.handled_at = at
        case.handled_on_time = case.deadline_at is not None and at <= case.deadline_at
        if media:
            case.media_json = json.dumps(json.loads(case.media_json or "[]") + media,
                                         ensure_ascii=False)
        return {"on_time": case.handled_on_time, "media": media}

    return _run_step(database, Step.FEEDBACK, actor_id, case_id, seen_version, opinion, body, now=now)


@exactly_once("case.request_extension")
def request_extension(database: Database, actor_id: int, case_id: int, seen_version: int, *,
                      amount: int, unit: str, opinion: str,
                      now: dt.datetime | None = None) -> StepResult:
    """申请延期: ask for more time; a shift leader approves or rejects."""
    amount = validate.whole_number(amount, "延期时长")
    if not isinstance(unit, str) or unit not in UNITS:
        raise ValidationError(f"延期单位无效：{unit!r}", code="extension_unit_invalid",
                              field="unit", unit=repr(unit))
    if not 0 < amount <= MAX_EXTENSION[unit]:
        raise ValidationError(f"延期时长无效：{amount} {unit}（最多 {MAX_EXTENSION[unit]}）",
                              code="extension_invalid", field="amount", amount=amount, unit=unit,
                              limit=MAX_EXTENSION[unit])

    def body(_session, _db, _actor, case, _at):
        case.pending_extension_json = json.dumps({"amount": amount, "unit": unit})
        return {"amount": amount, "unit": unit}

    return _run_step(database, Step.REQUEST_EXTENSION, actor_id, case_id, seen_version, opinion,
                     body, now=now)


@exactly_once("case.approve_extension")
def approve_extension(database: Database, actor_id: int, case_id: int, seen_version: int, *,
                      opinion: str = "", now: dt.datetime | None = None) -> StepResult:
    """批准延期: the deadline moves by the amount asked for."""

    def body(session, db, _actor, case, _at):
        ask = json.loads(case.pending_extension_json or "null")
        if not ask:
            raise ValidationError("没有待批准的延期申请", code="no_pending_extension")
        old = case.deadline_at
        moved = _calendar(db, session).deadline(old, ask["amount"], ask["unit"])
        case.deadline_at = moved.at
        case.deadline_estimated = case.deadline_estimated or moved.estimated
        case.extension_count += 1
        case.pending_extension_json = None
        return {"old_deadline_at": old.isoformat(), "deadline_at": moved.at.isoformat(), **ask}

    return _run_step(database, Step.APPROVE_EXTENSION, actor_id, case_id, seen_version, opinion,
                     body, now=now)


@exactly_once("case.reject_extension")
def reject_extension(database: Database, actor_id: int, case_id: int, seen_version: int, *,
                     opinion: str, now: dt.datetime | None = None) -> StepResult:
    """驳回延期: the deadline stays."""

    def body(_session, _db, _actor, case, _at):
        case.pending_extension_json = None
        return {}

    return _run_step(database, Step.REJECT_EXTENSION, actor_id, case_id, seen_version, opinion,
                     body, now=now)


def _limit_unit(session: Session, case: Case) -> str:
    cls = _case_class(session, case)
    return effective_limit(cls.limit_amount, cls.limit_unit, case.urgency)[1]


@exactly_once("case.park")
def park(database: Database, actor_id: int, case_id: int, seen_version: int, *, opinion: str,
         now: dt.datetime | None = None) -> StepResult:
    """挂账: a long-term problem (budget, planning) is parked and leaves the overdue lists.

    The deadline clock stops: the time it had left (approved extensions included; negative
    when already overdue) is kept on the case, in the limit's own time, for :func:`unpark`."""

    def body(session, db, _actor, case, at):
        unit = _limit_unit(session, case)
        left = _calendar(db, session).remaining_seconds(at, case.deadline_at, unit)
        case.paused_left_seconds = left
        return {"left_seconds": left, "unit": unit}

    return _run_step(database, Step.PARK, actor_id, case_id, seen_version, opinion, body, now=now)


@exactly_once("case.unpark")
def unpark(database: Database, actor_id: int, case_id: int, seen_version: int, *,
           opinion: str = "", now: dt.datetime | None = None) -> StepResult:
    """恢复处置: back to handling. The clock resumes with the time that was left when the case
    was parked (a case parked overdue resumes overdue by as much), unless the city's setting
    the city setting :data:`db.settings.UNPARK_RULE` says ``fresh``: then the class's whole limit starts again. A
    case parked before the time left was kept (no ``paused_left_seconds``) starts fresh too."""

    def body(session, db, _actor, case, at):
        rule = settings.read(session, settings.UNPARK_RULE)
        left = case.paused_left_seconds
        case.paused_left_seconds = None
        if rule == "fresh" or left is None:
            _set_deadline(db, session, case, at)
            return {"rule": "fresh", "deadline_at": case.deadline_at.isoformat()}
        unit = _limit_unit(session, case)
        if unit == "minutes":
            case.deadline_at = at + dt.timedelta(seconds=left)
            case.deadline_estimated = False
        else:
            resumed = _calendar(db, session).add_working_seconds(at, left)
            case.deadline_at = resumed.at
            case.deadline_estimated = resumed.estimated
        return {"rule": "resume", "left_seconds": left, "unit": unit,
                "deadline_at": case.deadline_at.isoformat()}

    return _run_step(database, Step.UNPARK, actor_id, case_id, seen_version, opinion, body, now=now)


@exactly_once("case.verify")
def verify(database: Database, actor_id: int, case_id: int, seen_version: int, *,
           opinion: str = "", now: dt.datetime | None = None) -> StepResult:
    """核查通过: an inspector confirmed on site that the problem is gone."""
    return _run_step(database, Step.VERIFY, actor_id, case_id, seen_version, opinion,
                     lambda *_: {}, now=now)


@exactly_once("case.rework")
def rework(database: Database, actor_id: int, case_id: int, seen_version: int, *, opinion: str,
           now: dt.datetime | None = None) -> StepResult:
    """返工: the check failed (or a closed case came back); the department works again on a
    fresh time limit."""

    def body(session, db, _actor, case, at):
        if case.assignee_department_id is None:
            raise ValidationError("此案件未经派遣（当即办理），不能返工，请重新登记",
                                  code="rework_undispatched", field="state")
        case.rework_count += 1
        case.handled_at = case.closed_at = case.handled_on_time = case.resolution = None
        case.dispatched_at = at
        _set_deadline(db, session, case, at)
        return {"deadline_at": case.deadline_at.isoformat()}

    return _run_step(database, Step.REWORK, actor_id, case_id, seen_version, opinion, body, now=now)


@exactly_once("case.close")
def close(database: Database, actor_id: int, case_id: int, seen_version: int, *,
          opinion: str = "", now: dt.datetime | None = None) -> StepResult:
    """结案."""

    def body(_session, _db, _actor, case, at):
        case.closed_at = at
        case.resolution = "closed"
        return {}

    return _run_step(database, Step.CLOSE, actor_id, case_id, seen_version, opinion, body, now=now)


@exactly_once("case.fix_on_spot")
def fix_on_spot(database: Database, actor_id: int, case_id: int, seen_version: int, *,
                opinion: str, class_id: int | None = None,
                now: dt.datetime | None = None) -> StepResult:
    """当即办理/自行处置: fixed by whoever found it; closed without dispatch."""
    class_id = validate.record_id(class_id, "案件类别", required=False)

    def body(session, _db, _actor, case, at):
        if class_id is not None:
            if session.get(CaseClass, class_id) is None:
                raise ValidationError(f"案件类别 {class_id} 不存在", code="unknown_class",
                                      field="class_id", id=class_id)
            case.class_id = class_id
        case.handled_at = case.closed_at = at
        case.resolution = "on_spot"
        return {"class_id": case.class_id}

    return _run_step(database, Step.FIX_ON_SPOT, actor_id, case_id, seen_version, opinion, body, now=now)


@exactly_once("case.void")
def void(database: Database, actor_id: int, case_id: int, seen_version: int, *, opinion: str,
         now: dt.datetime | None = None) -> StepResult:
    """作废: not a city-management problem, a duplicate, or a false report."""

    def body(_session, _db, _actor, case, at):
        case.closed_at = at
        case.resolution = "void"
        return {}

    return _run_step(database, Step.VOID, actor_id, case_id, seen_version, opinion, body, now=now)


#: Each step's function, for callers that pick the step at run time (UI buttons, simulator).
STEP_FUNCTIONS: dict[Step, Callable[..., StepResult]] = {
    Step.ACCEPT: accept, Step.OPEN: open_case, Step.DISPATCH: dispatch, Step.RETURN: return_case,
    Step.FEEDBACK: feedback, Step.REQUEST_EXTENSION: request_extension,
    Step.APPROVE_EXTENSION: approve_extension, Step.REJECT_EXTENSION: reject_extension,
    Step.PARK: park, Step.UNPARK: unpark, Step.VERIFY: verify, Step.REWORK: rework,
    Step.CLOSE: close, Step.FIX_ON_SPOT: fix_on_spot, Step.VOID: void,
}


def check_invariants(session: Session, case_id: int) -> list[str]:
    """The closed loop's invariants for one case; an empty list means all hold.

    * history is complete: it starts with a report, each row's from-state is the previous
      row's to-state, versions count up by one, and the last row matches the case;
    * a deadline exists exactly when the case has been dispatched;
    * a finished case has a closing time and a resolution;
    * the time left at parking is kept only while the case is parked.
    """
    case = session.get(Case, case_id)
    problems: list[str] = []
    rows = session.scalars(
        select(CaseHistory).where(CaseHistory.case_id == case_id).order_by(CaseHistory.id)
    ).all()
    if not rows or rows[0].step != REPORT_STEP:
        problems.append("history does not start with the report")
    for prev, row in zip(rows, rows[1:]):
        if row.from_state != prev.to_state:
            problems.append(f"history gap: {prev.to_state} then from {row.from_state}")
        if row.version != prev.version + 1:
            problems.append(f"history version jump {prev.version}->{row.version}")
        t = find_transition(row.step, row.from_state)
        if t is None or t.target != row.to_state:
            problems.append(f"history has a step the table forbids: {row.step} from {row.from_state}")
    if rows and (rows[-1].to_state != case.state or rows[-1].version != case.version):
        problems.append("last history row does not match the case")
    state = State(case.state)
    dispatched = state in DISPATCHED_STATES or (state == State.CLOSED and case.resolution == "closed")
    if (case.deadline_at is not None) != dispatched:
        problems.append(f"deadline {case.deadline_at} in state {state} (dispatched={dispatched})")
    if (case.dispatched_at is not None) != dispatched:
        problems.append(f"dispatched_at {case.dispatched_at} in state {state}")
    if state in FINAL_STATES and (case.closed_at is None or case.resolution is None):
        problems.append("finished case without closing time or resolution")
    if state not in FINAL_STATES and case.resolution is not None:
        problems.append("open case with a resolution")
    if state != State.PARKED and case.paused_left_seconds is not None:
        problems.append(f"time left kept ({case.paused_left_seconds}) on a case not parked")
    return problems


__all__ = [
    "DISPATCHED_STATES", "FINAL_STATES", "REPORTERS", "STEP_FUNCTIONS", "TRANSITIONS", "Source",
    "State", "Step", "StepResult", "Transition", "Urgency",
    "allowed_steps", "check_invariants", "find_transition", "report_case", "report_in",
    "steps_allowed",
]
