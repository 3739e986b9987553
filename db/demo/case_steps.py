"""One demo case walking the closed loop: :class:`_Sim` mirrors each :mod:`db.cases.workflow` step
on a plain row dict (state, deadline, counters) and appends the history row the workflow would
write, without the ORM; a step at or after the demo's "now" does not happen, so a case cut short
by the present stays open in whatever state it reached.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from db.cases.workflow import REPORT_STEP, TRANSITIONS
from db.demo.world import _Actor, _Class

if TYPE_CHECKING:
    from db.demo.casework import _CaseMaker


_NEXT_STATE = {(t.step.value, t.source.value): t.target.value for t in TRANSITIONS}


class _Sim:
    """One case walking the state machine. Each step mirrors the body of the matching
    :mod:`db.cases.workflow` function, and refuses to happen at or after ``now``: a path cut short by
    the present leaves the case open in whatever state it had reached."""

    __slots__ = ("maker", "row", "history", "last", "cls")

    def __init__(self, maker: _CaseMaker, row: dict[str, Any], cls: _Class) -> None:
        self.maker = maker
        self.row = row
        self.cls = cls
        self.history: list[dict[str, Any]] = []
        self.last = row["reported_at"]

    # -- plumbing -------------------------------------------------------------------------
    def _when(self, at: dt.datetime) -> dt.datetime | None:
        if at <= self.last:
            at = self.last + dt.timedelta(seconds=1)  # history times strictly increase
        return None if at >= self.maker.now else at

    def _record(self, step: str, at: dt.datetime, actor: _Actor, opinion: str,
                data: dict[str, Any] | None) -> dt.datetime:
        row = self.row
        source = row["state"]
        target = _NEXT_STATE.get((step, source))
        if target is None:  # a bug in the paths below, never data: stop the build loudly
            raise AssertionError(f"demo path takes {step} from {source}")
        row["state"] = target
        row["version"] += 1
        row["updated_at"] = self.last = at
        self.history.append({
            "id": self.maker.world.next_id("case_history"), "case_id": row["id"], "step": step,
            "from_state": source, "to_state": target, "actor_id": actor.id,
            "actor_name": actor.name, "at": at, "opinion": opinion,
            "data_json": json.dumps(data, ensure_ascii=False) if data else "{}",
            "version": row["version"]})
        return at

    def _deadline(self, start: dt.datetime) -> None:
        d = self.maker.cal.deadline(start, self.cls.amount, self.cls.unit)
        self.row["deadline_at"], self.row["deadline_estimated"] = d.at, d.estimated

    # -- the steps ------------------------------------------------------------------------
    def report(self, actor: _Actor) -> None:
        row = self.row
        self.history.append({
            "id": self.maker.world.next_id("case_history"), "case_id": row["id"],
            "step": REPORT_STEP, "from_state": None, "to_state": row["state"],
            "actor_id": actor.id, "actor_name": actor.name, "at": row["reported_at"],
            "opinion": "", "data_json": json.dumps({"source": row["source"]}), "version": 1})

    def accept(self, at: dt.datetime, actor: _Actor, opinion: str = "") -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        data = {"class_id": self.row["class_id"], "urgency": self.row["urgency"]}
        return self._record("accept", at, actor, opinion, data)

    def open(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        self.row["opened_at"] = at
        return self._record("open", at, actor, opinion, None)

    def dispatch(self, at: dt.datetime, actor: _Actor, dept_id: int, staff_id: int | None,
                 user_id: int | None, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        row = self.row
        row["assignee_department_id"], row["assignee_staff_id"] = dept_id, staff_id
        row["assignee_user_id"], row["dispatched_at"] = user_id, at
        self._deadline(at)
        data = {"department_id": dept_id, "staff_id": staff_id, "user_id": user_id,
                "deadline_at": row["deadline_at"].isoformat(),
                "estimated": row["deadline_estimated"]}
        return self._record("dispatch", at, actor, opinion, data)

    def return_(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        row = self.row
        previous = row["assignee_department_id"]
        row["assignee_department_id"] = row["assignee_staff_id"] = row["assignee_user_id"] = None
        row["dispatched_at"] = row["deadline_at"] = None
        row["deadline_estimated"] = False
        return self._record("return", at, actor, opinion, {"returned_by_department_id": previous})

    def feedback(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        row = self.row
        row["handled_at"] = at
        row["handled_on_time"] = row["deadline_at"] is not None and at <= row["deadline_at"]
        return self._record("feedback", at, actor, opinion,
                            {"on_time": row["handled_on_time"], "media": []})

    def request_extension(self, at: dt.datetime, actor: _Actor, amount: int, unit: str,
                          opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        self.row["pending_extension_json"] = json.dumps({"amount": amount, "unit": unit})
        return self._record("request_extension", at, actor, opinion,
                            {"amount": amount, "unit": unit})

    def approve_extension(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        row = self.row
        ask = json.loads(row["pending_extension_json"])
        old = row["deadline_at"]
        moved = self.maker.cal.deadline(old, ask["amount"], ask["unit"])
        row["deadline_at"] = moved.at
        row["deadline_estimated"] = row["deadline_estimated"] or moved.estimated
        row["extension_count"] += 1
        row["pending_extension_json"] = None
        return self._record("approve_extension", at, actor, opinion,
                            {"old_deadline_at": old.isoformat(),
                             "deadline_at": moved.at.isoformat(), **ask})

    def park(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        # The clock stops with the time it had left (db.cases.workflow.park).
        left = self.maker.cal.remaining_seconds(at, self.row["deadline_at"], self.cls.unit)
        self.row["paused_left_seconds"] = left
        return self._record("park", at, actor, opinion, {"left_seconds": left, "unit": self.cls.unit})

    def unpark(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        # The clock resumes with the time left at parking (the default rule "resume").
        row = self.row
        left, row["paused_left_seconds"] = row["paused_left_seconds"], None
        if self.cls.unit == "minutes":
            row["deadline_at"], row["deadline_estimated"] = at + dt.timedelta(seconds=left), False
        else:
            resumed = self.maker.cal.add_working_seconds(at, left)
            row["deadline_at"], row["deadline_estimated"] = resumed.at, resumed.estimated
        return self._record("unpark", at, actor, opinion,
                            {"rule": "resume", "left_seconds": left, "unit": self.cls.unit,
                             "deadline_at": row["deadline_at"].isoformat()})

    def verify(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        return self._record("verify", at, actor, opinion, None)

    def rework(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        row = self.row
        row["rework_count"] += 1
        row["handled_at"] = row["closed_at"] = row["handled_on_time"] = row["resolution"] = None
        row["dispatched_at"] = at
        self._deadline(at)
        return self._record("rework", at, actor, opinion,
                            {"deadline_at": row["deadline_at"].isoformat()})

    def close(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        self.row["closed_at"], self.row["resolution"] = at, "closed"
        return self._record("close", at, actor, opinion, None)

    def fix_on_spot(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        row = self.row
        row["handled_at"] = row["closed_at"] = at
        row["resolution"] = "on_spot"
        return self._record("fix_on_spot", at, actor, opinion, {"class_id": row["class_id"]})

    def void(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        self.row["closed_at"], self.row["resolution"] = at, "void"
        return self._record("void", at, actor, opinion, None)
