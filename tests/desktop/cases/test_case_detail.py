"""The case detail: what it shows (plain text only), which step buttons exist for a role, and
how a step runs: success, conflict, database unreachable."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLabel, QPushButton
from sqlalchemy import select

from db.auth.roles import Role
from db.cases import workflow as wf
from db.cases.workflow import State, Step, allowed_steps
from db.core.errors import DatabaseUnavailable
from db.models import Case, CaseClass
from desktop.cases.detail import STEP_SHORTCUTS, CaseDetailPanel
from desktop.cases.step_dialogs import (
    AcceptDialog,
    DispatchDialog,
    ExtensionDialog,
    OpinionDialog,
    dialog_for,
)
from tests.helpers import any_class_id, case_in_state, report, take

HOSTILE = '<b>bold</b><script>alert(1)</script><img src=x onerror="alert(2)"> &amp; 占道'
UNREACHABLE = ("The database is unreachable; nothing was changed. "
               "Try again when the connection is back.")

def _panel(qtbot, ctx) -> CaseDetailPanel:
    panel = CaseDetailPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(700, 900)
    panel.show()
    return panel


def _show(qtbot, panel: CaseDetailPanel, case_id: int) -> None:
    with qtbot.waitSignal(panel.sig_loaded, timeout=10_000,
                          check_params_cb=lambda cid: cid == case_id):
        panel.show_case(case_id)


def _db_case(env, case_id: int) -> Case:
    with env.database.read() as s:
        return s.get(Case, case_id)


@pytest.mark.parametrize(("role", "state", "expected"), [
    (Role.DUTY_OFFICER, State.PENDING_ACCEPT, [Step.ACCEPT, Step.FIX_ON_SPOT, Step.VOID]),
    (Role.DEPARTMENT_HANDLER, State.HANDLING,
     [Step.RETURN, Step.FEEDBACK, Step.REQUEST_EXTENSION]),
    (Role.ADMIN, State.PENDING_ACCEPT, []),
    (Role.SHIFT_LEADER, State.EXTENSION_PENDING, [Step.APPROVE_EXTENSION, Step.REJECT_EXTENSION]),
    (Role.INSPECTOR, State.PENDING_CHECK, [Step.VERIFY, Step.REWORK]),
    (Role.DISPATCHER, State.PENDING_ACCEPT, []),
])
def test_the_role_decides_which_buttons_exist(qtbot, env, ctx_factory, role, state, expected):
    case = case_in_state(env, state)
    panel = _panel(qtbot, ctx_factory(env, role))
    _show(qtbot, panel, case.case_id)
    assert panel.visible_steps() == expected
    shown = [b for b in panel.findChildren(QPushButton) if b.objectName().startswith("step_")
             and b.isVisibleTo(panel)]
    assert sorted(b.objectName() for b in shown) == sorted(f"step_{s.value}" for s in expected)
    assert panel.no_steps_label.isVisibleTo(panel) == (expected == [])
    for step, button in panel.step_buttons.items():
        assert button.isEnabled()
        assert button.shortcut() == QKeySequence(STEP_SHORTCUTS[step])
        assert QKeySequence(STEP_SHORTCUTS[step]).toString(
            QKeySequence.SequenceFormat.NativeText) in button.toolTip()


def test_buttons_follow_the_transition_table_for_every_role(qtbot, sqlite_env, ctx_factory):
    """Every role × state; the scoped roles (db.auth.scope) see no case that was never
    dispatched to them: the test cases are dispatched to the test department handler's
    department and the test field officer (tests.helpers.step_args), the others to no one."""
    cases = {state: case_in_state(sqlite_env, state).case_id for state in State}
    undispatched = {State.PENDING_ACCEPT, State.PENDING_OPEN, State.PENDING_DISPATCH, State.VOID}
    panels = []  # keep every panel referenced: a dropped Qt wrapper must die on the GUI thread
    for role in Role:
        panel = _panel(qtbot, ctx_factory(sqlite_env, role))
        panels.append(panel)
        for state, case_id in cases.items():
            if role in (Role.FIELD_OFFICER, Role.DEPARTMENT_HANDLER) and state in undispatched:
                panel.show_case(case_id)
                qtbot.waitUntil(lambda: panel.message_kind == "error", timeout=10_000)
                assert panel.detail is None and panel.visible_steps() == [], (role, state)
                continue
            _show(qtbot, panel, case_id)
            assert panel.visible_steps() == allowed_steps(role, state), (role, state)


def test_detail_shows_the_case_and_hostile_text_literally(qtbot, env, ctx_factory):
    r = report(env, description=HOSTILE, address="<i>莞城</i>大道 1 号",
               reporter_name="欧阳娜娜", reporter_phone="13912345678",
               media=["photo://<img src=x>.jpg"], urgency="emergency")
    take(env, r, Step.ACCEPT, opinion="<script>alert('op')</script>")
    panel = _panel(qtbot, ctx_factory(env))
    _show(qtbot, panel, r.case_id)

    assert panel.description_label.text() == HOSTILE
    assert panel.description_label.textFormat() == Qt.TextFormat.PlainText
    assert panel.address_label.text() == "<i>莞城</i>大道 1 号"
    assert panel.address_label.textFormat() == Qt.TextFormat.PlainText
    assert panel.reporter_label.text() == "欧*** 139****5678".replace(" ", "  ")
    assert "13912345678" not in panel.reporter_label.text()
    assert [panel.media_list.item(i).text() for i in range(panel.media_list.count())] == \
        ["photo://<img src=x>.jpg"]
    # Every label of the panel is plain text: nothing from the database is ever rendered.
    assert all(lbl.textFormat() == Qt.TextFormat.PlainText
               for lbl in panel.findChildren(QLabel) if "<" in lbl.text())
    history = panel.history_texts()
    assert len(history) == 2  # newest first: accept, then the report
    assert "测试值班员" in history[0] and "<script>alert('op')</script>" in history[0]
    assert panel.number_label.text() == _db_case(env, r.case_id).number
    assert "-" in panel.reported_label.text() and ":" in panel.reported_label.text()


def test_running_a_step_moves_the_case_and_emits(qtbot, env, ctx_factory):
    r = report(env)
    panel = _panel(qtbot, ctx_factory(env))
    _show(qtbot, panel, r.case_id)
    class_id = any_class_id(env)
    with qtbot.waitSignal(panel.sig_case_changed, timeout=10_000) as changed:
        assert panel.run_step(Step.ACCEPT, class_id=class_id, urgency="urgent")
    assert changed.args == [r.case_id]
    case = _db_case(env, r.case_id)
    assert case.state == State.PENDING_OPEN and case.class_id == class_id
    assert case.urgency == "urgent" and case.version == 2
    assert panel.message_kind == "success"
    qtbot.waitUntil(lambda: panel.detail.row.version == 2, timeout=10_000)
    assert panel.visible_steps() == [Step.OPEN, Step.FIX_ON_SPOT, Step.VOID]


def test_dispatch_through_its_dialog(qtbot, env, ctx_factory):
    r = case_in_state(env, State.PENDING_DISPATCH)
    panel = _panel(qtbot, ctx_factory(env))
    _show(qtbot, panel, r.case_id)
    with qtbot.waitSignal(panel.sig_dialog_opened, timeout=10_000) as opened:
        qtbot.mouseClick(panel.step_buttons[Step.DISPATCH], Qt.MouseButton.LeftButton)
    dialog = opened.args[0]
    assert isinstance(dialog, DispatchDialog) and dialog.isVisible()
    # The class's responsible department comes first and is marked.
    with env.database.read() as s:
        responsible = s.scalar(select(CaseClass.department_id).join(
            Case, Case.class_id == CaseClass.id).where(Case.id == r.case_id))
    assert dialog.department_combo.itemData(0) == responsible
    assert dialog.department_combo.itemText(0).startswith("★")
    assert dialog.person_combo.currentData() is None  # no grids in the reference data
    dialog.opinion_edit.setPlainText("请尽快处置")
    with qtbot.waitSignal(panel.sig_case_changed, timeout=10_000):
        dialog.accept()
    case = _db_case(env, r.case_id)
    assert case.state == State.HANDLING and case.assignee_department_id == responsible
    assert case.deadline_at is not None


def test_a_stale_version_shows_who_changed_the_case(qtbot, env, ctx_factory):
    r = report(env)
    panel = _panel(qtbot, ctx_factory(env))
    _show(qtbot, panel, r.case_id)
    # Another workstation's shift leader accepts the case after this officer looked at it.
    wf.accept(env.database, env.users[Role.SHIFT_LEADER], r.case_id, r.version,
              class_id=any_class_id(env))
    with qtbot.waitSignal(panel.sig_step_finished, timeout=10_000) as finished:
        panel.run_step(Step.VOID, opinion="重复上报")
    assert finished.args == [Step.VOID.value, "conflict"]
    text = panel.message_label.text()
    assert "测试值班长" in text and text.startswith("This case was changed by")
    assert ":" in text  # the time
    assert panel.message_kind == "error" and panel.message_bar.isVisible()
    qtbot.waitUntil(lambda: panel.detail.row.version == 2, timeout=10_000)  # refreshed
    assert panel.detail.row.state == State.PENDING_OPEN
    assert _db_case(env, r.case_id).state == State.PENDING_OPEN  # not voided
    assert panel.message_label.text() == text  # the refresh keeps the explanation


def test_offline_refuses_the_step_and_changes_nothing(qtbot, env, ctx_factory):
    r = report(env)
    ctx = ctx_factory(env)
    panel = _panel(qtbot, ctx)
    _show(qtbot, panel, r.case_id)
    ctx.online = False
    with qtbot.waitSignal(panel.sig_step_finished, timeout=2000) as finished:
        assert panel.run_step(Step.VOID, opinion="误报") is False
    assert finished.args == [Step.VOID.value, "offline"]
    assert panel.message_label.text() == UNREACHABLE
    assert panel.retry_button.isVisible()
    # A button refuses before opening its dialog.
    qtbot.mouseClick(panel.step_buttons[Step.VOID], Qt.MouseButton.LeftButton)
    assert panel.current_dialog is None and panel.message_label.text() == UNREACHABLE
    qtbot.wait(100)
    case = _db_case(env, r.case_id)
    assert case.state == State.PENDING_ACCEPT and case.version == 1
    # Once back online the same step can be retried, as it was asked.
    ctx.online = True
    with qtbot.waitSignal(panel.sig_case_changed, timeout=10_000):
        qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    assert _db_case(env, r.case_id).state == State.VOID


def test_connection_lost_during_a_step_is_reported_not_lost(qtbot, sqlite_env, ctx_factory,
                                                           monkeypatch):
    r = report(sqlite_env)
    panel = _panel(qtbot, ctx_factory(sqlite_env))
    _show(qtbot, panel, r.case_id)

    def unreachable(*_args, **_kw):
        raise DatabaseUnavailable("数据库连接中断，操作未执行，请稍后重试")

    monkeypatch.setitem(wf.STEP_FUNCTIONS, Step.VOID, unreachable)
    with qtbot.waitSignal(panel.sig_step_finished, timeout=10_000) as finished:
        panel.run_step(Step.VOID, opinion="误报")
    assert finished.args == [Step.VOID.value, "offline"]
    assert panel.message_label.text() == UNREACHABLE and panel.retry_button.isVisible()
    assert all(b.isEnabled() for b in panel.step_buttons.values())


def test_a_refusal_from_the_database_shows_its_message(qtbot, sqlite_env, ctx_factory):
    r = report(sqlite_env)
    panel = _panel(qtbot, ctx_factory(sqlite_env))
    _show(qtbot, panel, r.case_id)
    with qtbot.waitSignal(panel.sig_step_finished, timeout=10_000) as finished:
        panel.run_step(Step.VOID, opinion="   ")  # the db requires a real opinion
    assert finished.args == [Step.VOID.value, "refused"]
    assert panel.message_label.text() == "Please fill in the opinion."  # worded by its code
    assert _db_case(sqlite_env, r.case_id).state == State.PENDING_ACCEPT


def test_step_dialogs_validate_and_return_the_step_arguments(qtbot, sqlite_env):
    from db.cases.queries import Choice

    classes = [Choice(1, "暴露垃圾", "市容环境"), Choice(2, "井盖缺失", "公用设施")]
    accept = AcceptDialog("2024010100000001", classes)
    qtbot.addWidget(accept)
    accept.open()
    assert not accept.ok_button.isEnabled()  # no class yet
    accept.class_combo.setCurrentIndex(1)
    accept.urgency_combo.setCurrentIndex(accept.urgency_combo.findData("emergency"))
    assert accept.ok_button.isEnabled()
    assert accept.values() == {"class_id": 2, "urgency": "emergency", "opinion": ""}

    void = dialog_for(Step.VOID, "2024010100000001")
    qtbot.addWidget(void)
    void.open()
    assert isinstance(void, OpinionDialog) and not void.ok_button.isEnabled()
    void.opinion_edit.setPlainText("重复上报")
    assert void.ok_button.isEnabled() and void.values() == {"opinion": "重复上报"}
    void.opinion_edit.setPlainText("x" * 5001)
    assert not void.ok_button.isEnabled() and "5001" in void.problem_label.text()

    extend = dialog_for(Step.REQUEST_EXTENSION, "2024010100000001")
    qtbot.addWidget(extend)
    assert isinstance(extend, ExtensionDialog)
    extend.amount_spin.setValue(3)
    extend.unit_combo.setCurrentIndex(extend.unit_combo.findData("work_hours"))
    extend.opinion_edit.setPlainText("需协调供电部门")
    assert extend.values() == {"amount": 3, "unit": "work_hours", "opinion": "需协调供电部门"}

    verify = dialog_for(Step.VERIFY, "2024010100000001")
    qtbot.addWidget(verify)
    verify.open()
    assert verify.ok_button.isEnabled()  # the opinion is optional here


def test_request_extension_from_the_panel(qtbot, env, ctx_factory):
    r = case_in_state(env, State.HANDLING)
    panel = _panel(qtbot, ctx_factory(env, Role.DEPARTMENT_HANDLER))
    _show(qtbot, panel, r.case_id)
    with qtbot.waitSignal(panel.sig_dialog_opened, timeout=10_000) as opened:
        panel.step_buttons[Step.REQUEST_EXTENSION].click()
    dialog = opened.args[0]
    dialog.amount_spin.setValue(2)
    dialog.opinion_edit.setPlainText("需采购材料")
    with qtbot.waitSignal(panel.sig_case_changed, timeout=10_000):
        dialog.accept()
    assert _db_case(env, r.case_id).state == State.EXTENSION_PENDING
    qtbot.waitUntil(lambda: panel.detail.row.state == State.EXTENSION_PENDING, timeout=10_000)
    assert panel.visible_steps() == []  # a handler waits for the leader's decision
    assert "2" in panel.counts_label.text()


def test_step_shortcuts_open_the_dialog_from_the_keyboard(qtbot, sqlite_env, ctx_factory):
    r = report(sqlite_env)
    panel = _panel(qtbot, ctx_factory(sqlite_env))
    _show(qtbot, panel, r.case_id)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=5000)
    with qtbot.waitSignal(panel.sig_dialog_opened, timeout=5000) as opened:
        qtbot.keyClick(panel, Qt.Key.Key_V,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialog = opened.args[0]
    assert isinstance(dialog, OpinionDialog) and dialog.step == Step.VOID
    assert not dialog.ok_button.isEnabled()  # voiding needs a reason
    dialog.reject()
    qtbot.waitUntil(lambda: panel.current_dialog is None, timeout=2000)
    # A hidden button's shortcut does nothing: Ctrl+D (dispatch) is not a step of 待受理.
    qtbot.keyClick(panel, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(200)
    assert panel.current_dialog is None
    assert _db_case(sqlite_env, r.case_id).version == 1
