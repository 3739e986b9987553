"""Who may touch which case: the one rule, for the workflow steps and the reads alike.

* A **field officer** (处置人员) acts on, and sees, the cases assigned to them (their account,
  or the staff record their account is linked to) and the cases in a grid they work in (as a
  member or as its leader).
* A **department handler** (部门处置员) acts on, and sees, the cases dispatched to their
  department. An account of this role without a department sees and touches nothing: a
  misconfigured account gets least privilege, never the whole city.
* Every other role works for the whole city; *which* steps it may take is the transition
  table's business (:data:`db.cases.workflow.TRANSITIONS`).

A :class:`Scope` is read from the database inside the caller's transaction
(:func:`scope_of`, :func:`actor_scope`), never taken from the caller: the role, department,
staff link and grids are the account's as stored. :meth:`Scope.covers` applies the rule to one
case in Python (the steps check the locked row with it; the simulator picks its actors by it),
:meth:`Scope.clause` is the same rule as SQL (the queue, the search, the detail). The two are
pinned to agree by ``tests/db/auth/test_scope.py``.

The workflow steps refuse a case outside the scope with :class:`~db.core.errors.PermissionDenied`
``case_out_of_scope`` (nothing written); :func:`db.cases.workflow.steps_allowed` gives the
window the steps the person may take on *this* case, scope included.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, union
from sqlalchemy.orm import Session

from db.auth.actors import load_actor
from db.auth.roles import Role
from db.core import validate
from db.core.errors import PermissionDenied
from db.models import Case, Grid, GridMember, UserAccount

#: The roles whose work is limited to some cases; every other role works city-wide.
SCOPED_ROLES = frozenset({Role.FIELD_OFFICER, Role.DEPARTMENT_HANDLER})


@dataclass(frozen=True)
class Scope:
    """The cases one account may see and act on (see the module docstring).

    ``role`` None is :data:`SYSTEM`: a job of the system itself (the simulator's bookkeeping,
    the benchmark, a command-line report), which sees every case but can take no step."""

    actor_id: int | None
    role: Role | None
    department_id: int | None = None
    staff_id: int | None = None
    grid_ids: frozenset[int] = frozenset()

    @property
    def limited(self) -> bool:
        """True when the account sees only some cases."""
        return self.role in SCOPED_ROLES

    def covers(self, case: Any) -> bool:
        """Whether ``case`` (anything with ``assignee_user_id``, ``assignee_staff_id``,
        ``assignee_department_id`` and ``grid_id``) is within this scope."""
        if self.role == Role.FIELD_OFFICER:
            return ((self.actor_id is not None and case.assignee_user_id == self.actor_id)
                    or (self.staff_id is not None and case.assignee_staff_id == self.staff_id)
                    or (case.grid_id is not None and case.grid_id in self.grid_ids))
        if self.role == Role.DEPARTMENT_HANDLER:
            return (self.department_id is not None
                    and case.assignee_department_id == self.department_id)
        return True

    def clause(self) -> ColumnElement[bool] | None:
        """:meth:`covers` as a condition on :class:`~db.models.Case` rows; None when the
        scope is the whole city (nothing to add to the query)."""
        if self.role == Role.FIELD_OFFICER:
            parts = []
            if self.actor_id is not None:
                parts.append(Case.assignee_user_id == self.actor_id)
            if self.staff_id is not None:
                parts.append(Case.assignee_staff_id == self.staff_id)
            if self.grid_ids:
                parts.append(Case.grid_id.in_(sorted(self.grid_ids)))
            return or_(*parts) if parts else false()
        if self.role == Role.DEPARTMENT_HANDLER:
            if self.department_id is None:
                return false()
            return Case.assignee_department_id == self.department_id
        return None

    def check(self, case: Any) -> None:
        """Refuse ``case`` when it lies outside this scope (``case_out_of_scope``)."""
        if not self.covers(case):
            raise PermissionDenied(
                f"案件 {getattr(case, 'number', None) or case.id} 不在您的处置范围内"
                f"（{self.role.label if self.role else ''}只能处理派给本人、本网格或本部门的案件）",
                code="case_out_of_scope", case_id=case.id,
                role=self.role.value if self.role else "")


#: The system's own reads: every case, no step.
SYSTEM = Scope(actor_id=None, role=None)


def scope_of(session: Session, actor: UserAccount) -> Scope:
    """The scope of an account already loaded (by :func:`db.auth.actors.load_actor`) in
    ``session``: its grids are read from the same transaction."""
    role = Role(actor.role)
    grids: frozenset[int] = frozenset()
    if role == Role.FIELD_OFFICER and actor.staff_id is not None:
        grids = frozenset(session.scalars(union(
            select(GridMember.grid_id).where(GridMember.staff_id == actor.staff_id),
            select(Grid.id).where(Grid.leader_id == actor.staff_id))))
    return Scope(actor_id=actor.id, role=role, department_id=actor.department_id,
                 staff_id=actor.staff_id, grid_ids=grids)


Actor = int | Scope


def actor_scope(session: Session, actor: Actor) -> Scope:
    """The scope of ``actor``: an account id (an active account, read in ``session``) or a
    :class:`Scope` already read (passed through, for several reads of one unit of work)."""
    if isinstance(actor, Scope):
        return actor
    actor_id = validate.record_id(actor, "账号")
    return scope_of(session, load_actor(session, actor_id))


__all__ = ["SCOPED_ROLES", "SYSTEM", "Actor", "Scope", "actor_scope", "scope_of"]
