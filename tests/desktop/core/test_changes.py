"""Changes routed by subscription: a new entity is one subscribe, handlers of closed widgets are
dropped, unknown names are skipped, and a widget's own change carries its origin."""
from __future__ import annotations

from PySide6.QtWidgets import QWidget

from db.core import jobs
from db.core.entities import Entity
from desktop.core.changes import ChangeRouter
from tests.desktop.window.test_main_window import close, open_window


def test_a_new_entity_is_one_subscription_without_touching_the_window(qtbot, sqlite_env, tmp_path):
    """A duty officer's window does not show job runs; one subscribe made from outside the
    window receives them from the real change feed (another writer's commit)."""
    window = open_window(qtbot, sqlite_env, tmp_path)
    try:
        got: list[tuple[set, object]] = []
        window.ctx.changes.subscribe(Entity.JOB_RUN, lambda ids, origin: got.append((ids, origin)))
        ran = jobs.run(sqlite_env.database, "feed.prune")  # publishes job_run in its transaction
        assert ran.ran
        qtbot.waitUntil(lambda: bool(got), timeout=5000)
        ids, origin = got[0]
        assert len(ids) == 1 and origin is None  # from the feed, not from this window
    finally:
        close(window)


def test_handlers_of_a_deleted_widget_are_dropped(qtbot):
    router = ChangeRouter()

    class Panel(QWidget):
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_case(self, ids, origin):
            self.seen.append(ids)

    panel = Panel()
    router.subscribe(Entity.CASE, panel.on_case)
    router.dispatch({"case": {1, 2}})
    assert panel.seen == [{1, 2}]
    panel.deleteLater()
    qtbot.waitUntil(lambda: router.subscribed(Entity.CASE) == 0, timeout=2000)
    router.dispatch({"case": {3}})  # no call into a deleted widget
    assert panel.seen == [{1, 2}]
    assert router.subscribed(Entity.CASE) == 0


def test_unknown_names_are_skipped_and_reload_means_only_reload():
    router = ChangeRouter()
    calls = []
    router.subscribe(Entity.CASE, lambda ids, o: calls.append(("case", ids)))
    router.subscribe(Entity.ALL, lambda ids, o: calls.append(("all", ids)))
    router.dispatch({"incident_from_a_newer_version": {7}, "case": {1}})
    assert calls == [("case", {1})]
    calls.clear()
    router.dispatch({"*": {None}, "case": {1}})  # a reload replaces the per-entity work
    assert calls == [("all", set())]


def test_an_own_change_carries_its_origin():
    router = ChangeRouter()
    calls = []
    router.subscribe(Entity.ALERT, lambda ids, origin: calls.append((ids, origin)))
    me = object()
    router.publish(Entity.ALERT, [5], origin=me)
    assert calls == [({5}, me)]
