"""What duty officers found at the desk at 3 a.m. under a real X server: the queue's search finds
a number or phone its filter hides, the detail stays on the case just acted on when it leaves
the queue's filter, Tab leaves the tables, F6 walks the panes, the video wall's layout keys,
and the map follows any alert with a place."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from db.alerts import lifecycle as alerts
from db.auth.roles import Role
from db.auth.scope import SYSTEM
from db.cases import queries
from db.cases.workflow import State, Step
from tests.desktop.shots import shot
from tests.desktop.window.test_main_window import close, js, open_window
from tests.helpers import CENTRE, case_in_state, report, take


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
        shot(window, "03-closed-case-stays-in-the-detail")
    finally:
        close(window)


def _raise(env, key: str, **place) -> int:
    return alerts.raise_alert(
        env.database, source="110", type="transfer", severity="major", dedup_key=key,
        title=f"110转警 {key}", detail="", lat=place.get("lat", CENTRE[0]),
        lon=place.get("lon", CENTRE[1]), town_id=None, sensor_id=None, camera_id=None, value=None)


def _focused() -> object:
    return QApplication.focusWidget()


def _in(pane) -> bool:
    focus = QApplication.focusWidget()
    return focus is not None and (focus is pane or pane.isAncestorOf(focus))


def _active(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)


def test_tab_leaves_the_alert_list_without_moving_its_selection(qtbot, sqlite_env, tmp_path):
    env = sqlite_env
    for key in ("a", "b", "c"):
        _raise(env, key)
    window = open_window(qtbot, env, tmp_path, feed=False)
    try:
        panel = window.alert_panel
        qtbot.waitUntil(lambda: panel.model.rowCount() == 3, timeout=5000)
        chosen = panel.model.alerts[1].id
        assert panel.select_alert(chosen)
        _active(qtbot, window)
        panel.table.setFocus()
        qtbot.waitUntil(lambda: _focused() is panel.table, timeout=5000)
        qtbot.keyClick(panel.table, Qt.Key.Key_Tab)
        assert _focused() is not panel.table  # the first Tab leaves the list
        # Seven columns: with Tab moving the current cell, twelve Tabs ended one row lower
        # (on the next alert), which the next Alt+X would then have cleared.
        for _ in range(11):
            qtbot.keyClick(_focused(), Qt.Key.Key_Tab)
        assert panel.selected_alert_id() == chosen
        assert panel.table.currentIndex().row() == 1
    finally:
        close(window)


def test_tab_leaves_the_queue_table(qtbot, sqlite_env, tmp_path):
    case_in_state(sqlite_env, State.PENDING_ACCEPT)
    window = open_window(qtbot, sqlite_env, tmp_path, feed=False)
    try:
        _active(qtbot, window)
        window.queue.setFocus()  # its focus proxy, the table
        qtbot.waitUntil(lambda: _focused() is window.queue.table, timeout=5000)
        qtbot.keyClick(window.queue.table, Qt.Key.Key_Tab)
        assert _focused() is not window.queue.table
    finally:
        close(window)


def test_f6_walks_the_panes_in_order_and_shift_f6_back(qtbot, sqlite_env, tmp_path):
    window = open_window(qtbot, sqlite_env, tmp_path, feed=False)
    try:
        _active(qtbot, window)
        window.queue.setFocus()
        qtbot.waitUntil(lambda: _in(window.queue), timeout=5000)
        order = [window.alert_panel, window.map_view, window.detail, window.video_wall,
                 window.queue]
        for pane in order:
            qtbot.keyClick(_focused(), Qt.Key.Key_F6)
            qtbot.waitUntil(lambda p=pane: _in(p), timeout=5000)
        for pane in reversed(order[:-1]):  # from the queue back: wall, detail, map, alerts
            qtbot.keyClick(_focused(), Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier)
            qtbot.waitUntil(lambda p=pane: _in(p), timeout=5000)
    finally:
        close(window)


def test_the_wall_layout_keys_digits_only_in_the_wall_alt_digits_anywhere(qtbot, sqlite_env,
                                                                          tmp_path):
    window = open_window(qtbot, sqlite_env, tmp_path, feed=False)
    try:
        wall, queue = window.video_wall, window.queue
        wall.set_layout(1)
        _active(qtbot, window)
        queue.focus_search()
        qtbot.waitUntil(lambda: _focused() is queue.search_edit, timeout=5000)
        qtbot.keyClick(queue.search_edit, Qt.Key.Key_4)
        assert queue.search_edit.text() == "4"  # a digit typed in the search is the search's
        assert wall.layout_size == 1
        qtbot.keyClick(queue.search_edit, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
        assert wall.layout_size == 4  # Alt+4 from anywhere
        assert queue.search_edit.text() == "4"
        queue.table.setFocus()
        qtbot.keyClick(queue.table, Qt.Key.Key_9, Qt.KeyboardModifier.AltModifier)
        assert wall.layout_size == 9
        wall.setFocus()  # in the wall the digit alone is enough
        qtbot.waitUntil(lambda: _in(wall), timeout=5000)
        qtbot.keyClick(_focused(), Qt.Key.Key_1)
        assert wall.layout_size == 1
    finally:
        close(window)


def test_the_map_follows_an_alert_that_has_no_case(qtbot, sqlite_env, tmp_path):
    # A 110 transfer north of the centre, linked to no case.
    place = (CENTRE[0] + 0.05, CENTRE[1] + 0.03)
    alert_id = _raise(sqlite_env, "no-case", lat=place[0], lon=place[1])
    window = open_window(qtbot, sqlite_env, tmp_path, feed=False)
    try:
        view = window.map_view
        # Look somewhere else first, zoomed in: the alert's place is well out of view.
        js(qtbot, view, "cityops._setView(22.80, 113.95, 15)")
        qtbot.waitUntil(lambda: abs(js(qtbot, view, "cityops._view()")["lat"] - 22.80) < 1e-6,
                        timeout=5000)
        qtbot.waitUntil(lambda: window.alert_panel.select_alert(alert_id), timeout=5000)

        def centred() -> bool:
            centre = js(qtbot, view, "cityops._view()")
            return abs(centre["lat"] - place[0]) < 1e-4 and abs(centre["lon"] - place[1]) < 1e-4

        qtbot.waitUntil(centred, timeout=5000)
        assert js(qtbot, view, "cityops._view()")["zoom"] >= 13  # the map's select_zoom
    finally:
        close(window)


def test_a_number_typed_in_the_search_finds_a_case_the_filter_hides(qtbot, sqlite_env, tmp_path):
    env = sqlite_env
    closed = report(env, reporter_phone="0769-2233 4455")
    for step in (Step.ACCEPT, Step.OPEN, Step.DISPATCH, Step.FEEDBACK, Step.VERIFY, Step.CLOSE):
        closed = take(env, closed, step)
    waiting = report(env)
    window = open_window(qtbot, env, tmp_path, feed=False)
    try:
        queue = window.queue
        with qtbot.waitSignal(queue.model.sig_loaded, timeout=10_000):
            queue.state_combo.setCurrentIndex(
                queue.state_combo.findData(State.PENDING_ACCEPT.value))
        assert queue.model.case_ids() == [waiting.case_id]
        with env.database.read() as s:
            rows = queries.case_rows(s, [closed.case_id, waiting.case_id], actor=SYSTEM)
        number, waiting_number = rows[closed.case_id].number, rows[waiting.case_id].number
        _active(qtbot, window)
        queue.focus_search()
        # Typed and Enter at once, as an officer does, before the search has even run.
        qtbot.keyClicks(queue.search_edit, number)
        with qtbot.waitSignal(queue.sig_open_case, timeout=5000) as opened:
            qtbot.keyClick(queue.search_edit, Qt.Key.Key_Return)
        assert opened.args == [closed.case_id]
        qtbot.waitUntil(lambda: window.detail.current_case_id == closed.case_id, timeout=5000)
        # The list itself (待受理) rightly has no such case; the notice says which filter
        # hides it: the state filter, the case being closed.
        assert queue.model.case_ids() == []
        assert queue.outside_notice.isVisible()
        assert queue.outside_notice.text() == (
            f"Case {number} is not in the current filter (State: Closed) — press Enter to open it")

        # The reporter's phone, written another way, finds it too; a double click opens it.
        window.detail.clear()
        queue.search_edit.clear()
        qtbot.keyClicks(queue.search_edit, "076922334455")
        qtbot.waitUntil(queue.outside_notice.isVisible, timeout=5000)
        assert "4455" not in queue.outside_notice.text()  # the number is never shown
        with qtbot.waitSignal(queue.sig_open_case, timeout=5000) as opened:
            qtbot.mouseDClick(queue.outside_notice, Qt.MouseButton.LeftButton)
        assert opened.args == [closed.case_id]
        qtbot.waitUntil(lambda: window.detail.current_case_id == closed.case_id, timeout=5000)

        # A case the filter has: no notice, and Enter goes to the list as before.
        queue.search_edit.clear()
        qtbot.keyClicks(queue.search_edit, waiting_number)
        with qtbot.waitSignal(queue.model.sig_loaded, timeout=5000):
            qtbot.keyClick(queue.search_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: _focused() is queue.table, timeout=5000)
        assert queue.model.case_ids() == [waiting.case_id]
        assert not queue.outside_notice.isVisible()
    finally:
        close(window)
