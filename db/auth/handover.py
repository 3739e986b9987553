"""Shift handover (交接班): the outgoing officer sees what they leave open, the incoming officer
signs in at the same desk, and the audit log keeps one ``auth.handover`` row naming both."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import func, select

from db.auth.accounts import Account, authenticate
from db.auth.signin import clean_name
from db.cases.deadline import RUNNING_STATES
from db.cases.workflow import FINAL_STATES
from db.core.audit import audit
from db.core.dbclock import event_time, server_now
from db.core.engine import Database
from db.core.errors import NotFound, ValidationError
from db.core.text import MAX_SHORT_TEXT, clean_text
from db.core.timecheck import check_time
from db.models import Alert, Case, UserAccount

_FINAL = [s.value for s in FINAL_STATES]
_RUNNING = [s.value for s in RUNNING_STATES]


@dataclass(frozen=True)
class ShiftSummary:
    """What an officer leaves open at the end of a shift (plain values)."""

    assigned_open: int  # open cases assigned to them
    assigned_overdue: int  # of those, past their deadline with the clock running
    reported_open: int  # open cases they registered
    active_alerts: int  # alerts nobody has acknowledged yet (the whole city's)


def shift_summary(database: Database, user_id: int, now: dt.datetime | None = None) -> ShiftSummary:
    with database.read() as session:
        # A read: the caller's moment is allowed; by default the database's clock.
        at = check_time(now) if now is not None else server_now(session)

        def count(*where) -> int:
            return session.scalar(select(func.count()).select_from(Case).where(*where)) or 0

        open_ = Case.state.not_in(_FINAL)
        return ShiftSummary(
            assigned_open=count(Case.assignee_user_id == user_id, open_),
            assigned_overdue=count(Case.assignee_user_id == user_id, Case.state.in_(_RUNNING),
                                   Case.deadline_at < at),
            reported_open=count(Case.created_by_id == user_id, open_),
            active_alerts=session.scalar(select(func.count()).select_from(Alert)
                                         .where(Alert.state == "active")) or 0,
        )


def hand_over(database: Database, outgoing_id: int, username: str, password: str, *,
              workstation: str = "", note: str = "", summary: ShiftSummary | None = None,
              outgoing_present: bool = True, now: dt.datetime | None = None) -> Account:
    """Sign ``username`` in at the desk of ``outgoing_id`` and record the handover.

    The incoming officer passes the same gate as any sign-in (:func:`authenticate`: delay,
    lockout, the same answer for an unknown account). ``outgoing_present`` is false when the
    desk was locked and the next officer took over without the outgoing one confirming; the
    audit row says so. ``note`` is the outgoing officer's handover note (交接说明)."""
    note = clean_text(note, "交接说明", limit=MAX_SHORT_TEXT)
    incoming_name = clean_name(username, "账号")
    with database.read() as session:
        outgoing = session.get(UserAccount, outgoing_id)
        if outgoing is None:
            raise NotFound(f"账号 {outgoing_id} 不存在", code="unknown_account", id=outgoing_id)
        out_name, out_username = outgoing.display_name, outgoing.username
    if incoming_name == out_username:
        raise ValidationError("交班人与接班人不能是同一账号", code="handover_same_account")
    account = authenticate(database, incoming_name, password, workstation=workstation,
                           purpose="handover", now=now)
    with database.write() as session:
        at = event_time(session, now)  # the database's clock (a caller's: tests only)
        incoming = session.get(UserAccount, account.id)
        audit(session, incoming, "auth.handover", "user_account", account.id, {
            "from_id": outgoing_id, "from_username": out_username, "from_name": out_name,
            "to_id": account.id, "to_username": account.username, "to_name": account.display_name,
            "workstation": clean_name(workstation, "工作站"), "note": note,
            "outgoing_present": bool(outgoing_present),
            "summary": asdict(summary) if summary is not None else None,
        }, at=at)
    return account


__all__ = ["ShiftSummary", "hand_over", "shift_summary"]
