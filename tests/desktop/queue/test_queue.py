"""The case queue: a lazy id-list model, database-side sort and filters, live updates that keep
the user's place, and the filter bar's keyboard."""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTableView
from sqlalchemy import select, update

from db.auth.roles import Role
from db.auth.scope import SYSTEM
from db.cases import workflow as wf
from db.cases.queries import QueueFilter
from db.cases.workflow import State, Step
from db.models import Case, Town
from desktop.core import theme
from desktop.queue.model import CaseQueueModel, Col
from desktop.queue.panel import ALL, QueuePanel
from tests.helpers import any_class_id, case_in_state, report, take

UTC = dt.UTC

def _loaded(qtbot, model: CaseQueueModel) -> None:
    qtbot.waitUntil(lambda: model.loaded, timeout=10_000)


def _reload(qtbot, model: CaseQueueModel, action) -> None:
    with qtbot.waitSignal(model.sig_loaded, timeout=10_000):
        action()


def _towns(env, n: int) -> list[int]:
    with env.database.read() as s:
        return list(s.scalars(select(Town.id).order_by(Town.id).limit(n)))


def _set_town(env, case_id: int, town_id: int) -> None:
    # The reference data has no grids, so reported cases get no town: set one for the filter.
    with env.database.write() as s:
        s.execute(update(Case).where(Case.id == case_id).values(town_id=town_id))


def test_model_opens_with_ids_only_and_fetches_rows_lazily(qtbot, env, ctx_factory):
    ids = [report(env, description=f"第{i}号 垃圾暴露").case_id for i in range(300)]
    model = CaseQueueModel(ctx_factory(env))
    _loaded(qtbot, model)
    assert model.rowCount() == 300
    assert sorted(model.case_ids()) == sorted(ids)
    assert model.cached_ids() == set()  # only ids travelled

    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 400)
    view.show()
    qtbot.waitUntil(lambda: model.case_id_at(0) in model.cached_ids(), timeout=10_000)
    cached = model.cached_ids()
    # The visible rows and their neighbourhood, in one batch: far fewer than 300.
    assert len(cached) <= CaseQueueModel.NEIGHBOURHOOD + 30
    last = model.case_id_at(299)
    assert last not in cached
    assert model.data(model.index(299, Col.NUMBER)) == CaseQueueModel.PLACEHOLDER
    with qtbot.waitSignal(model.sig_rows_fetched, timeout=10_000):
        pass
    assert last in model.cached_ids()
    assert model.data(model.index(299, Col.NUMBER)) == model.row_data(last).number
    assert model.row_of(last) == 299 and model.case_id_at(299) == last


def test_sort_and_filters_run_in_the_database(qtbot, env, ctx_factory):
    now = dt.datetime.now(UTC)
    waiting = report(env, description="人行道井盖缺失", urgency="emergency")
    late = case_in_state(env, State.PENDING_DISPATCH)
    early = case_in_state(env, State.PENDING_DISPATCH)
    early = take(env, early, Step.DISPATCH, now=now - dt.timedelta(days=3))
    late = take(env, late, Step.DISPATCH, now=now - dt.timedelta(hours=1))
    closed = case_in_state(env, State.CLOSED)
    town_a, town_b = _towns(env, 2)
    _set_town(env, late.case_id, town_a)
    _set_town(env, early.case_id, town_b)

    model = CaseQueueModel(ctx_factory(env))
    _loaded(qtbot, model)
    # Default: open cases, earliest deadline first, not-yet-dispatched last.
    assert model.case_ids() == [early.case_id, late.case_id, waiting.case_id]
    _reload(qtbot, model, lambda: model.sort(Col.TIME_LEFT, Qt.SortOrder.DescendingOrder))
    assert model.case_ids() == [late.case_id, early.case_id, waiting.case_id]
    _reload(qtbot, model, lambda: model.sort(Col.URGENCY, Qt.SortOrder.AscendingOrder))
    assert model.case_ids()[0] == waiting.case_id  # emergency first, by meaning not spelling

    base = model.queue_filter
    _reload(qtbot, model, lambda: model.set_filter(
        QueueFilter(states=frozenset({"handling"}), city_id=env.city_id)))
    assert set(model.case_ids()) == {early.case_id, late.case_id}
    _reload(qtbot, model, lambda: model.set_filter(
        QueueFilter(town_ids=frozenset({town_b}), city_id=env.city_id)))
    assert model.case_ids() == [early.case_id]
    _reload(qtbot, model, lambda: model.set_filter(
        QueueFilter(text="井盖", city_id=env.city_id)))
    assert model.case_ids() == [waiting.case_id]
    _reload(qtbot, model, lambda: model.set_filter(
        QueueFilter(states=frozenset(), city_id=env.city_id)))
    assert closed.case_id in model.case_ids() and model.rowCount() == 4
    _reload(qtbot, model, lambda: model.set_filter(base))
    assert closed.case_id not in model.case_ids()


def _panel_with_cases(qtbot, env, ctx_factory, n: int = 60) -> tuple[QueuePanel, list[int]]:
    ids = [report(env, description=f"占道经营 {i}").case_id for i in range(n)]
    panel = QueuePanel(ctx_factory(env))
    qtbot.addWidget(panel)
    panel.resize(1000, 420)
    panel.show()
    _loaded(qtbot, panel.model)
    return panel, ids


def test_change_from_another_workstation_keeps_selection_and_scroll(qtbot, env, ctx_factory):
    panel, _ = _panel_with_cases(qtbot, env, ctx_factory)
    model, table = panel.model, panel.table
    bar = table.verticalScrollBar()
    assert bar.maximum() > 0, "the view must be able to scroll for this test"
    selected = model.case_id_at(40)
    with qtbot.waitSignal(panel.sig_case_selected, timeout=5000) as blocker:
        assert panel.select_case(selected)
    assert blocker.args == [selected]
    bar.setValue(min(bar.maximum(), 30))
    scroll = bar.value()
    qtbot.waitUntil(lambda: model.row_data(model.case_id_at(35)) is not None, timeout=10_000)

    # Another workstation accepts the case just above the selection: it changes in place.
    other = model.case_id_at(35)
    with env.database.read() as s:
        version = s.get(Case, other).version
    wf.accept(env.database, env.users[Role.SHIFT_LEADER], other, version,
              class_id=any_class_id(env))
    _reload(qtbot, model, lambda: model.apply_changes({other}))
    assert model.row_data(other).state == State.PENDING_OPEN
    assert model.data(model.index(35, Col.STATE)) != model.data(model.index(34, Col.STATE))
    assert panel.current_case_id == selected
    assert model.case_id_at(table.currentIndex().row()) == selected
    assert [model.case_id_at(i.row()) for i in table.selectionModel().selectedRows()] == [selected]
    assert bar.value() == scroll

    # Another voids a case above the selection: it leaves the list; selection follows its case,
    # and the rows in view stay where they are on screen (the scroll follows the top row).
    gone = model.case_id_at(10)
    top_case = model.case_id_at(table.rowAt(0))
    with env.database.read() as s:
        version = s.get(Case, gone).version
    wf.void(env.database, env.users[Role.SHIFT_LEADER], gone, version, opinion="重复上报")
    fresh = report(env, description="新上报").case_id  # and a new case arrives meanwhile
    _reload(qtbot, model, lambda: model.apply_changes({gone, fresh}))
    assert gone not in model.case_ids() and fresh in model.case_ids()
    assert model.rowCount() == 60
    assert model.case_id_at(table.currentIndex().row()) == selected
    assert [model.case_id_at(i.row()) for i in table.selectionModel().selectedRows()] == [selected]
    assert model.case_id_at(table.rowAt(0)) == top_case
    assert bar.value() == scroll - 1  # one row above it left
    assert panel.current_case_id == selected


def test_countdown_is_red_when_overdue_and_green_on_track(qtbot, env, ctx_factory):
    now = dt.datetime.now(UTC)
    overdue = take(env, case_in_state(env, State.PENDING_DISPATCH), Step.DISPATCH,
                   now=now - dt.timedelta(days=60))
    on_track = take(env, case_in_state(env, State.PENDING_DISPATCH), Step.DISPATCH)
    waiting = report(env)
    model = CaseQueueModel(ctx_factory(env))
    _loaded(qtbot, model)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.show()
    qtbot.waitUntil(lambda: len(model.cached_ids()) == 3, timeout=10_000)

    def cell(case_id, role=Qt.ItemDataRole.DisplayRole):
        return model.data(model.index(model.row_of(case_id), Col.TIME_LEFT), role)

    assert cell(overdue.case_id, Qt.ItemDataRole.ForegroundRole) == \
        QColor(theme.DEADLINE_COLORS["overdue"])
    assert cell(overdue.case_id).endswith(" over")  # e.g. "113 wh 30 m over" (English)
    assert model.deadline_status(overdue.case_id) == "overdue"
    assert cell(on_track.case_id, Qt.ItemDataRole.ForegroundRole) == \
        QColor(theme.DEADLINE_COLORS["on_track"])
    assert cell(on_track.case_id).endswith(" left")
    assert cell(waiting.case_id) == ""  # no clock before dispatch
    # The countdown ticks: the column is repainted every second without re-reading rows.
    with qtbot.waitSignal(model.dataChanged, timeout=3000) as blocker:
        pass
    top_left, bottom_right = blocker.args[:2]
    assert top_left.column() == bottom_right.column() == Col.TIME_LEFT


def test_filter_bar_and_keyboard(qtbot, env, ctx_factory):
    a = report(env, description="桥底下 井盖缺失").case_id
    b = case_in_state(env, State.HANDLING).case_id
    panel = QueuePanel(ctx_factory(env))
    qtbot.addWidget(panel)
    panel.resize(1000, 500)
    panel.show()
    _loaded(qtbot, panel.model)
    # Town and class choices arrive from the database, off the GUI thread.
    qtbot.waitUntil(lambda: panel.town_combo.count() > 30 and panel.class_combo.count() > 90,
                    timeout=10_000)
    assert set(panel.model.case_ids()) == {a, b}

    panel.state_combo.setCurrentIndex(panel.state_combo.findData(State.HANDLING.value))
    qtbot.waitUntil(lambda: panel.model.case_ids() == [b], timeout=10_000)
    panel.state_combo.setCurrentIndex(panel.state_combo.findData(ALL))
    qtbot.waitUntil(lambda: set(panel.model.case_ids()) == {a, b}, timeout=10_000)

    # Ctrl+F jumps to the search; typing waits for the debounce, then filters in the database.
    panel.activateWindow()
    qtbot.waitUntil(lambda: panel.isActiveWindow(), timeout=5000)
    panel.table.setFocus()
    assert panel.select_case(a)
    assert panel.current_case_id == a
    qtbot.keyClick(panel.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel.search_edit.hasFocus(), timeout=2000)
    panel.search_edit.insert("井盖")  # QTest cannot type CJK; an IME commits text like this
    assert panel.model.queue_filter.text == ""  # not yet: debounced
    qtbot.waitUntil(lambda: panel.model.case_ids() == [a], timeout=5000)
    assert panel.model.queue_filter.text == "井盖"
    assert panel.table.currentIndex().row() == 0 and panel.current_case_id == a  # kept

    # select_case on a case hidden by the search clears the search once and selects it.
    with qtbot.waitSignal(panel.sig_case_selected, timeout=10_000) as blocker:
        assert panel.select_case(b) is False
    assert blocker.args == [b]
    assert panel.search_edit.text() == "" and panel.current_case_id == b

    # Arrows move the selection; Enter opens the current case.
    panel.table.setFocus()
    row_b = panel.model.row_of(b)
    key = Qt.Key.Key_Down if row_b == 0 else Qt.Key.Key_Up
    with qtbot.waitSignal(panel.sig_case_selected, timeout=2000) as moved:
        qtbot.keyClick(panel.table, key)
    assert moved.args == [a]
    with qtbot.waitSignal(panel.sig_open_case, timeout=2000) as opened:
        qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    assert opened.args == [a]

    # Overdue and Mine narrow the list in the database.
    panel.overdue_button.setChecked(True)
    qtbot.waitUntil(lambda: panel.model.loaded and panel.model.case_ids() == [], timeout=10_000)
    assert panel.model.queue_filter.overdue_only
    panel.overdue_button.setChecked(False)
    panel.mine_button.setChecked(True)
    me = env.users[Role.DUTY_OFFICER]
    qtbot.waitUntil(lambda: panel.model.queue_filter.assignee_user_id == me
                    and panel.model.case_ids() == [], timeout=10_000)


def test_f5_refreshes_the_queue(qtbot, sqlite_env, ctx_factory):
    panel = QueuePanel(ctx_factory(sqlite_env))
    qtbot.addWidget(panel)
    panel.show()
    _loaded(qtbot, panel.model)
    assert panel.model.rowCount() == 0
    report(sqlite_env)
    panel.activateWindow()
    qtbot.waitUntil(lambda: panel.isActiveWindow(), timeout=5000)
    with qtbot.waitSignal(panel.model.sig_loaded, timeout=10_000):
        qtbot.keyClick(panel.table, Qt.Key.Key_F5)
    assert panel.model.rowCount() == 1


def test_the_overdue_filter_is_asked_again_as_time_passes(qtbot, sqlite_env, ctx_factory):
    """Membership of "overdue" changes with the clock, not only with writes."""
    from db.cases.workflow import Source

    case_in_state(sqlite_env, State.HANDLING)
    model = CaseQueueModel(ctx_factory(sqlite_env))
    _loaded(qtbot, model)
    assert not model._overdue_timer.isActive()
    with qtbot.waitSignal(model.sig_loaded, timeout=10_000):
        model.set_filter(QueueFilter(overdue_only=True))
    assert model._overdue_timer.isActive()
    model._overdue_timer.setInterval(100)
    with qtbot.waitSignal(model.sig_loaded, timeout=10_000):  # asked again with no write
        pass
    with qtbot.waitSignal(model.sig_loaded, timeout=10_000):
        model.set_filter(QueueFilter(sources=frozenset({Source.HOTLINE_12345.value})))
    assert not model._overdue_timer.isActive()
    model.stop()


def test_changes_are_placed_without_asking_for_the_whole_list(qtbot, env, ctx_factory,
                                                              monkeypatch):
    """A changed case is taken out and put back where the sort puts it, by binary search over
    the list the model has; the result is exactly the list the database would give."""
    import random

    from db.cases import queries
    from db.cases.queries import QueueSort
    from desktop.queue import model as queue_model

    rng = random.Random(6)
    now = dt.datetime.now(UTC)
    towns = _towns(env, 3)
    cases = []
    for i in range(40):
        r = report(env, description=f"第{i}件", urgency=rng.choice(["normal", "normal", "urgent"]))
        if i % 3:
            r = take(env, case_in_state(env, State.PENDING_DISPATCH), Step.DISPATCH,
                     now=now - dt.timedelta(hours=rng.randint(0, 300)))
        if i % 4 == 0:
            _set_town(env, r.case_id, rng.choice(towns))
        cases.append(r)
    full_queries = []
    real_queue_ids = queries.queue_ids
    monkeypatch.setattr(queue_model.queries, "queue_ids",
                        lambda *a, **kw: full_queries.append(1) or real_queue_ids(*a, **kw))

    for sort in (QueueSort(), QueueSort("deadline_at", True), QueueSort("number", True),
                 QueueSort("urgency_rank"), QueueSort("town", True)):
        model = CaseQueueModel(ctx_factory(env), sort=sort,
                               flt=QueueFilter(states=frozenset(), city_id=env.city_id))
        _loaded(qtbot, model)
        full_queries.clear()
        for _ in range(4):
            changed = set()
            for result in rng.sample(cases, 3):
                with env.database.read() as s:
                    case = s.get(Case, result.case_id)
                    state, version = case.state, case.version
                if state == State.HANDLING.value:
                    wf.request_extension(env.database, env.users[Role.DEPARTMENT_HANDLER],
                                         result.case_id, version, amount=rng.randint(1, 9),
                                         unit="work_hours", opinion="需协调")
                elif state == State.PENDING_ACCEPT.value:
                    wf.void(env.database, env.users[Role.SHIFT_LEADER], result.case_id, version,
                            opinion="重复上报")
                _set_town(env, result.case_id, rng.choice(towns))
                changed.add(result.case_id)
            changed.add(report(env, description="新上报").case_id)
            _reload(qtbot, model, lambda: model.apply_changes(changed))
            with env.database.read() as s:
                assert model.case_ids() == real_queue_ids(s, model.queue_filter, sort, actor=SYSTEM)
            assert all(model.row_data(c) is not None for c in changed)  # rows came along
        assert full_queries == [], f"{sort} asked for the whole list"
        model.stop()

    # A text sort column (the database's collation decides) still gives the database's order.
    model = CaseQueueModel(ctx_factory(env), sort=QueueSort("source"))
    _loaded(qtbot, model)
    fresh = report(env, description="新上报", source=wf.Source.WALK_IN).case_id
    _reload(qtbot, model, lambda: model.apply_changes({fresh}))
    with env.database.read() as s:
        assert model.case_ids() == real_queue_ids(s, model.queue_filter, QueueSort("source"), actor=SYSTEM)
    model.stop()


def test_the_rows_in_view_stay_put_when_cases_arrive_above(qtbot, sqlite_env, ctx_factory):
    from db.cases.queries import QueueSort

    panel, ids = _panel_with_cases(qtbot, sqlite_env, ctx_factory)
    model, table = panel.model, panel.table
    model.set_sort(QueueSort("number", True))  # newest first: new cases go on top
    qtbot.waitUntil(lambda: model.case_id_at(0) == max(ids), timeout=10_000)
    bar = table.verticalScrollBar()
    bar.setValue(20)
    top_case = model.case_id_at(table.rowAt(0))
    assert panel.select_case(model.case_id_at(25))
    selected = panel.current_case_id
    new = [report(sqlite_env, description=f"新上报 {i}").case_id for i in range(3)]
    _reload(qtbot, model, lambda: model.apply_changes(set(new)))
    assert model.case_ids()[:3] == sorted(new, reverse=True)
    assert model.case_id_at(table.rowAt(0)) == top_case and bar.value() == 23
    assert panel.current_case_id == selected
    assert model.case_id_at(table.currentIndex().row()) == selected
    # At the head of the list the view stays at the head: the newest case comes into view.
    bar.setValue(0)
    newest = report(sqlite_env, description="最新上报").case_id
    _reload(qtbot, model, lambda: model.apply_changes({newest}))
    assert bar.value() == 0 and model.case_id_at(table.rowAt(0)) == newest


def test_a_department_handlers_queue_holds_their_departments_work(qtbot, sqlite_env,
                                                                  ctx_factory):
    """The queue reads with the officer's scope (db.auth.scope). Four open cases: one
    dispatched to the handler's department, one to another department, one waiting for
    dispatch, one just reported; the handler's queue lists the first only. When the desk
    dispatches the waiting one to the handler's department, the change places it in the list."""
    from sqlalchemy import func

    from db.models import Department

    with sqlite_env.database.read() as s:
        other = s.scalar(select(func.max(Department.id)))
    mine = case_in_state(sqlite_env, State.HANDLING)
    theirs = case_in_state(sqlite_env, State.PENDING_DISPATCH)
    theirs = wf.dispatch(sqlite_env.database, sqlite_env.users[Role.DISPATCHER], theirs.case_id,
                         theirs.version, department_id=other)
    waiting = case_in_state(sqlite_env, State.PENDING_DISPATCH)
    report(sqlite_env)
    ctx = ctx_factory(sqlite_env, Role.DEPARTMENT_HANDLER)
    model = CaseQueueModel(ctx)
    _loaded(qtbot, model)
    assert model.case_ids() == [mine.case_id]
    assert model.rowCount() == 1

    done = take(sqlite_env, waiting, Step.DISPATCH, Role.DISPATCHER)  # to the handler's
    ctx.changes.dispatch({"case": {done.case_id}})
    qtbot.waitUntil(lambda: sorted(model.case_ids()) == sorted([mine.case_id, done.case_id]),
                    timeout=10_000)
