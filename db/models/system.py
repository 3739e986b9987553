"""The working calendar, settings, the change log behind the change feed and scheduled jobs."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, BigId, UTCDateTime, utcnow


class CalendarDay(Base):
    """One day of the official calendar. Days absent from the table are estimated (Mon-Fri)."""

    __tablename__ = "calendar_day"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column()
    kind: Mapped[str] = mapped_column(String(10))  # workday / weekend / holiday / makeup
    name: Mapped[str] = mapped_column(String(40), default="")  # e.g. Spring Festival
    source: Mapped[str] = mapped_column(String(30), default="chinese-calendar")


class AppSetting(Base):
    """Shared settings every workstation reads (office hours, …), as JSON text."""

    __tablename__ = "app_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ChangeLog(Base):
    """What changed, in commit order: ``seq`` is the cursor every client follows.

    Rows carry ids only; clients read the rows they care about afterwards.
    """

    __tablename__ = "change_log"
    # AUTOINCREMENT on SQLite: a seq is never reused after pruning, or a follower would skip.
    __table_args__ = (Index("ix_change_log_at", "at"), {"sqlite_autoincrement": True})

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    entity: Mapped[str] = mapped_column(String(30))  # case / alert / staff_position / … / *
    entity_id: Mapped[int | None] = mapped_column(BigId)
    op: Mapped[str] = mapped_column(String(10))  # insert / update / delete / reload


class JobState(Base):
    """The last run of one scheduled job (:mod:`db.core.jobs`), shared by every workstation.

    A job is due at ``last_finished_at`` (or ``last_started_at`` when the run never finished,
    e.g. the workstation died) plus its interval. ``last_started_at`` after ``last_finished_at``
    means a run is in progress or was cut short.
    """

    __tablename__ = "job_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    last_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(10))  # ok / failed
    last_error: Mapped[str | None] = mapped_column(Text)
    run_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RequestLog(Base):
    """One write a client asked for, by the request id the client made (:mod:`db.core.requests`).

    The row is inserted first thing in the write's own transaction and filled with the write's
    result before it commits, so it exists exactly when the write does: a client that lost the
    link during COMMIT asks by id and learns "done" (with the first result) or "not done", and
    a retry with the same id returns the first result instead of writing twice. Rows older than
    the city's retention (setting ``request_retention_days``) are pruned by a job."""

    __tablename__ = "request_log"
    __table_args__ = (Index("ix_request_log_at", "at"),)

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    operation: Mapped[str] = mapped_column(String(60))  # e.g. case.accept, alert.clear
    actor_id: Mapped[int | None] = mapped_column(Integer)  # None for a gateway's alarm
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    result_json: Mapped[str | None] = mapped_column(Text)  # NULL only inside its transaction


class CallerTimeAllowed(Base):
    """Present (one row) on a database that takes event times from its callers: a test
    database. Read-only to the application role (:data:`db.admin.roles.READ_ONLY_TABLES`), so
    only the owner or a superuser can add it; see :mod:`db.core.dbclock`."""

    __tablename__ = "caller_time_allowed"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(String(40))  # e.g. "tests"
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
