"""The fixed demo sign-in accounts (:data:`DEMO_ACCOUNTS`, all with :data:`DEMO_PASSWORD`): duty
officers, dispatchers, shift leaders, a leader, twenty inspectors and twenty field officers linked
to staff of the first twenty towns, and one handler per city department. Accounts kept from an
earlier demo (the audit log names them) are revived rather than recreated. :class:`_Cast` then
says which of these accounts plausibly took a case step, by shift and by town.
"""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from db.auth.roles import Role
from db.auth.security import hash_password
from db.demo.world import _Actor, _insert, _local, _name, _Person, _rng, _Town, _World
from db.models import UserAccount
from db.reference.catalogue import DEPARTMENTS

DEMO_PASSWORD = "demo"


LINKED_ACCOUNTS = 20  # inspector1..20 / field1..20, one per town in town order


def _demo_account_plan() -> list[tuple[str, Role]]:
    plan = [(f"duty{i}", Role.DUTY_OFFICER) for i in range(1, 7)]
    plan += [(f"dispatch{i}", Role.DISPATCHER) for i in range(1, 4)]
    plan += [(f"shift{i}", Role.SHIFT_LEADER) for i in range(1, 3)]
    plan += [("chief1", Role.LEADER)]
    plan += [(f"inspector{i}", Role.INSPECTOR) for i in range(1, LINKED_ACCOUNTS + 1)]
    plan += [(f"field{i}", Role.FIELD_OFFICER) for i in range(1, LINKED_ACCOUNTS + 1)]
    plan += [(f"dept_{kind}", Role.DEPARTMENT_HANDLER) for kind in DEPARTMENTS]
    return plan


#: The fixed demo sign-in accounts, username -> role value; all use :data:`DEMO_PASSWORD`.
DEMO_ACCOUNTS: dict[str, str] = {username: role.value for username, role in _demo_account_plan()}


class _Cast:
    """Which demo account plausibly took a step, by shift and by town."""

    def __init__(self, actors: dict[str, _Actor]) -> None:
        self.duty = [actors[f"duty{i}"] for i in range(1, 7)]
        self.dispatchers = [actors[f"dispatch{i}"] for i in range(1, 4)]
        self.shift = [actors["shift1"], actors["shift2"]]
        self.chief = actors["chief1"]
        self.inspectors = [actors[f"inspector{i}"] for i in range(1, LINKED_ACCOUNTS + 1)]
        self.fields = [actors[f"field{i}"] for i in range(1, LINKED_ACCOUNTS + 1)]
        self.depts = {kind: actors[f"dept_{kind}"] for kind in DEPARTMENTS}

    @staticmethod
    def _shift_of(at: dt.datetime) -> int:
        hour = _local(at).hour
        return 0 if 8 <= hour < 16 else 1 if hour >= 16 else 2

    def duty_at(self, rng: random.Random, at: dt.datetime) -> _Actor:
        return self.duty[self._shift_of(at) * 2 + rng.randrange(2)]

    def dispatcher_at(self, at: dt.datetime) -> _Actor:
        return self.dispatchers[self._shift_of(at)]

    def leader_at(self, at: dt.datetime) -> _Actor:
        return self.shift[0] if 8 <= _local(at).hour < 20 else self.shift[1]

    def inspector(self, town: _Town) -> _Actor:
        # Inspectors (监督员) are city staff: towns beyond the twentieth share them.
        return self.inspectors[town.index % len(self.inspectors)]

    def handler(self, town: _Town | None, kind: str) -> _Actor:
        """Who reports back for a department: the town's field officer, or the city
        department's handler for city-level work and towns without a demo field account."""
        if town is not None and town.index < len(self.fields):
            return self.fields[town.index]
        return self.depts.get(kind) or self.depts["enforcement"]


def _build_accounts(session: Session, w: _World) -> None:
    """The fixed demo accounts; kept accounts of the same name (audit-logged) are revived."""
    rng = _rng(w.seed, "accounts")
    # One argon2 hash for every account: hashing costs ~0.1 s by design, so hashing 68 times
    # would add seconds to every build for no gain (they all share DEMO_PASSWORD anyway).
    password_hash = hash_password(DEMO_PASSWORD)
    linked: dict[str, _Person] = {}
    used: set[int] = set()  # membership tests only, never iterated
    for town in w.towns[:LINKED_ACCOUNTS]:
        n = town.index + 1
        field_staff = [p for p in town.staff if p.title == "协管员" and p.grids] or town.staff
        linked[f"field{n}"] = field_staff[0]
        used.add(field_staff[0].id)
        pool = [p for p in town.staff if p.title == "事业编" and p.id not in used] or \
            [p for p in town.staff if p.id not in used]
        linked[f"inspector{n}"] = pool[0]
        used.add(pool[0].id)
    if len(w.towns) < LINKED_ACCOUNTS:  # another city: fill up from the first town
        spare = [p for p in w.people if p.id not in used]
        for n in range(len(w.towns) + 1, LINKED_ACCOUNTS + 1):
            linked[f"field{n}"], linked[f"inspector{n}"] = spare.pop(), spare.pop()

    kept = dict(session.execute(select(UserAccount.username, UserAccount.id)
                                .where(UserAccount.username.in_(list(DEMO_ACCOUNTS)))).all())
    created = w.now - dt.timedelta(days=w.days + 30)
    rows, revive, actors = [], [], {}
    for username, role in _demo_account_plan():
        person = linked.get(username)
        if person is not None:
            name, staff_id, dept_id = person.name, person.id, person.town.depts[person.kind]
        else:
            name, staff_id = _name(rng), None
            dept_id = w.city_depts.get(username[5:]) if role == Role.DEPARTMENT_HANDLER else None
        values = {"username": username, "display_name": name, "role": role.value,
                  "password_hash": password_hash, "staff_id": staff_id,
                  "department_id": dept_id, "active": True, "demo": True}
        if username in kept:
            uid = kept[username]
            revive.append({"uid": uid, **values})
        else:
            uid = w.next_id("user_account")
            rows.append({"id": uid, "created_at": created, "last_login_at": None, **values})
        actors[username] = _Actor(uid, name, staff_id)
    _insert(session, UserAccount.__table__, rows)
    if revive:
        users = UserAccount.__table__
        columns = ("display_name", "role", "password_hash", "staff_id", "department_id", "active",
                   "demo")
        session.execute(update(users).where(users.c.id == bindparam("uid"))
                        .values({c: bindparam(f"new_{c}") for c in columns}),
                        [{"uid": r["uid"], **{f"new_{c}": r[c] for c in columns}} for r in revive])
    w.cast = _Cast(actors)
