"""The detail offers only the steps the signed-in person may take on *this* case, scope
included (db.cases.workflow.steps_allowed, read with the detail): a department handler is
never offered 处置反馈 on another department's case, to type the feedback and lose it to the
refusal."""
from __future__ import annotations

from sqlalchemy import select

from db.auth.roles import Role
from db.cases import workflow as wf
from db.cases.workflow import State, Step
from db.core.errors import PermissionDenied
from db.models import Department
from desktop.core.errors import word
from tests.desktop.cases.test_case_detail import _panel, _show
from tests.helpers import any_class_id, report


def _departments(env) -> tuple[int, int]:
    with env.database.read() as s:
        own, other = s.scalars(select(Department.id).order_by(Department.id).limit(2)).all()
    return own, other  # the test department handler works for the first (tests/conftest.py)


def _handling(env, department_id: int) -> wf.StepResult:
    db, duty = env.database, env.users[Role.DUTY_OFFICER]
    r = report(env)
    r = wf.accept(db, duty, r.case_id, r.version, class_id=any_class_id(env))
    r = wf.open_case(db, duty, r.case_id, r.version)
    return wf.dispatch(db, env.users[Role.DISPATCHER], r.case_id, r.version,
                       department_id=department_id)


def test_no_feedback_button_on_another_departments_case(qtbot, env, ctx_factory):
    own, other = _departments(env)
    theirs = _handling(env, other)
    mine = _handling(env, own)
    panel = _panel(qtbot, ctx_factory(env, Role.DEPARTMENT_HANDLER))

    _show(qtbot, panel, mine.case_id)  # its own department's case: the handler's three steps
    assert panel.visible_steps() == [Step.RETURN, Step.FEEDBACK, Step.REQUEST_EXTENSION]
    assert panel.step_buttons[Step.FEEDBACK].isVisibleTo(panel)

    panel.show_case(theirs.case_id)  # another department's: nothing to act with, and why
    qtbot.waitUntil(lambda: panel.message_kind == "error", timeout=10_000)
    assert panel.detail is None
    assert panel.visible_steps() == []
    assert Step.FEEDBACK not in panel.step_buttons
    assert not any(b.isVisibleTo(panel) for b in panel._all_step_buttons.values())
    worded = word(PermissionDenied("", code="case_out_of_scope", role=Role.DEPARTMENT_HANDLER.value))
    assert panel.message_label.text() == worded  # worded by its code, not the raw refusal
    panel.open_step(Step.FEEDBACK)  # a shortcut or a stray call: no dialog, nothing typed
    assert panel.current_dialog is None


def test_the_buttons_go_when_the_case_leaves_the_handlers_department(qtbot, env, ctx_factory):
    """On screen while it was theirs; returned and dispatched to another department by the
    desk meanwhile: the reload takes the feedback button away before anyone types."""
    own, other = _departments(env)
    r = _handling(env, own)
    panel = _panel(qtbot, ctx_factory(env, Role.DEPARTMENT_HANDLER))
    _show(qtbot, panel, r.case_id)
    assert Step.FEEDBACK in panel.visible_steps()

    db = env.database
    r = wf.return_case(db, env.users[Role.SHIFT_LEADER], r.case_id, r.version, opinion="派错部门")
    r = wf.dispatch(db, env.users[Role.DISPATCHER], r.case_id, r.version, department_id=other)
    assert r.state == State.HANDLING
    panel.reload()
    qtbot.waitUntil(lambda: panel.message_kind == "error", timeout=10_000)
    assert panel.visible_steps() == [] and panel.detail is None
