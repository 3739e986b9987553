"""The countdown on screen: the queue's column and tooltip and the case detail say the time
left in the unit the class's limit is counted in, with the due time beside it, in Chinese and
in English; and whether a case's clock runs is decided in db/ only (db.cases.deadline): the
queue, the map and the detail follow a change of that rule without an edit in desktop/.

Dates: the test database's calendar is the official one; 2026-11-12 .. 2026-12-11 hold no
public holiday and no make-up working day (db/cases/test_deadline.py checks the weeks). Office
hours 08:30-12:00 and 14:00-17:30: 7 h a working day.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor
from sqlalchemy import update

from db.cases import deadline
from db.cases.workflow import State, Step
from db.geo import map_data
from db.models import CaseClass
from db.worktime.clock import SHANGHAI
from desktop.cases.detail import CaseDetailPanel
from desktop.core import i18n, labels, theme
from desktop.map.layers import case_markers
from desktop.queue.model import DEADLINE_STATUS_ROLE, OVERDUE_BACKGROUND, CaseQueueModel, Col
from tests.helpers import any_class_id, case_in_state, report, take

UTC = dt.UTC


def local(y, m, d, hh=0, mm=0, ss=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


def _class(env, unit: str, amount: int) -> int:
    """A class counted in ``unit``, its limit set to ``amount`` for the test."""
    class_id = any_class_id(env, unit)
    with env.database.write() as s:
        s.execute(update(CaseClass).where(CaseClass.id == class_id).values(limit_amount=amount))
    return class_id


def _dispatched(env, class_id: int, at: dt.datetime, urgency: str = "normal") -> int:
    """A case of ``class_id`` dispatched at ``at``: its deadline is counted by the real step."""
    r = report(env, urgency=urgency)
    r = take(env, r, Step.ACCEPT, class_id=class_id)
    r = take(env, r, Step.OPEN)
    return take(env, r, Step.DISPATCH, now=at.astimezone(UTC))


@dataclass(frozen=True)
class Row:
    case_id: int
    now: dt.datetime  # the moment the screen is looked at
    status: str
    en: tuple[str, str]  # (queue text, due text)
    zh: tuple[str, str]


@pytest.fixture
def rows(sqlite_env) -> list[Row]:
    env = sqlite_env
    days = _class(env, "work_days", 3)
    hours = _class(env, "work_hours", 10)
    out = []

    # 3 working days = 21 h, dispatched Fri 2026-12-04 15:00: Fri 15:00-17:30 2.5 h; Mon 7 h
    # (9.5); Tue 7 h (16.5); Wed 08:30-12:00 3.5 h (20.0) + 1 h from 14:00 -> due Wed 12-09
    # 15:00. Seen Mon 12-07 09:30: Mon 2.5 + 3.5 = 6 h; Tue 7 h (13); Wed 4.5 h (17.5 h)
    # = 17.5 / 7 = 2.5 working days. 17.5 h >= a quarter of 21 h (5.25 h): on track.
    r = _dispatched(env, days, local(2026, 12, 4, 15))
    assert r.deadline_at.astimezone(SHANGHAI) == local(2026, 12, 9, 15)
    out.append(Row(r.case_id, local(2026, 12, 7, 9, 30), "on_track",
                   ("2.5 wd left", "due 12-09 15:00"), ("剩2.5工作日", "截止 12-09 15:00")))

    # 3 working days dispatched Thu 2026-11-12 14:00: Thu 3.5 h; Fri 13th 7 h (10.5); Mon
    # 16th 7 h (17.5); Tue 17th 08:30-12:00 3.5 h (21) -> due Tue 11-17 12:00. Seen Wed
    # 12-02 09:18: Tue 17th 14:00-17:30 3.5 h; Wed 18-Fri 20 21 h (24.5); Mon 23-Fri 27 35 h
    # (59.5); Mon 30 7 h (66.5); Tue Dec 1 7 h (73.5); Wed 08:30-09:18 0.8 h (74.3 h late)
    # = 74.3 / 7 = 10.614 -> 10.6 working days over.
    r = _dispatched(env, days, local(2026, 11, 12, 14))
    assert r.deadline_at.astimezone(SHANGHAI) == local(2026, 11, 17, 12)
    out.append(Row(r.case_id, local(2026, 12, 2, 9, 18), "overdue",
                   ("10.6 wd over", "due 11-17 12:00"), ("超10.6工作日", "截止 11-17 12:00")))

    # 10 working hours dispatched Mon 2026-12-07 11:35: Mon 11:35-12:00 25 min, 14:00-17:30
    # 3.5 h (3 h 55); Tue 08:30-12:00 3.5 h (7 h 25); 2 h 35 from 14:00 -> due Tue 12-08 16:35.
    # Seen Tue 14:30: 14:30-16:35 = 2 h 05 min, less than a quarter of 10 h (2.5 h): due soon.
    r = _dispatched(env, hours, local(2026, 12, 7, 11, 35))
    assert r.deadline_at.astimezone(SHANGHAI) == local(2026, 12, 8, 16, 35)
    out.append(Row(r.case_id, local(2026, 12, 8, 14, 30), "due_soon",
                   ("2 wh 05 m left", "due today 16:35"), ("剩2工时05分", "截止 今天 16:35")))

    # An emergency runs 30 calendar minutes whatever its class: dispatched Tue 2026-12-08
    # 09:12 -> due 09:42. Seen 09:49:30: 7 min 30 s late, floored to 7 minutes.
    r = _dispatched(env, hours, local(2026, 12, 8, 9, 12), urgency="emergency")
    assert r.deadline_at.astimezone(SHANGHAI) == local(2026, 12, 8, 9, 42)
    out.append(Row(r.case_id, local(2026, 12, 8, 9, 49, 30), "overdue",
                   ("7 min over", "due 09:42"), ("超7分钟", "截止 09:42")))
    return out


def _queue_cell(qtbot, ctx, case_id: int, now: dt.datetime, keep: list) -> dict:
    """The time-left cell of ``case_id`` in a queue whose clock says ``now``."""
    model = CaseQueueModel(ctx, clock=lambda: now)
    keep.append(model)
    qtbot.waitUntil(lambda: model.loaded, timeout=10_000)
    row = model.row_of(case_id)
    model.data(model.index(row, Col.NUMBER))  # a view asks: the row is fetched
    qtbot.waitUntil(lambda: model.row_data(case_id) is not None, timeout=10_000)
    index = model.index(row, Col.TIME_LEFT)
    cell = {role: model.data(index, role) for role in (
        Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, DEADLINE_STATUS_ROLE,
        Qt.ItemDataRole.ForegroundRole)}
    model.stop()
    return cell


def _detail(qtbot, ctx, case_id: int, now: dt.datetime) -> CaseDetailPanel:
    panel = CaseDetailPanel(ctx, clock=lambda: now)
    qtbot.addWidget(panel)
    panel.resize(700, 900)
    panel.show()
    with qtbot.waitSignal(panel.sig_loaded, timeout=10_000,
                          check_params_cb=lambda cid: cid == case_id):
        panel.show_case(case_id)
    return panel


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_countdown_texts_in_the_limits_unit(qtbot, qapp, sqlite_env, ctx_factory, rows, language):
    ctx = ctx_factory(sqlite_env)
    keep: list = []
    try:
        assert i18n.install(qapp, language) == (language == "zh_CN")
        for row in rows:
            text, due = row.zh if language == "zh_CN" else row.en
            cell = _queue_cell(qtbot, ctx, row.case_id, row.now, keep)
            assert cell[Qt.ItemDataRole.DisplayRole] == text
            assert cell[DEADLINE_STATUS_ROLE] == row.status
            assert cell[Qt.ItemDataRole.ForegroundRole] == QColor(theme.DEADLINE_COLORS[row.status])
            # The tooltip: the status in words, the time left and the due time.
            assert cell[Qt.ItemDataRole.ToolTipRole] == \
                f"{labels.deadline_name(row.status)} · {text} · {due}"
            panel = _detail(qtbot, ctx, row.case_id, row.now)
            assert panel.time_left_label.text() == f"{text} · {due}"
            assert panel.deadline_status == row.status
            assert panel.countdown.status == row.status
        if language == "zh_CN":  # the status words are Chinese too, not only the numbers
            assert labels.deadline_name("overdue") == QCoreApplication.translate(
                "labels", "Overdue") != "Overdue"
    finally:
        i18n.install(qapp, "en")


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
        [(_, marker, status)] = case_markers(points, ctx.calendar)  # as the map layers build it
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
    assert model.data(index).endswith(" over")  # e.g. "300 wh 00 m over"
    assert model.data(index, Qt.ItemDataRole.ForegroundRole) == \
        QColor(theme.DEADLINE_COLORS["overdue"])
    assert model.data(index, Qt.ItemDataRole.BackgroundRole) == QColor(OVERDUE_BACKGROUND)
    qtbot.waitUntil(lambda: panel.deadline_status == "overdue", timeout=5000)
    assert " over · due " in panel.time_left_label.text()
    assert panel.time_left_label.isVisible()
    assert map_status() == "overdue"
    model.stop()
