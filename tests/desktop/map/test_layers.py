"""The map's state without a window: MapLayers reads, colours and sends batches to any sink,
and follows the change router by itself."""
from __future__ import annotations

from db.auth.roles import Role
from db.cases import workflow as wf
from db.cases.workflow import State
from db.core.entities import Entity
from desktop.map.layers import MapLayers
from tests.helpers import case_in_state, report


class Recorder:
    """A sink in place of the map page: keeps every batch sent."""

    def __init__(self) -> None:
        self.batches: list[dict] = []

    def apply_batch(self, batch: dict) -> None:
        self.batches.append(batch)


def test_layers_load_follow_changes_and_forget_closed_cases(qtbot, sqlite_env, ctx_factory):
    ctx = ctx_factory(sqlite_env)
    handling = case_in_state(sqlite_env, State.HANDLING)
    layers = MapLayers(ctx)
    sink = Recorder()
    layers.attach(sink)
    layers.load_all()
    qtbot.waitUntil(lambda: bool(sink.batches), timeout=10_000)
    first = sink.batches[0]
    assert first["cases"]["reset"] and {"staff", "cameras", "sensors", "black_spots"} <= first.keys()
    assert handling.case_id in layers.points
    assert layers.statuses[handling.case_id] == "on_track"  # just dispatched

    fresh = report(sqlite_env)  # another desk's new case, as the feed would announce it
    ctx.changes.dispatch({Entity.CASE.value: {fresh.case_id}})
    qtbot.waitUntil(lambda: len(sink.batches) == 2, timeout=10_000)
    upserted = [m["id"] for m in sink.batches[1]["cases"]["upsert"]]
    assert upserted == [fresh.case_id] and sink.batches[1]["cases"]["remove"] == []

    wf.void(sqlite_env.database, sqlite_env.users[Role.DUTY_OFFICER], fresh.case_id,
            fresh.version, opinion="重复上报")
    ctx.changes.dispatch({Entity.CASE.value: {fresh.case_id}})
    qtbot.waitUntil(lambda: len(sink.batches) == 3, timeout=10_000)
    assert sink.batches[2]["cases"] == {"upsert": [], "remove": [fresh.case_id]}
    assert fresh.case_id not in layers.points

    layers.attach(None)  # the page is gone: changes are not sent anywhere
    ctx.changes.dispatch({Entity.CASE.value: {handling.case_id}})
    qtbot.wait(200)
    assert len(sink.batches) == 3


def test_a_department_handlers_map_shows_their_departments_cases(qtbot, sqlite_env,
                                                                 ctx_factory):
    """The map reads with the officer's scope (db.auth.scope), as the queue does: of three open
    cases, the one dispatched to the handler's department is on their map; a new report (no
    one's yet) that the feed announces is not sent to it."""
    mine = case_in_state(sqlite_env, State.HANDLING)  # to the handler's department
    waiting = case_in_state(sqlite_env, State.PENDING_DISPATCH)
    ctx = ctx_factory(sqlite_env, Role.DEPARTMENT_HANDLER)
    layers = MapLayers(ctx)
    sink = Recorder()
    layers.attach(sink)
    layers.load_all()
    qtbot.waitUntil(lambda: bool(sink.batches), timeout=10_000)
    assert set(layers.points) == {mine.case_id}
    assert waiting.case_id not in {m["id"] for m in sink.batches[0]["cases"]["upsert"]}
    fresh = report(sqlite_env)
    ctx.changes.dispatch({Entity.CASE.value: {fresh.case_id}})
    qtbot.waitUntil(lambda: len(sink.batches) == 2, timeout=10_000)
    assert sink.batches[1]["cases"]["upsert"] == []
    assert set(layers.points) == {mine.case_id}
