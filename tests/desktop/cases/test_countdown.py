"""The countdown on screen: whether a case's clock runs is decided in db/ only
(db.cases.deadline): the queue, the map and the detail follow a change of that rule without an
edit in desktop/.
"""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from db.cases import deadline
from db.cases.workflow import State, Step
from db.geo import map_data
from desktop.cases.detail import CaseDetailPanel
from desktop.core import theme
from desktop.queue.model import OVERDUE_BACKGROUND, CaseQueueModel, Col
from desktop.window.main_window import case_markers

from tests.helpers import case_in_state, take

UTC = dt.timezone.utc


def _detail(qtbot, ctx, case_id: int, now: dt.datetime) -> CaseDetailPanel:
    panel = CaseDetailPanel(ctx, clock=lambda: now)
    qtbot.addWidget(panel)
    panel.resize(700, 900)
    panel.show()
    with qtbot.waitSignal(panel.sig_loaded, timeout=10_000,
                          check_params_cb=lambda cid: cid == case_id):
        panel.show_case(case_id)
    return panel


def test_the_clock_rule_lives_in_db_and_every_screen_follows_it(qtbot, sqlite_env, ctx_factory,
                                                                 monkeypatch):
    env = sqlite_env
    ctx = ctx_factory(env)
    now = dt.datetime.now(UTC)
    # Dispatched 60 days ago on a working-hours class, then reported handled: the deadline is
    # long past, but awaiting the check the department's clock does not run.
    r = take(env, case_in_state(env, State.PENDING_DISPATCH), Step.DISPATCH,
             now=now - dt.timedelta(days=60))
    handled = take(env, r, Step.FEEDBACK)
    assert handled.state == State.PENDING_CHECK and handled.deadline_at < now
    cid = handled.case_id

    model = CaseQueueModel(ctx, clock=lambda: now)
    qtbot.waitUntil(lambda: model.loaded, timeout=10_000)
    row = model.row_of(cid)
    model.data(model.index(row, Col.NUMBER))
    qtbot.waitUntil(lambda: model.row_data(cid) is not None, timeout=10_000)
    index = model.index(row, Col.TIME_LEFT)
    panel = _detail(qtbot, ctx, cid, now)

    def map_status() -> str:
        with env.database.read() as s:
            points = map_data.case_points(s, env.city_id, ids=[cid])
        [(_, marker, status)] = case_markers(points, ctx.calendar)  # as the window builds it
        assert marker["status"] == status
        return status

    # Today's rule: handled, no status anywhere.
    assert model.data(index) == "Handled" and model.deadline_status(cid) == "none"
    assert model.data(index, Qt.ItemDataRole.ForegroundRole) == QColor(theme.DEADLINE_COLORS["none"])
    assert model.data(index, Qt.ItemDataRole.BackgroundRole) is None
    assert panel.time_left_label.text() == "" and panel.deadline_status == "none"
    assert map_status() == "none"

    # Change the rule in db/ only: a case awaiting the check still runs the clock.
    monkeypatch.setattr(deadline, "RUNNING_STATES",
                        deadline.RUNNING_STATES | {State.PENDING_CHECK})
    # The queue and the detail follow on their next tick (every second), without a reload.
    qtbot.waitUntil(lambda: model.deadline_status(cid) == "overdue", timeout=5000)
    assert model.data(index).startswith("-")
    assert model.data(index, Qt.ItemDataRole.ForegroundRole) == \
        QColor(theme.DEADLINE_COLORS["overdue"])
    assert model.data(index, Qt.ItemDataRole.BackgroundRole) == QColor(OVERDUE_BACKGROUND)
    qtbot.waitUntil(lambda: panel.deadline_status == "overdue", timeout=5000)
    assert panel.time_left_label.text().startswith("Overdue by ")
    assert panel.time_left_label.isVisible()
    assert map_status() == "overdue"
    model.stop()
