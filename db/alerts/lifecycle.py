"""Alerts: water-level and gas sensors, camera analytics, 110/119 transfers.

An alert is one row per *alarm source and type* (its ``dedup_key``, e.g. ``sensor:12:gas``,
``camera:7:video:smoke``, ``110:<incident number>``) and goes active → acknowledged → cleared.
Sources raise alarms with :func:`raise_alerts` (inside a caller's transaction, as the simulator
does with its readings) or :func:`raise_alert` (one transaction); the control room acts with
:func:`acknowledge`, :func:`clear`, :func:`to_case` and :func:`link_case`. Everything that
changes an alert writes an audit row (except a plain repeat: that is telemetry, counted on the
row) and publishes ``alert`` on the change feed.

De-duplication and flapping damping
-----------------------------------
* **Repeat.** An alarm whose key has an uncleared alert raises that alert's ``repeat_count``,
  ``last_at``, ``value`` and ``detail``; no new row (a partial unique index allows one uncleared
  row per key, so two writers racing cannot make two).
* **Peak hold.** While an alert is open its ``severity`` (and ``title``, which names the level)
  holds at the peak reached; ``value`` always shows the latest reading. A gas reading wobbling
  around 35 %LEL does not flip the alert between critical and major every ten seconds.
* **Escalation re-arms.** A rise in severity is audited (``alert.severity``) and bumps the
  version; an acknowledged alert that escalates goes back to *active* (its acknowledgement is
  kept in the audit log), because the officer acknowledged a lesser alarm.
* **Reopen within the damping window.** An alarm whose key was cleared less than
  :data:`DAMPING_WINDOW` ago reopens that row (state active, ``repeat_count`` + 1,
  ``reopen_count`` + 1, severity from the new alarm, acknowledgement and clearing reset; the
  clearing it undoes is in the audit row ``alert.reopen``) instead of adding a row. After the
  window a new row starts.
* **No automatic clearing.** An alarm ends when an officer clears it, never because one reading
  fell below a threshold, so a value dancing around a threshold (the usual flapping) can only
  raise a counter, never open and close rows.

Versions and conflicts
----------------------
``version`` counts what an officer judges by: acknowledgement, clearing, linking, escalation,
reopening. A plain repeat does not bump it, so acknowledging an alert that repeats every ten
seconds does not fail; acting on a version someone else (or an escalation) moved raises
:class:`~db.core.errors.ConflictError` naming who and when (the versioned write of
:mod:`db.core.versioned`, the same frame as a case's steps).
Acknowledging or clearing twice with the current version is a no-op, not an error.

Who may act: duty officers, dispatchers, shift leaders, leaders and administrators
(:data:`HANDLERS`); turning an alert into a case also follows :func:`db.cases.workflow.report_case`'s
rules (administrators do not report cases). What officers type (a clearing note, a case
description) is checked like any workflow text: refused, never cut. What a *source* sends
(title, detail) is never refused, because an alarm must not be lost: characters that cannot be
stored or that disguise text (NUL, control characters, bidi overrides) become U+FFFD and
over-long text is cut; anything else, ``<script>`` included, is stored verbatim and escaped by
whatever shows it.

Sensor trends: :func:`sensor_series` returns two ``array('d')`` (epoch seconds UTC, values)
straight from two selected columns, without ORM objects or datetime conversion per row.
"""
from __future__ import annotations

import array
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, aliased

from db.alerts.sensors import LEVEL_SEVERITY, parse_thresholds, sensor_level
from db.auth.roles import Role
from db.cases import workflow as wf
from db.cases.workflow import Source, StepResult, Urgency
from db.core import feed, validate
from db.core.audit import audit
from db.core.dbclock import event_time
from db.core.engine import Database
from db.core.entities import Entity
from db.core.errors import (
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
    raise_mapped,
)
from db.core.requests import exactly_once
from db.core.text import MAX_SHORT_TEXT, MAX_TEXT, clean_text, safe_text
from db.core.timecheck import check_time
from db.core.versioned import Write, versioned_write, versioned_write_in
from db.geo.polygons import city_geo
from db.models import Alert, Camera, Case, CaseClass, City, Sensor, Town, UserAccount
from db.worktime.clock import SHANGHAI

SEVERITIES = ("critical", "major", "minor", "warning")  # most severe first
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
SEVERITY_LABELS = {"critical": "紧急", "major": "重要", "minor": "次要", "warning": "提示"}
STATES = ("active", "acknowledged", "cleared")
STATE_LABELS = {"active": "未确认", "acknowledged": "已确认", "cleared": "已清除"}
SOURCES = ("sensor", "camera", "110", "119")
SOURCE_LABELS = {"sensor": "物联感知", "camera": "视频识别", "110": "110转办", "119": "119转办"}

#: A cleared alert whose key alarms again within this time is reopened, not duplicated.
DAMPING_WINDOW = dt.timedelta(minutes=10)
#: Who may acknowledge, clear, link and turn alerts into cases.
HANDLERS = frozenset({Role.DUTY_OFFICER, Role.DISPATCHER, Role.SHIFT_LEADER, Role.LEADER,
                      Role.ADMIN})
#: The case channel of each alert source.
SOURCE_CHANNELS = {"sensor": Source.SENSOR, "camera": Source.VIDEO,
                   "110": Source.TRANSFER_110, "119": Source.TRANSFER_119}
#: Case urgency suggested for each severity (critical: on site within 30 minutes).
SEVERITY_URGENCY = {"critical": Urgency.EMERGENCY, "major": Urgency.URGENT,
                    "minor": Urgency.NORMAL, "warning": Urgency.NORMAL}
#: Case class (minor class name in the catalogue) suggested for an alert type.
TYPE_CLASSES = {
    "water_level": "道路积水/内涝", "gas": "燃气泄漏",
    "video:garbage": "暴露垃圾", "video:street_vending": "无照经营游商",
    "video:illegal_parking": "机动车乱停放", "video:smoke": "露天焚烧",
    "video:waterlogging": "道路积水/内涝", "video:fallen_tree": "树木倒伏",
}
#: Words in a transfer's (or unknown type's) title or detail that point to a class; checked
#: after a class's own name, which wins when it appears in the text.
KEYWORD_CLASSES = (
    ("积水", "道路积水/内涝"), ("内涝", "道路积水/内涝"), ("燃气", "燃气泄漏"),
    ("煤气", "燃气泄漏"), ("塌陷", "路面塌陷"), ("井盖", "井盖缺失"), ("爆管", "自来水管破裂"),
    ("水管", "自来水管破裂"), ("倒伏", "树木倒伏"), ("断枝", "树木倒伏"),
    ("广告牌", "户外设施倒塌坠落"), ("坠落", "户外设施倒塌坠落"), ("电线", "电力线缆断落"), ("线缆", "电力线缆断落"),
    ("焚烧", "露天焚烧"), ("烧烤", "露天烧烤"), ("乱停", "机动车乱停放"), ("店外", "店外经营"),
    ("摆卖", "无照经营游商"), ("噪声", "社会生活噪声扰民"), ("垃圾", "暴露垃圾"),
)

MAX_TITLE = 120  # the column; a source's longer title is cut
MAX_DETAIL = 2000  # a source's detail beyond this is cut
MAX_NOTE = 500  # an officer's clearing note beyond this is refused
FETCH_CHUNK = 500  # ids per IN (...) list


# -- read models -----------------------------------------------------------------------------

@dataclass(frozen=True)
class AlertRow:
    """One alert as the panel shows it: plain values, safe to hand to any thread."""

    id: int
    source: str  # sensor / camera / 110 / 119
    type: str  # water_level / gas / video:<label> / transfer
    severity: str  # one of SEVERITIES: the peak while open
    state: str  # active / acknowledged / cleared
    title: str
    detail: str
    lat: float | None
    lon: float | None
    town_name: str | None
    sensor_id: int | None
    camera_id: int | None
    value: float | None  # the latest reading
    first_at: dt.datetime
    last_at: dt.datetime
    repeat_count: int
    acknowledged_by: str | None  # display name
    acknowledged_at: dt.datetime | None
    cleared_by: str | None
    cleared_at: dt.datetime | None
    case_id: int | None
    case_no: str | None
    version: int
    reopen_count: int = 0
    clear_note: str | None = None


@dataclass(frozen=True)
class CaseDraft:
    """What the turn-into-case dialog pre-fills from an alert."""

    alert_id: int
    source: Source
    class_id: int | None  # None: nothing in the catalogue fits; the officer picks
    class_name: str | None
    lat: float | None
    lon: float | None
    address: str
    title: str
    description: str
    urgency: Urgency
    external_ref: str  # "alert:<id>"


@dataclass(frozen=True)
class SensorInfo:
    id: int
    code: str
    name: str
    kind: str  # water_level / gas
    unit: str  # m / %LEL
    thresholds: dict[str, float]  # water: blue/yellow/orange/red; gas: alarm/cutoff
    lat: float
    lon: float
    town_name: str | None
    last_value: float | None
    last_at: dt.datetime | None


_acker = aliased(UserAccount)
_clearer = aliased(UserAccount)
_SEVERITY_ORDER = case(SEVERITY_RANK, value=Alert.severity, else_=len(SEVERITIES))


def _row_select():
    return (
        select(Alert.id, Alert.source, Alert.type, Alert.severity, Alert.state, Alert.title,
               Alert.detail, Alert.lat, Alert.lon, Town.name, Alert.sensor_id, Alert.camera_id,
               Alert.value, Alert.first_at, Alert.last_at, Alert.repeat_count,
               _acker.display_name, Alert.acknowledged_at, _clearer.display_name,
               Alert.cleared_at, Alert.case_id, Case.number, Alert.version, Alert.reopen_count,
               Alert.clear_note)
        .outerjoin(Town, Town.id == Alert.town_id)
        .outerjoin(_acker, _acker.id == Alert.acknowledged_by_id)
        .outerjoin(_clearer, _clearer.id == Alert.cleared_by_id)
        .outerjoin(Case, Case.id == Alert.case_id)
    )


#: How many uncleared alerts a workstation lists at most (it says "1000+" beyond).
ACTIVE_LIMIT = 1000


def active_alerts(session: Session, *, limit: int = ACTIVE_LIMIT) -> list[AlertRow]:
    """Uncleared alerts: most severe first; within a severity those nobody has acknowledged
    first, then the newest alarm first. Ordered by when an alarm *began*, not its latest
    repeat, so a list of repeating alarms does not reshuffle under the officer's cursor."""
    rows = session.execute(
        _row_select().where(Alert.state != "cleared")
        .order_by(_SEVERITY_ORDER, case((Alert.state == "active", 0), else_=1),
                  Alert.first_at.desc(), Alert.id.desc()).limit(limit))
    return [AlertRow(*r) for r in rows]


def alert_rows(session: Session, ids: Iterable[int]) -> list[AlertRow]:
    """The alerts with these ids in any state (absent ids are left out), in id order."""
    ids = sorted({int(i) for i in ids})
    out: list[AlertRow] = []
    for start in range(0, len(ids), FETCH_CHUNK):
        chunk = ids[start:start + FETCH_CHUNK]
        out += [AlertRow(*r) for r in session.execute(
            _row_select().where(Alert.id.in_(chunk)).order_by(Alert.id))]
    return out


def alerts_for_case(session: Session, case_id: int) -> list[AlertRow]:
    """The alerts linked to a case (the reverse of ``AlertRow.case_id``), oldest first."""
    return [AlertRow(*r) for r in session.execute(
        _row_select().where(Alert.case_id == case_id).order_by(Alert.first_at, Alert.id))]


def _one_row(session: Session, alert_id: int) -> AlertRow:
    rows = alert_rows(session, [alert_id])
    if not rows:
        raise NotFound(f"告警 {alert_id} 不存在", code="not_found", entity=Entity.ALERT.value,
                       id=alert_id)
    return rows[0]


# -- plumbing --------------------------------------------------------------------------------

def _handler_check(what: str):
    """Refuses an account that may not act on alerts, before anything is locked."""
    def check(actor: UserAccount) -> None:
        if Role(actor.role) not in HANDLERS:
            raise PermissionDenied(f"{Role(actor.role).label}无权{what}告警",
                                   code="role_cannot_handle_alert", role=actor.role)
    return check


def _alert_write(database: Database, actor_id: int, alert_id: int, seen_version: int,
                 what: str, now: dt.datetime | None):
    """The versioned write of one alert; a change by an alarm source is named "告警源"."""
    return versioned_write(database, Entity.ALERT, Alert, actor_id, alert_id, seen_version,
                           now=now, authorise=_handler_check(what), system_actor="告警源")


def _acknowledge_in(alert: Alert, actor: UserAccount, at: dt.datetime) -> None:
    alert.state = "acknowledged"
    alert.acknowledged_by_id = actor.id
    alert.acknowledged_at = at


# -- the officers' actions -------------------------------------------------------------------

@exactly_once("alert.acknowledge")
def acknowledge(database: Database, actor_id: int, alert_id: int, seen_version: int, *,
                now: dt.datetime | None = None) -> AlertRow:
    """确认: the officer has seen the alert (who and when are kept)."""
    with _alert_write(database, actor_id, alert_id, seen_version, "确认", now) as w:
        _acknowledge_body(w)
        return _one_row(w.session, alert_id)


@exactly_once("alert.acknowledge_many")
def acknowledge_many(database: Database, actor_id: int,
                     seen: Iterable[tuple[int, int]], *,
                     now: dt.datetime | None = None) -> list[AlertRow]:
    """确认 several alerts at once (a group of alerts of one event, see
    :mod:`db.alerts.grouping`): ``seen`` holds ``(alert_id, seen_version)`` pairs.

    All or nothing, in one transaction: each alert goes through exactly the checks of
    :func:`acknowledge` (role, version, not cleared; one already acknowledged is left as it is)
    and gets its own version bump, audit row and change-feed row. If any one fails, a
    :class:`~db.core.errors.ConflictError` naming who changed it and when for instance,
    nothing is acknowledged. Rows are locked in id order, so two desks acknowledging
    overlapping groups wait for each other instead of deadlocking. Returns the alerts as they
    are now, in id order."""
    if isinstance(seen, str | bytes | dict) or not hasattr(seen, "__iter__"):
        raise ValidationError(f"告警列表无效：{seen!r:.60}", code="value_not_list", field="告警",
                              value=repr(seen)[:60])
    pairs: dict[int, int] = {}
    for item in seen:
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise ValidationError(f"告警与版本号应成对给出：{item!r:.60}", code="value_not_list",
                                  field="告警", value=repr(item)[:60])
        alert_id = validate.record_id(item[0], "告警")
        version = validate.whole_number(item[1], "版本号")
        if alert_id in pairs and pairs[alert_id] != version:
            raise ValidationError(f"告警 {alert_id} 给出了两个版本号", code="version_invalid",
                                  field="version", seen=version, current=pairs[alert_id])
        pairs[alert_id] = version
    if not pairs:
        return []
    at = check_time(now) if now is not None else None  # None: the database's clock, per row
    check = _handler_check("确认")
    try:
        with database.write() as session:
            for alert_id in sorted(pairs):
                with versioned_write_in(session, database, Entity.ALERT, Alert, actor_id,
                                        alert_id, pairs[alert_id], at=at, authorise=check,
                                        system_actor="告警源") as w:
                    _acknowledge_body(w)
            session.flush()
            return alert_rows(session, pairs)
    except Exception as exc:  # a lost link or a lock timeout, as in the one-row frame
        raise_mapped(exc)
    raise AssertionError("unreachable")


def _acknowledge_body(w: Write) -> None:
    """What acknowledging one alert checks and changes, inside its versioned write."""
    alert = w.row
    if alert.state == "acknowledged":  # seen acknowledged, still so: nothing to do
        return
    if alert.state == "cleared":
        raise InvalidTransition("告警已清除，无需确认", code="alert_cleared",
                                alert_id=alert.id, state=alert.state)
    _acknowledge_in(alert, w.actor, w.at)
    w.record("alert.acknowledge", {"severity": alert.severity})


def clear_needs_reason(severity: str, state: str, sensor_severity: str | None = None) -> bool:
    """Whether clearing an alert needs a reason: it is critical and still live, that is
    nobody has acknowledged it (``active``), or its sensor's last reading is still at or
    above the alert's level (``sensor_severity``: the severity that reading raises, see
    :func:`sensor_severity_now`). One rule for :func:`clear` and the clear dialog."""
    if severity != "critical":
        return False
    if state == "active":
        return True
    return sensor_severity is not None and SEVERITY_RANK[sensor_severity] <= SEVERITY_RANK[severity]


def sensor_severity_now(last_value: float | None, thresholds_json: str | None) -> str | None:
    """The severity a sensor's last reading raises (:mod:`db.alerts.sensors`' level rule), or
    None below every threshold, without a reading or with unreadable thresholds."""
    return LEVEL_SEVERITY.get(sensor_level(last_value, thresholds_json))


def _sensor_severity(session: Session, sensor_id: int | None) -> str | None:
    if sensor_id is None:
        return None
    row = session.execute(select(Sensor.last_value, Sensor.thresholds_json)
                          .where(Sensor.id == sensor_id)).first()
    return sensor_severity_now(row.last_value, row.thresholds_json) if row else None


def clear_reason_required(session: Session, alert_id: int) -> bool:
    """:func:`clear_needs_reason` for the alert as it is in the database now (the dialog asks
    before the officer types; :func:`clear` checks again when it writes)."""
    alert = session.get(Alert, alert_id)
    if alert is None or alert.state == "cleared" or alert.severity != "critical":
        return False
    return clear_needs_reason(alert.severity, alert.state,
                              _sensor_severity(session, alert.sensor_id))


@exactly_once("alert.clear")
def clear(database: Database, actor_id: int, alert_id: int, seen_version: int, *,
          note: str = "", now: dt.datetime | None = None) -> AlertRow:
    """清除: the alarm is over or dealt with. The row stays (state cleared, who, when, note).

    A critical alert that is still live (unacknowledged, or its sensor still reads at its
    level: :func:`clear_needs_reason`) is cleared only with a reason in ``note``; without one
    it is refused (``clear_reason_required``) and nothing changes."""
    note = clean_text(note, "备注", limit=MAX_NOTE).strip()
    with _alert_write(database, actor_id, alert_id, seen_version, "清除", now) as w:
        alert = w.row
        if alert.state == "cleared":
            return _one_row(w.session, alert.id)
        if not note and alert.severity == "critical" and clear_needs_reason(
                alert.severity, alert.state, _sensor_severity(w.session, alert.sensor_id)):
            raise ValidationError("紧急告警仍在报警（未确认或读数仍在该级别），清除须填写原因",
                                  code="clear_reason_required", field="note",
                                  alert_id=alert.id)
        previous = alert.state
        alert.state = "cleared"
        alert.cleared_by_id = w.actor.id
        alert.cleared_at = w.at
        alert.clear_note = note or None
        w.record("alert.clear", {"from": previous, "note": note})
        return _one_row(w.session, alert.id)


def cleared_alerts(session: Session, since: dt.datetime,
                   until: dt.datetime | None = None) -> list[AlertRow]:
    """Alerts cleared at ``since <= cleared_at < until`` (no upper bound without ``until``),
    latest clearing first: who cleared each (``cleared_by``), when (``cleared_at``) and why
    (``clear_note``), for the review of what the desk cleared."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ValidationError("时间必须带时区（UTC）", code="time_not_aware", field=name)
    stmt = _row_select().where(Alert.state == "cleared", Alert.cleared_at >= since)
    if until is not None:
        stmt = stmt.where(Alert.cleared_at < until)
    return [AlertRow(*r) for r in session.execute(
        stmt.order_by(Alert.cleared_at.desc(), Alert.id.desc()))]


@exactly_once("alert.link_case")
def link_case(database: Database, actor_id: int, alert_id: int, seen_version: int,
              case_ref: int | str, *, now: dt.datetime | None = None) -> AlertRow:
    """关联案件: the alert belongs to an existing case, given by id or by case number.

    An active alert is acknowledged by the same act (the officer has plainly seen it)."""
    with _alert_write(database, actor_id, alert_id, seen_version, "关联", now) as w:
        alert = w.row
        target = _find_case(w.session, case_ref)
        if alert.case_id == target.id:
            return _one_row(w.session, alert.id)
        previous = alert.case_id
        alert.case_id = target.id
        if alert.state == "active":
            _acknowledge_in(alert, w.actor, w.at)
        w.record("alert.link_case", {"case_id": target.id, "case_no": target.number,
                                     "previous_case_id": previous},
                 also=[(Entity.CASE, [target.id])])  # the case's list of alerts changed
        return _one_row(w.session, alert.id)


def _find_case(session: Session, case_ref: int | str) -> Case:
    found = None
    if isinstance(case_ref, bool) or not isinstance(case_ref, (int, str)):
        raise ValidationError(f"案件编号无效：{case_ref!r}", code="case_ref_invalid",
                              field="case_ref", ref=repr(case_ref))
    if isinstance(case_ref, int):
        found = session.get(Case, case_ref)
    else:
        ref = clean_text(case_ref, "案件编号", limit=40).strip()
        if ref:
            # Text is a case number, only ever matched whole: the tail of a number typed by
            # an officer ("123") must not link an unrelated case whose id happens to be 123.
            found = session.scalars(select(Case).where(Case.number == ref)).one_or_none()
    if found is None:
        raise NotFound(f"案件 {case_ref} 不存在", code="case_ref_not_found", ref=str(case_ref))
    return found


def case_draft(session: Session, alert_id: int) -> CaseDraft:
    """What the turn-into-case dialog pre-fills: channel, suggested class, place, text, urgency."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"告警 {alert_id} 不存在", code="not_found", entity=Entity.ALERT.value,
                       id=alert_id)
    return _draft(session, alert)


def _draft(session: Session, alert: Alert) -> CaseDraft:
    town = session.get(Town, alert.town_id) if alert.town_id is not None else None
    device = None
    if alert.sensor_id is not None:
        device = session.get(Sensor, alert.sensor_id)
    elif alert.camera_id is not None:
        device = session.get(Camera, alert.camera_id)
    class_id, class_name = suggest_class(session, alert.type, f"{alert.title} {alert.detail}")
    address = " ".join(p for p in (town.name if town else "", device.name if device else "") if p)
    first = alert.first_at.astimezone(SHANGHAI)
    last = alert.last_at.astimezone(SHANGHAI)
    source = SOURCE_LABELS.get(alert.source, alert.source)
    level = SEVERITY_LABELS.get(alert.severity, alert.severity)
    facts = [f"{source}告警（{level}）：{alert.title}"]
    if alert.detail:
        facts.append(alert.detail)
    if alert.value is not None and alert.sensor_id is not None:
        unit = device.unit if isinstance(device, Sensor) else ""
        facts.append(f"最新读数 {alert.value:g} {unit}".rstrip())
    facts.append(f"首次 {first:%m-%d %H:%M}，最近 {last:%m-%d %H:%M}，共 {alert.repeat_count} 次")
    return CaseDraft(
        alert_id=alert.id,
        source=SOURCE_CHANNELS.get(alert.source, Source.SENSOR),
        class_id=class_id, class_name=class_name, lat=alert.lat, lon=alert.lon,
        address=safe_text(address, MAX_SHORT_TEXT),
        title=safe_text(alert.title, 100),
        description=safe_text("\n".join(facts), MAX_TEXT),
        urgency=SEVERITY_URGENCY.get(alert.severity, Urgency.NORMAL),
        external_ref=f"alert:{alert.id}",
    )


def suggest_class(session: Session, alert_type: str,
                  text: str = "") -> tuple[int | None, str | None]:
    """The catalogue class an alert most likely is, as (id, minor name), or (None, None).

    By the alert type first (water level → 道路积水/内涝, gas → 燃气泄漏, video labels); then a
    class whose own name appears in the text; then :data:`KEYWORD_CLASSES`."""
    classes = session.execute(select(CaseClass.minor_name, CaseClass.id)
                              .where(CaseClass.active.is_(True)).order_by(CaseClass.id)).all()
    by_name: dict[str, int] = {}
    for name, cid in classes:
        by_name.setdefault(name, cid)
    wanted = TYPE_CLASSES.get(alert_type)
    if wanted in by_name:
        return by_name[wanted], wanted
    for name in sorted(by_name, key=len, reverse=True):  # the most specific name first
        if len(name) >= 2 and name in text:
            return by_name[name], name
    for word, name in KEYWORD_CLASSES:
        if word in text and name in by_name:
            return by_name[name], name
    return None, None


#: ``to_case(class_id=DRAFT)``: take the draft's suggested class (``None`` means "unclassified:
#: classify at acceptance", which the officer may choose on purpose).
DRAFT: Any = object()


@exactly_once("alert.to_case")
def to_case(database: Database, actor_id: int, alert_id: int, seen_version: int, *,
            class_id: int | None | object = DRAFT, description: str | None = None,
            urgency: Urgency | str | None = None, title: str | None = None,
            address: str | None = None,
            now: dt.datetime | None = None) -> tuple[StepResult, AlertRow]:
    """生成案件: report a case from the alert and link both ways, in one transaction.

    The case is reported exactly as :func:`db.cases.workflow.report_case` would (role, text checks,
    inside-city check) with the draft's channel, place and reference, and the officer's class,
    description, urgency, title and address where given. The alert gets ``case_id`` and, if
    still active, is acknowledged. Any failure leaves both untouched."""
    with _alert_write(database, actor_id, alert_id, seen_version, "处理", now) as w:
        alert, session = w.row, w.session
        if alert.case_id is not None:
            number = session.scalar(select(Case.number).where(Case.id == alert.case_id))
            raise ValidationError(f"告警已关联案件 {number}", code="alert_already_linked",
                                  field="case_id", case_id=alert.case_id, number=number)
        if alert.lat is None or alert.lon is None:
            raise ValidationError("告警没有位置，请改用“关联案件”或人工登记", code="alert_no_location",
                                  field="lat")
        draft = _draft(session, alert)
        result = wf.report_in(
            session, database, w.actor.id, source=draft.source, lat=alert.lat, lon=alert.lon,
            description=draft.description if description is None else description,
            title=draft.title if title is None else title,
            address=draft.address if address is None else address,
            class_id=draft.class_id if class_id is DRAFT else class_id,
            urgency=draft.urgency if urgency is None else urgency,
            external_ref=draft.external_ref,
            now=now)  # the caller's time where accepted; else the database's, as w.at
        alert.case_id = result.case_id
        if alert.state == "active":
            _acknowledge_in(alert, w.actor, w.at)
        w.record("alert.to_case", {"case_id": result.case_id, "case_no": result.number})
        return result, _one_row(session, alert.id)


# -- raising alarms --------------------------------------------------------------------------

def _normalise(alarm: dict) -> dict:
    """An alarm dict checked: known source and severity, device ids, key, storable text, a
    finite value and a point inside the globe (:mod:`db.core.validate`): a wrong type, NaN or
    infinity is a ``ValidationError``, never a driver's error."""
    if not isinstance(alarm, dict):
        raise ValidationError(f"告警必须是字典：{alarm!r:.60}", code="alarm_invalid",
                              value=repr(alarm)[:60])
    for name in ("source", "type", "severity", "dedup_key", "title", "detail"):
        if alarm.get(name) is not None and not isinstance(alarm[name], str):
            raise ValidationError(f"告警字段 {name} 必须是文本", code="text_not_text", field=name)
    unknown = set(alarm) - {"source", "type", "severity", "dedup_key", "title", "detail", "lat",
                            "lon", "town_id", "sensor_id", "camera_id", "value"}
    if unknown:
        raise ValidationError(f"告警含未知字段：{', '.join(sorted(unknown))}")
    source = alarm.get("source")
    if source not in SOURCES:
        raise ValidationError(f"告警来源无效：{source!r}", field="source")
    severity = alarm.get("severity")
    if severity not in SEVERITY_RANK:
        raise ValidationError(f"告警级别无效：{severity!r}", field="severity")
    kind = safe_text(alarm.get("type"), 40)
    if not kind.strip():
        raise ValidationError("告警类型为空", field="type")
    sensor_id = validate.record_id(alarm.get("sensor_id"), "传感器", required=False)
    camera_id = validate.record_id(alarm.get("camera_id"), "摄像头", required=False)
    town_id = validate.record_id(alarm.get("town_id"), "镇街", required=False)
    key = alarm.get("dedup_key")
    if not key:
        if sensor_id is None and camera_id is None:
            # Two different 110 incidents must never merge into one row: without a device the
            # source must say what makes the alarm itself (e.g. the transfer number).
            raise ValidationError("无设备的告警必须提供去重键（如转办单号）", field="dedup_key")
        key = f"{source}:{sensor_id if sensor_id is not None else camera_id}:{kind}"
    lat, lon = alarm.get("lat"), alarm.get("lon")
    if (lat is None) != (lon is None):
        raise ValidationError("告警位置不完整", field="lat")
    if lat is not None:
        lat, lon = validate.coordinates(lat, lon)
    value = validate.finite_number(alarm.get("value"), "读数", required=False)
    return {
        "source": source, "type": kind, "severity": severity, "dedup_key": safe_text(key, 120),
        "title": safe_text(alarm.get("title") or kind, MAX_TITLE),
        "detail": safe_text(alarm.get("detail"), MAX_DETAIL),
        "lat": lat, "lon": lon,
        "town_id": town_id, "sensor_id": sensor_id, "camera_id": camera_id,
        "value": value,
    }


def raise_alerts(session: Session, alarms: list[dict],
                 now: dt.datetime | None = None) -> list[int]:
    """Record ``alarms`` in the caller's transaction: each opens an alert, repeats the uncleared
    one with its key, or reopens one cleared within :data:`DAMPING_WINDOW` (module docstring).
    Writes the audit rows and publishes ``alert``; returns one id per alarm, in order.

    Each alarm is a dict: ``source`` (sensor/camera/110/119), ``type``, ``severity``, ``title``
    and optionally ``dedup_key`` (default ``source:device:type``), ``detail``, ``lat``, ``lon``,
    ``town_id`` (default: the device's town), ``sensor_id``, ``camera_id``, ``value``.
    Two writers raising the same new key at once: the second one's insert fails on the partial
    unique index (IntegrityError); run its transaction again and it repeats the first one's row
    (:func:`raise_alert` does). The alarms' time is the database's clock read after the row
    locks; ``now``, a source's own time, only where the database accepts one
    (:mod:`db.core.dbclock`: the simulator's demo city, tests).
    """
    if not isinstance(alarms, list | tuple):
        raise ValidationError(f"告警列表必须是列表：{alarms!r:.60}", code="value_not_list",
                              field="告警", value=repr(alarms)[:60])
    if not alarms:
        return []
    if now is not None:
        now = check_time(now)
    alarms = [_normalise(a) for a in alarms]
    _check_references(session, alarms)
    _fill_towns(session, alarms)
    keys = sorted({a["dedup_key"] for a in alarms})
    lock = session.get_bind().dialect.name == "postgresql"
    # Row locks before anything else (and before the feed's lock): always in id order, so two
    # writers bumping the same alerts wait for each other instead of losing counts.
    stmt = select(Alert).where(Alert.dedup_key.in_(keys), Alert.state != "cleared") \
        .order_by(Alert.id)
    open_by_key = {a.dedup_key: a for a in session.scalars(
        stmt.with_for_update() if lock else stmt)}
    now = event_time(session, now)  # after the locks: an alarm that waited came later
    closed_keys = [k for k in keys if k not in open_by_key]
    recent: dict[str, Alert] = {}
    if closed_keys:
        stmt = select(Alert).where(Alert.dedup_key.in_(closed_keys), Alert.state == "cleared",
                                   Alert.cleared_at >= now - DAMPING_WINDOW) \
            .order_by(Alert.id)
        for a in session.scalars(stmt.with_for_update() if lock else stmt):
            best = recent.get(a.dedup_key)
            if best is None or (a.cleared_at, a.id) > (best.cleared_at, best.id):
                recent[a.dedup_key] = a
    ids: list[int] = []
    inserted: list[int] = []
    changed: list[int] = []
    for alarm in alarms:
        key = alarm["dedup_key"]
        alert = open_by_key.get(key)
        if alert is not None:
            _repeat(session, alert, alarm, now)
        elif (alert := recent.pop(key, None)) is not None:
            _reopen(session, alert, alarm, now)
            open_by_key[key] = alert
        else:
            alert = Alert(**alarm, state="active", first_at=now, last_at=now, repeat_count=1,
                          reopen_count=0, version=1)
            session.add(alert)
            session.flush()
            open_by_key[key] = alert
            inserted.append(alert.id)
            audit(session, None, "alert.raise", Entity.ALERT, alert.id,
                     {"key": key, "severity": alarm["severity"], "value": alarm["value"]}, now)
        ids.append(alert.id)
        if alert.id not in inserted and alert.id not in changed:
            changed.append(alert.id)
    session.flush()
    feed.publish(session, Entity.ALERT, inserted, op="insert")
    feed.publish(session, Entity.ALERT, changed)
    return ids


def _check_references(session: Session, alarms: list[dict]) -> None:
    """Every sensor, camera and town an alarm names exists: an unknown id is a declared
    ``ValidationError`` (``unknown_reference``), not a foreign-key ``IntegrityError``."""
    for column, model, label in (("sensor_id", Sensor, "传感器"), ("camera_id", Camera, "摄像头"),
                                 ("town_id", Town, "镇街")):
        wanted = {a[column] for a in alarms if a[column] is not None}
        if not wanted:
            continue
        found = set(session.scalars(select(model.id).where(model.id.in_(sorted(wanted)))))
        missing = sorted(wanted - found)
        if missing:
            raise ValidationError(f"{label} {missing[0]} 不存在", code="unknown_reference",
                                  field=label, id=missing[0])


def _fill_towns(session: Session, alarms: list[dict]) -> None:
    """An alarm from a device without a town gets the device's town."""
    for column, model in (("sensor_id", Sensor), ("camera_id", Camera)):
        wanted = {a[column] for a in alarms if a["town_id"] is None and a[column] is not None}
        if wanted:
            towns = dict(session.execute(select(model.id, model.town_id)
                                         .where(model.id.in_(sorted(wanted)))).all())
            for a in alarms:
                if a["town_id"] is None and a[column] is not None:
                    a["town_id"] = towns.get(a[column])


def _repeat(session: Session, alert: Alert, alarm: dict, now: dt.datetime) -> None:
    """The same alarm again on an open alert: count it; hold the peak severity."""
    alert.repeat_count += 1
    alert.last_at = max(alert.last_at, now)
    alert.value = alarm["value"]
    alert.detail = alarm["detail"]
    if SEVERITY_RANK[alarm["severity"]] < SEVERITY_RANK[alert.severity]:
        rearmed = alert.state == "acknowledged"
        audit(session, None, "alert.severity", Entity.ALERT, alert.id,
                 {"from": alert.severity, "to": alarm["severity"], "value": alarm["value"],
                  "rearmed": rearmed}, now)
        alert.severity, alert.title = alarm["severity"], alarm["title"]
        if rearmed:  # acknowledged at a lesser level: the officer must see this one
            alert.state = "active"
            alert.acknowledged_by_id = alert.acknowledged_at = None
        alert.version += 1


def _reopen(session: Session, alert: Alert, alarm: dict, now: dt.datetime) -> None:
    """The alarm came back soon after an officer cleared it: the same row again."""
    audit(session, None, "alert.reopen", Entity.ALERT, alert.id,
             {"cleared_at": alert.cleared_at, "cleared_by_id": alert.cleared_by_id,
              "note": alert.clear_note, "severity": alarm["severity"],
              "value": alarm["value"]}, now)
    alert.state = "active"
    alert.severity, alert.title = alarm["severity"], alarm["title"]
    alert.detail, alert.value = alarm["detail"], alarm["value"]
    alert.last_at = max(alert.last_at, now)
    alert.repeat_count += 1
    alert.reopen_count += 1
    alert.acknowledged_by_id = alert.acknowledged_at = None
    alert.cleared_by_id = alert.cleared_at = alert.clear_note = None
    alert.version += 1


def raise_alert(database: Database, *, now: dt.datetime | None = None, **alarm: Any) -> int:
    """One alarm in its own transaction (for outside feeds and tests); returns the alert id.

    Without ``town_id`` or a device, the town comes from the position when it is inside the
    city. A race with another writer opening the same key is retried once."""
    at = check_time(now) if now is not None else None
    for attempt in (1, 2):
        try:
            with database.write() as session:
                if alarm.get("town_id") is None and alarm.get("lat") is not None \
                        and alarm.get("sensor_id") is None and alarm.get("camera_id") is None:
                    alarm = {**alarm, "town_id": _town_at(database, session, alarm)}
                return raise_alerts(session, [alarm], at)[0]
        except IntegrityError:
            if attempt == 2:
                raise
        except DBAPIError as exc:
            raise_mapped(exc)
    raise AssertionError("unreachable")


def _town_at(database: Database, session: Session, alarm: dict) -> int | None:
    city_id = session.scalar(select(City.id).order_by(City.id).limit(1))
    if city_id is None:
        return None
    try:
        return city_geo(database, session).locate(city_id, float(alarm["lat"]),
                                                 float(alarm["lon"])).town_id
    except (ValidationError, TypeError, ValueError):  # outside the city: kept, without a town
        return None


# -- sensors ---------------------------------------------------------------------------------

def sensor_info(session: Session, sensor_id: int) -> SensorInfo:
    """A sensor's identity, thresholds and last reading (for the trend plot's title and lines)."""
    row = session.execute(
        select(Sensor.id, Sensor.code, Sensor.name, Sensor.kind, Sensor.unit,
               Sensor.thresholds_json, Sensor.lat, Sensor.lon, Town.name, Sensor.last_value,
               Sensor.last_at)
        .outerjoin(Town, Town.id == Sensor.town_id).where(Sensor.id == sensor_id)).first()
    if row is None:
        raise NotFound(f"传感器 {sensor_id} 不存在", code="not_found", entity=Entity.SENSOR.value,
                       id=sensor_id)
    thresholds = parse_thresholds(row.thresholds_json) or {}  # lowest first
    return SensorInfo(row.id, row.code, row.name, row.kind, row.unit, thresholds, row.lat,
                      row.lon, row[8], row.last_value, row.last_at)


# Epoch seconds computed by the database, so no datetime object is built per row. SQLite keeps
# "YYYY-MM-DD HH:MM:SS.ffffff" (UTC): whole seconds by strftime plus the fraction as written
# (strftime itself works in milliseconds and would round .9996 up into the next second).
_SERIES_SQL = {
    "sqlite": ("SELECT CAST(strftime('%s', substr(at, 1, 19)) AS INTEGER) "
               "+ CAST(substr(at, 20) AS REAL), value "
               "FROM sensor_reading WHERE sensor_id = ? AND at >= ?{until} ORDER BY at"),
    # date_part: float8 at once (EXTRACT goes through numeric); the cursor reads binary.
    "postgresql": ("SELECT date_part('epoch', at), value FROM sensor_reading "
                   "WHERE sensor_id = %s AND at >= %s{until} ORDER BY at"),
}


def sensor_series(session: Session, sensor_id: int, since: dt.datetime,
                  until: dt.datetime | None = None) -> tuple[array.array, array.array]:
    """Readings with ``since <= at <= until`` (no upper bound without ``until``), ascending:
    ``(array('d') epoch seconds UTC, array('d') values)``.

    Two columns on the driver's own cursor (index ``ix_sensor_reading_sensor_at``): no ORM
    objects and no datetime per row, so a day at one reading every 10 s and a million rows
    stay cheap (figures in the issue notes)."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ValidationError("时间必须带时区（UTC）", field=name)
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect not in _SERIES_SQL:
        raise NotImplementedError(dialect)
    params: list[Any] = [sensor_id, _bind_time(dialect, since)]
    until_sql = ""
    if until is not None:
        until_sql = " AND at <= ?" if dialect == "sqlite" else " AND at <= %s"
        params.append(_bind_time(dialect, until))
    sql = _SERIES_SQL[dialect].format(until=until_sql)
    raw = connection.connection.driver_connection
    cursor = raw.cursor(binary=True) if dialect == "postgresql" else raw.cursor()
    try:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    times = array.array("d", [r[0] for r in rows])
    values = array.array("d", [r[1] for r in rows])
    return times, values


def _bind_time(dialect: str, value: dt.datetime) -> Any:
    value = value.astimezone(dt.UTC)
    if dialect == "sqlite":  # the text UTCDateTime stores, so the index compares like with like
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value


__all__ = [
    "ACTIVE_LIMIT", "DAMPING_WINDOW", "DRAFT", "HANDLERS", "SEVERITIES", "SOURCES", "STATES",
    "AlertRow", "CaseDraft", "SensorInfo", "acknowledge", "acknowledge_many", "active_alerts", "alert_rows",
    "alerts_for_case", "case_draft", "clear", "clear_needs_reason", "clear_reason_required",
    "cleared_alerts", "link_case", "raise_alert", "raise_alerts", "sensor_info", "sensor_series",
    "sensor_severity_now", "suggest_class", "to_case",
]
