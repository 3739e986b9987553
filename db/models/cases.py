"""Case classes, cases, their history and the append-only audit log."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, BigId, UTCDateTime, utcnow

# The case states as the database checks them; db.cases.workflow.State is the source and a test
# holds the two together (db.models cannot import db.cases: the workflow imports the models).
CASE_STATES = ("pending_accept", "pending_open", "pending_dispatch", "handling",
               "extension_pending", "parked", "pending_check", "pending_close", "closed", "void")
_STATES = ",".join(f"'{s}'" for s in CASE_STATES)


class CaseClass(Base):
    """A minor class (小类) of 部件 or 事件 with its standards and time limit."""

    __tablename__ = "case_class"
    __table_args__ = (
        UniqueConstraint("kind", "major_code", "minor_code", name="uq_case_class_kind_codes"),
        CheckConstraint("limit_unit IN ('work_hours','work_days','minutes')", name="limit_unit"),
        CheckConstraint("kind IN ('component','event')", name="kind"),
        CheckConstraint("limit_amount > 0", name="limit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)  # e.g. S-01-01
    kind: Mapped[str] = mapped_column(String(10))  # component 部件 / event 事件
    major_code: Mapped[str] = mapped_column(String(2))
    major_name: Mapped[str] = mapped_column(String(20))
    minor_code: Mapped[str] = mapped_column(String(2))
    minor_name: Mapped[str] = mapped_column(String(30))
    opening_standard: Mapped[str] = mapped_column(Text)
    closing_standard: Mapped[str] = mapped_column(Text)
    limit_amount: Mapped[int] = mapped_column(Integer)
    limit_unit: Mapped[str] = mapped_column(String(10))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    weight: Mapped[float] = mapped_column(Float, default=1.0)  # demo/simulator frequency
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def is_emergency(self) -> bool:
        return self.limit_unit == "minutes"


class Case(Base):
    """One problem going round the closed loop. ``version`` guards against lost updates."""

    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_state_deadline", "state", "deadline_at"),
        Index("ix_case_town_state", "town_id", "state"),
        Index("ix_case_reported_at", "reported_at"),
        Index("ix_case_assignee_user_state", "assignee_user_id", "state"),
        Index("ix_case_reporter_phone_hash", "reporter_phone_hash"),
        CheckConstraint("version >= 1", name="version_positive"),
        # PostgreSQL only (migration 0006): SQLite checks the states with triggers, because
        # adding a CHECK there means copying the table. The values are db.cases.guards.STATES.
        CheckConstraint(f"state IN ({_STATES})", name="state"),
        {"sqlite_autoincrement": True},  # ids are never reused, even after a demo rebuild
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # 案件编号
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"))
    source: Mapped[str] = mapped_column(String(16))  # db.cases.workflow.Source value
    state: Mapped[str] = mapped_column(String(20))  # db.cases.workflow.State value
    urgency: Mapped[str] = mapped_column(String(10), default="normal")  # normal/urgent/emergency
    class_id: Mapped[int | None] = mapped_column(ForeignKey("case_class.id"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(200), default="")
    town_id: Mapped[int | None] = mapped_column(ForeignKey("town.id"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), index=True)
    title: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    reporter_name: Mapped[str | None] = mapped_column(String(40))
    # Sealed by db.core.pii (migration 0009): AES-GCM ciphertext, and a keyed hash of the
    # digits for the search. No column holds the number; screens show it masked.
    reporter_phone_enc: Mapped[str | None] = mapped_column(String(120))
    reporter_phone_hash: Mapped[str | None] = mapped_column(String(64))
    media_json: Mapped[str] = mapped_column(Text, default="[]")  # list of media references
    external_ref: Mapped[str | None] = mapped_column(String(60))  # 12345 / 110 work-order number

    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deadline_estimated: Mapped[bool] = mapped_column(default=False)
    handled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    handled_on_time: Mapped[bool | None] = mapped_column()
    resolution: Mapped[str | None] = mapped_column(String(20))  # closed / on_spot / void

    assignee_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id"), index=True
    )
    assignee_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    pending_extension_json: Mapped[str | None] = mapped_column(Text)
    # While parked (挂账): the time the deadline clock had left when it stopped, in the limit's
    # own time (working seconds for work_hours/work_days, calendar seconds for minutes);
    # negative when parked overdue. Un-parking resumes it (db.cases.workflow.unpark).
    paused_left_seconds: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    case_class: Mapped[CaseClass | None] = relationship()
    history: Mapped[list[CaseHistory]] = relationship(
        back_populates="case", order_by="CaseHistory.id"
    )


class CaseHistory(Base):
    """One transition of one case: who, when, from, to, opinion."""

    __tablename__ = "case_history"
    __table_args__ = (Index("ix_case_history_case_id_id", "case_id", "id"),
                      # One row per version the case reached (migration 0006).
                      Index("uq_case_history_case_id_version", "case_id", "version",
                            unique=True),
                      CheckConstraint(f"to_state IN ({_STATES})", name="to_state"),
                      CheckConstraint(f"from_state IS NULL OR from_state IN ({_STATES})",
                                      name="from_state"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    step: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_name: Mapped[str] = mapped_column(String(40))  # kept as written: names change
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    opinion: Mapped[str] = mapped_column(Text, default="")
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    version: Mapped[int] = mapped_column(Integer)  # the case version this step produced

    case: Mapped[Case] = relationship(back_populates="history")


class CaseTransition(Base):
    """One allowed change of a case's state, as the database checks it (migration 0006): the
    rows of :data:`db.cases.workflow.TRANSITIONS` without the roles (the database cannot know
    who is acting). Written by migrations only."""

    __tablename__ = "case_transition"

    step: Mapped[str] = mapped_column(String(24), primary_key=True)
    from_state: Mapped[str] = mapped_column(String(20), primary_key=True)
    to_state: Mapped[str] = mapped_column(String(20))


class AuditLog(Base):
    """Append-only record of every write. Triggers (see the migration) refuse UPDATE/DELETE;
    each row is chained to the one before by hash (db.core.audit_chain)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_name: Mapped[str] = mapped_column(String(40), default="system")
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int | None] = mapped_column(BigId)
    detail_json: Mapped[str] = mapped_column(Text, default="{}")
    # The hash chain (migration 0007, db.core.audit_chain): set by the database's trigger on
    # insert, whatever the inserter sends.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))
