"""What duty officers found at the desk at 3 a.m. under a real X server: the detail stays on the
case just acted on when it leaves the queue's filter, Tab leaves the tables, F6 walks the panes,
the video wall's layout keys, and the map following any alert with a place."""
from __future__ import annotations

from PySide6.QtCore import Qt

from db.auth.roles import Role
from db.cases.workflow import State
from tests.desktop.window.test_main_window import close, open_window
from tests.helpers import case_in_state


def _step_through_dialog(qtbot, window, step: str) -> None:
    """What the officer does: the step's button opens its dialog (the focus goes there), the
    dialog is accepted (the focus comes back) and the step runs."""
    detail = window.detail
    with qtbot.waitSignal(detail.sig_dialog_opened, timeout=5000) as opened:
        detail.step_buttons[step].click()
    dialog = opened.args[0]
    dialog.opinion_edit.setPlainText("现场已核实")
    with qtbot.waitSignal(detail.sig_step_finished, timeout=10_000) as done:
        dialog.accept()
    assert done.args == [step, "done"]
    # Under a real window manager the focus goes back to where it was, the queue's table
    # (offscreen nothing gives it back: say it here).
    window.activateWindow()
    window.queue.table.setFocus(Qt.FocusReason.ActiveWindowFocusReason)


def test_a_case_that_leaves_the_filter_stays_in_the_detail(qtbot, sqlite_env, tmp_path):
    env = sqlite_env
    first = case_in_state(env, State.PENDING_CHECK)
    second = case_in_state(env, State.PENDING_CHECK)
    # A shift leader both verifies (核查) and closes (结案).
    window = open_window(qtbot, env, tmp_path, Role.SHIFT_LEADER, feed=False)
    try:
        queue, detail = window.queue, window.detail
        with qtbot.waitSignal(queue.model.sig_loaded, timeout=10_000):
            queue.state_combo.setCurrentIndex(queue.state_combo.findData(State.PENDING_CHECK.value))
        assert sorted(queue.model.case_ids()) == sorted([first.case_id, second.case_id])
        window.activateWindow()
        queue.table.setFocus()  # the officer clicked the row: the table has the focus
        queue.select_case(first.case_id)
        qtbot.waitUntil(lambda: detail.current_case_id == first.case_id
                        and "verify" in detail.visible_steps(), timeout=5000)

        _step_through_dialog(qtbot, window, "verify")
        # The verified case is 待结案 now: out of the 待核查 list, which keeps only the other.
        qtbot.waitUntil(lambda: queue.model.case_ids() == [second.case_id], timeout=5000)
        qtbot.waitUntil(lambda: detail.current_case_id == first.case_id
                        and detail.detail.row.state == State.PENDING_CLOSE.value
                        and "close" in detail.visible_steps(), timeout=5000)

        _step_through_dialog(qtbot, window, "close")
        qtbot.waitUntil(lambda: not window.ctx.reads.pending, timeout=5000)
        # The detail still shows the case just closed, in its new state, under its own
        # banner; the queue has not picked the other case by itself.
        qtbot.waitUntil(lambda: detail.detail.row.state == State.CLOSED.value, timeout=5000)
        assert detail.case_id == first.case_id
        assert detail.message_kind == "success"
        assert detail.detail.row.number in detail.message_label.text()
        assert queue.current_case_id == first.case_id
        assert not queue.table.selectionModel().hasSelection()
    finally:
        close(window)
