"""Departments, staff and the user accounts that sign in."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, BigId, UTCDateTime, utcnow


class Department(Base):
    """A city-level or town-level department that handles dispatched cases."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))  # catalogue key: sanitation, municipal, …
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("town.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    phone: Mapped[str | None] = mapped_column(String(30))


class Staff(Base):
    """A person in the field or the control room."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # 工号
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(20))  # 公务员 / 事业编 / 协管员 …
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("town.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    department: Mapped[Department | None] = relationship()


class UserAccount(Base):
    """A sign-in account. One role per account; the role decides every allowed workflow step."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(24))  # db.auth.roles.Role value
    password_hash: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A one-time password (the administrator's first): the next sign-in must choose a new one
    # (db.auth.accounts.change_password clears it).
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Made by the demo builder (db.demo.accounts), with the published demo password. Any other
    # account is a real one, and a database holding a real account is no demo: nobody is
    # signed in by itself there (db.demo.build.demo_marker).
    demo: Mapped[bool] = mapped_column(default=False, server_default=false())


class SignInFailure(Base):
    """Failed sign-ins in a row, for one account name (``kind='account'``, the name as typed,
    known or not) or one workstation (``kind='workstation'``): the count behind the growing
    delay and the lockout (:mod:`db.auth.signin`). The audit log is append-only, so the count
    lives here and the log gets one row per run of failures, not one per failure."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_sign_in_failure_kind_key"),
        CheckConstraint("kind IN ('account','workstation')", name="kind"),
        CheckConstraint("failures >= 0 AND refused >= 0", name="counts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    key: Mapped[str] = mapped_column(String(80))
    failures: Mapped[int] = mapped_column(Integer, default=0)  # checked attempts that failed
    refused: Mapped[int] = mapped_column(Integer, default=0)  # refused unchecked: waiting, locked
    first_failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # the delay runs from here
    locked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    workstation: Mapped[str | None] = mapped_column(String(80))  # of the latest attempt


class StaffPosition(Base):
    """Last known position of a person (one row each, overwritten)."""

    __tablename__ = "staff_position"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    on_duty: Mapped[bool] = mapped_column(default=True)


class StaffTrack(Base):
    """Position history (the track), append-only."""

    __tablename__ = "staff_track"
    __table_args__ = (Index("ix_staff_track_staff_at", "staff_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
