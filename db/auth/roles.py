"""User roles. Permissions for workflow steps live in :mod:`db.cases.workflow` (which steps a role
may take) and :mod:`db.auth.scope` (on which cases), not in the UI."""
from __future__ import annotations

import enum


class Role(enum.StrEnum):
    DUTY_OFFICER = "duty_officer"        # 值班员/受理员
    DISPATCHER = "dispatcher"            # 派遣员
    SHIFT_LEADER = "shift_leader"        # 值班长
    LEADER = "leader"                    # 领导
    INSPECTOR = "inspector"              # 监督员/网格员
    FIELD_OFFICER = "field_officer"      # 一线处置人员
    DEPARTMENT_HANDLER = "department_handler"  # 专业部门处置员
    ADMIN = "admin"                      # 系统管理员

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.DUTY_OFFICER: "值班员",
    Role.DISPATCHER: "派遣员",
    Role.SHIFT_LEADER: "值班长",
    Role.LEADER: "领导",
    Role.INSPECTOR: "监督员/网格员",
    Role.FIELD_OFFICER: "处置人员",
    Role.DEPARTMENT_HANDLER: "部门处置员",
    Role.ADMIN: "管理员",
}

#: Who may see a reporter's full phone number (to call the citizen back); every reveal is
#: audited (:func:`db.cases.contact.reveal_reporter_phone`). Everyone else sees it masked.
PHONE_REVEALERS: frozenset[Role] = frozenset({Role.DUTY_OFFICER, Role.DISPATCHER,
                                              Role.SHIFT_LEADER, Role.LEADER})
