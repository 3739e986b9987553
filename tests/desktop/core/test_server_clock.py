"""Countdowns follow the database server's clock, not the workstation's, and a workstation whose
clock is off the server's by more than a few seconds says so in the status bar
(desktop.core.servertime, desktop.window.clock_warning)."""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt

from db.cases.workflow import Step
from db.worktime.clock import SHANGHAI
from desktop.cases.detail import CaseDetailPanel
from desktop.core.servertime import ServerClock
from desktop.queue.model import CaseQueueModel, Col
from desktop.window.clock_warning import ClockWarning
from tests.helpers import any_class_id, report, take

UTC = dt.UTC


def local(hh: int, mm: int, ss: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, 8, hh, mm, ss, tzinfo=SHANGHAI)


def test_a_clock_two_minutes_behind_the_server_warns_and_shifts_countdowns_by_two_minutes(
        qtbot, sqlite_env, ctx_factory):
    """Worked by hand: an emergency runs 30 calendar minutes; dispatched 09:12 it is due 09:42.
    This computer's clock reads 09:30:00. Offset 0: 09:42 - 09:30 = 12 min = 720 s left. The
    server's clock is measured 120 s ahead (the computer is 2 minutes behind): the server's
    time is 09:32:00, so 10 min = 600 s left, exactly 2 minutes less, in the queue and in the
    detail alike; and the status bar warns (120 s > the 5 s limit)."""
    env = sqlite_env
    r = report(env, urgency="emergency")
    r = take(env, r, Step.ACCEPT, class_id=any_class_id(env, "work_hours"))
    r = take(env, r, Step.OPEN)
    r = take(env, r, Step.DISPATCH, now=local(9, 12).astimezone(UTC))
    assert r.deadline_at == local(9, 42)

    ctx = ctx_factory(env)
    ctx.clock = ServerClock(local=lambda: local(9, 30).astimezone(UTC))
    warning = ClockWarning(ctx)
    qtbot.addWidget(warning)
    warning.show()
    qtbot.waitUntil(lambda: ctx.clock.measured, timeout=10_000)  # SQLite: the same clock
    assert ctx.clock.offset == 0.0 and warning.isHidden()

    panel = CaseDetailPanel(ctx)  # no clock given: the context's, the server's time
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.sig_loaded, timeout=10_000):
        panel.show_case(r.case_id)
    model = CaseQueueModel(ctx)
    qtbot.waitUntil(lambda: model.loaded, timeout=10_000)
    row = model.row_of(r.case_id)
    model.data(model.index(row, Col.NUMBER))  # a view asks: the row is fetched
    qtbot.waitUntil(lambda: model.row_data(r.case_id) is not None, timeout=10_000)

    def queue_text() -> str:
        return model.data(model.index(model.row_of(r.case_id), Col.TIME_LEFT),
                          Qt.ItemDataRole.DisplayRole)

    assert panel.countdown.seconds_left == 720
    assert panel.time_left_label.text() == "12 min left · due 09:42"
    qtbot.waitUntil(lambda: queue_text() == "12 min left", timeout=5_000)

    warning.show_offset(120.0)
    assert not warning.isHidden()
    assert warning.text() == ("This computer's clock is 120 s behind the database server's; "
                              "deadlines and countdowns use the server's time.")
    # The next tick of each countdown (every second) reads the server's time: 09:32:00.
    qtbot.waitUntil(lambda: panel.countdown.seconds_left == 600, timeout=5_000)
    assert 720 - panel.countdown.seconds_left == 120
    assert panel.time_left_label.text() == "10 min left · due 09:42"
    qtbot.waitUntil(lambda: queue_text() == "10 min left", timeout=5_000)
    model.stop()

    warning.show_offset(-3.0)  # within 5 s: no warning, and the offset is still used
    assert warning.isHidden() and ctx.clock.now() == local(9, 29, 57)


def test_a_clock_ahead_of_the_server_is_named_ahead(qtbot, sqlite_env, ctx_factory):
    ctx = ctx_factory(sqlite_env)
    warning = ClockWarning(ctx)
    qtbot.addWidget(warning)
    qtbot.waitUntil(lambda: ctx.clock.measured, timeout=10_000)
    warning.show_offset(-45.4)
    assert not warning.isHidden()
    assert warning.text().startswith("This computer's clock is 45 s ahead of the database server's")


def test_the_window_warns_in_its_status_bar_and_its_clock_reads_the_servers_time(
        qtbot, sqlite_env, tmp_path):
    """The window's status bar holds the warning; its Beijing-time clock is the server's: this
    computer reads 09:30:00, the server 120 s more, so the status bar says 09:32:00."""
    from desktop.window.main_window import MainWindow
    from tests.desktop.conftest import make_ctx

    ctx = make_ctx(sqlite_env)
    ctx.clock = ServerClock(local=lambda: local(9, 30).astimezone(UTC))
    window = MainWindow(ctx, None, tmp_path / "map")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: ctx.clock.measured, timeout=10_000)
    assert not window.clock_warning.isVisible()
    window.clock_warning.show_offset(120.0)
    assert window.clock_warning.isVisible()
    assert window.statusBar().findChildren(ClockWarning) == [window.clock_warning]
    qtbot.waitUntil(lambda: window.clock_label.text() == "Beijing time 2026-12-08 09:32:00",
                    timeout=5_000)
    window.close()
