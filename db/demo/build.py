"""Deterministic demo data: a working Dongguan with staff, grids, devices and months of cases.

:func:`build_demo` fills a database so the control room looks like an ordinary day in Dongguan:
36 towns with their 609 villages placed on the map, a responsibility grid per village plus one per
town centre, ~4,000 city-management staff, the fixed demo sign-in accounts (:data:`DEMO_ACCOUNTS`),
~300 cameras, ~200 sensors with a day of quiet readings, black spots, weekly inspections and
(by default) 100,000 cases whose history walks the closed loop of :mod:`db.cases.workflow`.

Determinism: the same ``seed`` and ``now`` give the same rows. Every random draw comes from a
``random.Random`` seeded from ``seed`` (one per phase, so changing one phase leaves the others
alone), every query is ordered, and no set is ever iterated. The only exception is the argon2 hash
of the demo password, whose salt is random by design.

Speed: cases and their history are built as plain dicts and inserted with executemany in chunks,
with ids assigned here; no ORM object is created per case.

This module refuses a database holding real work (and, on PostgreSQL, a connection that does
not own the schema: :class:`DemoNeedsOwner`), wipes the previous demo, runs the phases in order
and marks the database as demo data. The phases live beside it: :mod:`db.demo.world` (the
in-memory city and shared helpers), :mod:`db.demo.places`, :mod:`db.demo.staff`,
:mod:`db.demo.accounts`, :mod:`db.demo.devices`, :mod:`db.demo.situation`,
:mod:`db.demo.casework` with :mod:`db.demo.case_steps`, and :mod:`db.demo.inspections`; the words
they write are in :mod:`db.demo.vocabulary`.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db.admin.roles import current_role, schema_owner
from db.auth.roles import Role
from db.auth.security import verify_password
from db.cases.guards import delete_all_history
from db.core import feed, pii
from db.core.audit import audit
from db.core.dbclock import allow_caller_time_in
from db.core.engine import Database
from db.core.entities import Entity
from db.core.errors import CityOpsError, PhoneKeyProblem
from db.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, _build_accounts
from db.demo.casework import _build_cases, _CaseMaker
from db.demo.devices import _build_devices
from db.demo.inspections import _build_spots_and_inspections
from db.demo.places import _build_places
from db.demo.staff import _build_people
from db.demo.world import UTC, _load_world, _rng, _World
from db.models import (
    Alert,
    AppSetting,
    AuditLog,
    BlackSpot,
    Camera,
    Case,
    CaseHistory,
    ChangeLog,
    Department,
    Grid,
    GridMember,
    Inspection,
    InspectionFinding,
    Sensor,
    SensorReading,
    Staff,
    StaffPosition,
    StaffTrack,
    UserAccount,
    utcnow,
)
from db.reference.city import ADMIN_USERNAME, ensure_reference_data

DEMO_SETTING = "demo"  # app_setting key marking a database as demo data (safe to rebuild)
#: How PostgreSQL refuses the demo marker or a demo account to a role that does not own the
#: schema (migration 0012): the start of its message.
DEMO_MARK_REFUSED = "demo_mark_refused"
INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL's SQLSTATE for "permission denied", "must be owner"


def demo_marker(session: Session) -> dict | None:
    """The demo marker when this database is in demo mode, else None.

    Demo mode (nobody needs a password, the demo banner, the simulator) needs both: the marker
    this builder sets, and no real account. A *real* account is any account without the
    ``demo`` flag, which only this builder sets (:func:`db.demo.accounts._build_accounts`, and
    the administrator when its password is the published demo password). Deactivated ones
    count too: a database that gained a real account stops being a demo for good, even if the
    account is switched off later (it may have entered real work). A forced rebuild over a
    real database therefore asks for a password: its real administrator is still there.

    On PostgreSQL both halves are the owner's: the database refuses the marker, a demo flag set
    on an account, and deleting a real account while the marker is there, to anyone but the
    schema's owner or a superuser (migration 0012), so a workstation's application role cannot
    turn a control room into a demo. SQLite has no roles: whoever holds the file holds it all.
    """
    row = session.get(AppSetting, DEMO_SETTING)
    if row is None:
        return None
    if session.scalar(select(UserAccount.id).where(UserAccount.demo.is_(False)).limit(1)) is not None:
        return None
    try:
        value = json.loads(row.value_json)
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {}


def _mark_demo_administrator(session: Session) -> None:
    """The administrator is a demo account when its password is the published demo password
    (ensure_reference_data made it so above); an administrator that was there before keeps
    its own password and stays a real account."""
    admin = session.scalar(select(UserAccount).where(UserAccount.username == ADMIN_USERNAME))
    if admin is not None and not admin.demo and verify_password(admin.password_hash, DEMO_PASSWORD):
        admin.demo = True


class DemoRefused(CityOpsError):
    """The database holds real work; building demo data would destroy it."""

    code = "demo_refused"


class DemoNeedsOwner(DemoRefused):
    """PostgreSQL, connected as the application role: only the schema's owner (or a superuser)
    may mark a database as demo and make demo accounts (migration 0012), or a workstation's
    account could switch off every password. Run the builder with the owner's URL."""

    code = "demo_needs_owner"

    def __init__(self, role: str, owner: str | None) -> None:
        who = owner or "所有者"
        super().__init__(
            f"数据库账号 {role} 不是表结构所有者：只有所有者（或超级用户）能生成演示数据，"
            f"请用所有者 {who} 的地址运行 cityops demo --db postgresql://{who}@<主机>/<数据库>"
            f" / The database account {role} does not own the schema: only the owner "
            f"({owner or 'see cityops db setup-roles'}) or a superuser may build demo data. "
            "Run cityops demo --db with the owner's URL.", role=role, owner=owner)


def _require_owner(database: Database) -> None:
    """Refuse (:class:`DemoNeedsOwner`) before touching anything when this connection may not
    write the demo marker and demo accounts (PostgreSQL's own rule, asked of the database:
    ``may_mark_demo``, migration 0012). SQLite has no roles: whoever holds the file may."""
    if not database.is_postgres:
        return
    with database.engine.connect() as conn:
        may = conn.execute(text(
            "SELECT may_mark_demo(CAST('app_setting' AS regclass)) "
            "AND may_mark_demo(CAST('user_account' AS regclass))")).scalar_one()
        if not may:
            raise _needs_owner(conn)


def _needs_owner(conn) -> DemoNeedsOwner:
    return DemoNeedsOwner(current_role(conn), schema_owner(conn))


@dataclass(frozen=True)
class DemoStats:
    cases: int
    history_rows: int
    staff: int
    grids: int
    cameras: int
    sensors: int
    seconds: float


def build_demo(database: Database, *, cases: int = 100_000, seed: int = 1, days: int = 90,
               force: bool = False, now: dt.datetime | None = None,
               progress: Callable[[str], None] | None = None) -> DemoStats:
    """Fill ``database`` with a deterministic demo Dongguan; return what was built.

    Refuses (:class:`DemoRefused`) a database that holds real cases unless ``force``; a previous
    demo is replaced without asking. Everything after the reference data is one transaction.
    On PostgreSQL only the schema's owner (or a superuser) may build (:class:`DemoNeedsOwner`):
    the demo marker and the demo accounts are the owner's to write (migration 0012).
    """
    if cases < 0 or days < 1:
        raise ValueError("cases must be >= 0 and days >= 1")
    if now is None:
        now = utcnow().replace(microsecond=0)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    say = progress or (lambda _message: None)
    started = time.perf_counter()

    _require_owner(database)  # refuse before touching anything
    with database.read() as session:
        _check_refusal(session, force)
    ensure_reference_data(database, admin_password=DEMO_PASSWORD)  # demo: admin/demo
    try:
        world, history_rows, counts = _build(database, now=now, days=days, seed=seed, cases=cases,
                                             force=force, say=say)
    except DBAPIError as exc:
        # PostgreSQL's insufficient_privilege (the demo marker's triggers, the append-only
        # history, the sequences): should the check above have let a role through that the
        # database then refused, the answer is the same.
        if getattr(exc.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        with database.engine.connect() as conn:
            raise _needs_owner(conn) from exc
    database.invalidate()
    stats = DemoStats(cases=cases, history_rows=history_rows, staff=len(world.people),
                      grids=len(world.grids), seconds=round(time.perf_counter() - started, 2),
                      **counts)
    say(f"完成：{cases:,} 件案件，{history_rows:,} 条流转记录，用时 {stats.seconds:.1f} 秒")
    return stats


def _build(database: Database, *, now: dt.datetime, days: int, seed: int, cases: int, force: bool,
           say: Callable[[str], None]) -> tuple[_World, int, dict[str, int]]:
    """Everything after the reference data, in one transaction."""
    with database.write() as session:
        _check_refusal(session, force)  # again, under the write lock
        allow_caller_time_in(session, "demo build")  # it invents a history: its own time line
        if database.is_postgres:  # a big build works in Python between statements
            session.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
        high_water = _high_water(session)
        say("清除旧数据…")
        _wipe(session)
        world = _load_world(session, now=now, days=days, seed=seed, high_water=high_water)
        say("村居、网格与人员…")
        _build_places(session, world)
        _build_people(session, world)
        _build_accounts(session, world)
        _mark_demo_administrator(session)
        say("摄像头与传感器…")
        n_cameras, n_sensors = _build_devices(session, world)
        maker = _CaseMaker(world, _rng(seed, "cases"), _phone_cipher(session))
        history_rows = _build_cases(session, maker, cases, say)
        say("黑点与巡检…")
        spots, inspections, findings = _build_spots_and_inspections(session, world, maker.links)
        _finish(session, world, cases=cases, history_rows=history_rows, cameras=n_cameras,
                sensors=n_sensors, spots=spots, inspections=inspections, findings=findings)
    return world, history_rows, {"cameras": n_cameras, "sensors": n_sensors}


def _phone_cipher(session: Session) -> pii.PhoneCipher:
    """The demo database's phone key, made here if it has none (demo only: a control room runs
    ``cityops db make-key``). Called after the wipe: if this machine lacks the recorded key, or
    holds another, no case is left that it sealed, so a new key replaces it."""
    try:
        return pii.ensure_key(session)
    except PhoneKeyProblem as exc:
        if exc.code not in ("phone_key_missing", "phone_key_mismatch"):
            raise
        session.execute(delete(AppSetting.__table__).where(AppSetting.key == pii.SETTING))
        return pii.ensure_key(session)


def _check_refusal(session: Session, force: bool) -> None:
    """Real work = cases in a database that is not a demo, or, in a demo database, case work
    done by any account that is not a demo account (the simulator and demo sign-ins use demo
    accounts; a real officer who signed in to a demo database has done real work)."""
    if force or session.scalar(select(Case.id).limit(1)) is None:
        return
    real = session.get(AppSetting, DEMO_SETTING) is None or session.scalar(
        select(AuditLog.id).join(UserAccount, UserAccount.id == AuditLog.actor_id)
        .where(AuditLog.action.like("case.%"), UserAccount.username.not_in(list(DEMO_ACCOUNTS)))
        .limit(1)) is not None
    if real:
        raise DemoRefused(
            "数据库中已有真实案件数据，生成演示数据会删除全部业务数据；如确需覆盖，请加 --force 参数。"
            " / This database holds real cases; building demo data would delete all operational "
            "data. Pass --force to overwrite it.")


# Tables whose ids the demo assigns itself: ids continue after the highest ever used, so a
# rebuilt demo never reuses a case id (or case number) an open screen may still show.
_ID_TABLES: tuple[type, ...] = (Case, CaseHistory, Staff, Grid, Department, UserAccount, Camera,
                                Sensor, SensorReading, BlackSpot, Inspection, InspectionFinding)


def _high_water(session: Session) -> dict[str, int]:
    """The highest id each table has used, counting rows deleted since (sequences)."""
    bind = session.get_bind().dialect.name
    out: dict[str, int] = {}
    for model in _ID_TABLES:
        name = model.__tablename__
        top = session.scalar(select(func.max(model.id))) or 0
        if bind == "sqlite":
            # Only AUTOINCREMENT tables have a row here (and the table may not exist yet).
            has_seq = session.scalar(text(
                "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'"))
            if has_seq:
                seq = session.scalar(text("SELECT seq FROM sqlite_sequence WHERE name = :n"),
                                     {"n": name})
                top = max(top, seq or 0)
        elif bind == "postgresql":
            seq = session.scalar(text(
                "SELECT pg_sequence_last_value(pg_get_serial_sequence(:t, 'id')::regclass)"),
                {"t": f'"{name}"'})
            top = max(top, seq or 0)
        out[name] = int(top)
    return out


def _wipe(session: Session) -> None:
    """Delete all operational rows in foreign-key order; reference data and audit_log stay."""
    t = {m.__tablename__: m.__table__ for m in (
        InspectionFinding, Inspection, BlackSpot, Alert, SensorReading, Sensor, Camera,
        CaseHistory, Case, StaffTrack, StaffPosition, GridMember, Grid, UserAccount, Staff,
        Department, AppSetting, ChangeLog, AuditLog)}
    users, depts = t["user_account"], t["department"]
    non_admin = select(users.c.id).where(users.c.role != Role.ADMIN.value)
    session.execute(update(t["app_setting"]).where(t["app_setting"].c.updated_by_id.in_(non_admin))
                    .values(updated_by_id=None))
    for name in ("inspection_finding", "inspection", "black_spot", "alert", "sensor_reading",
                 "sensor", "camera"):
        session.execute(delete(t[name]))
    # The timeline is append-only in the database (migration 0006): only its owner may wipe it
    # (a refusal, "must be owner", becomes DemoNeedsOwner in build_demo).
    delete_all_history(session)
    for name in ("case", "staff_track", "staff_position", "grid_member"):
        session.execute(delete(t[name]))
    session.execute(update(t["grid"]).values(leader_id=None))
    session.execute(delete(t["grid"]))
    # The append-only audit log may name an account as actor; such accounts cannot be deleted.
    # They stay, unlinked and inactive (db.demo.accounts revives a demo account of the same name).
    audited = select(t["audit_log"].c.actor_id).where(t["audit_log"].c.actor_id.is_not(None))
    session.execute(delete(users).where(users.c.role != Role.ADMIN.value,
                                        users.c.id.not_in(audited)))
    town_depts = select(depts.c.id).where(depts.c.town_id.is_not(None))
    session.execute(update(users).where(users.c.role != Role.ADMIN.value)
                    .values(staff_id=None, department_id=None, active=False))
    session.execute(update(users).where(users.c.staff_id.is_not(None)).values(staff_id=None))
    session.execute(update(users).where(users.c.department_id.in_(town_depts))
                    .values(department_id=None))
    session.execute(delete(t["staff"]))
    session.execute(delete(depts).where(depts.c.town_id.is_not(None)))
    session.execute(delete(t["change_log"]))  # seq is AUTOINCREMENT: followers never go back


def _finish(session: Session, w: _World, **counts: int) -> None:
    setting = session.get(AppSetting, DEMO_SETTING)
    value = json.dumps({"seed": w.seed, "cases": counts["cases"], "days": w.days,
                        "now": w.now.isoformat(), "built_at": utcnow().isoformat()})
    if setting is None:
        session.add(AppSetting(key=DEMO_SETTING, value_json=value))
    else:
        setting.value_json, setting.updated_at, setting.updated_by_id = value, utcnow(), None
    # One audit row for the whole build, not one per case: the demo is invented history, not
    # work anybody did in this system, and 100,000 audit rows would bury the real ones.
    audit(session, w.admin, "demo.build", "demo", None,
          {"seed": w.seed, "days": w.days, "now": w.now.isoformat(), "staff": len(w.people),
           "grids": len(w.grids), **counts})
    feed.publish(session, Entity.ALL, [None], op=feed.RELOAD)
    if session.get_bind().dialect.name == "postgresql":
        # Ids were set here, so the sequences never moved: bring them up to the rows.
        for model in _ID_TABLES:
            name = f'"{model.__tablename__}"'
            session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {name}), 1), "
                f"(SELECT max(id) FROM {name}) IS NOT NULL)"))


__all__ = ["DEMO_ACCOUNTS", "DEMO_MARK_REFUSED", "DEMO_PASSWORD", "DemoNeedsOwner", "DemoRefused", "DemoStats",
           "build_demo", "demo_marker"]
