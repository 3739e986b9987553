"""Alerts of one event on the panel: three gas alerts on one leak are one group line with its
count; Right opens it (members indented below), Left folds it; Alt+A on the group line
acknowledges all three, on a member line that alert alone."""
from __future__ import annotations

from PySide6.QtCore import Qt
from sqlalchemy import select

from db.alerts import lifecycle as alerts
from db.auth.roles import Role
from db.geo.distance import offset
from db.models import AuditLog
from desktop.alerts.model import Col
from desktop.alerts.panel import AlertPanel
from tests.desktop.shots import shot
from tests.helpers import CENTRE

# Three gas sensors along a street, 200 m apart (offset is the exact inverse of the
# haversine distance): well inside the default 500 m; raised within a second of each other,
# well inside the default 10 minutes. The water alert beside the first is another type.
PLACES = [CENTRE, offset(*CENTRE, 0.2, 90), offset(*CENTRE, 0.4, 90)]


def gas(n: int, severity: str) -> dict:
    lat, lon = PLACES[n]
    return {"source": "sensor", "type": "gas", "severity": severity, "dedup_key": f"sensor:g{n}:gas",
            "title": "燃气浓度超切断值", "detail": "读数 41 %LEL", "lat": lat, "lon": lon,
            "value": 41.0}


def leak(env) -> tuple[list[int], int]:
    ids = [alerts.raise_alert(env.database, **gas(n, s))
           for n, s in enumerate(("critical", "major", "critical"))]
    water = alerts.raise_alert(env.database, source="sensor", type="water_level", severity="minor",
                               dedup_key="sensor:w:water_level", title="积水蓝色预警",
                               lat=CENTRE[0], lon=CENTRE[1], value=0.2)
    return ids, water


def panel_for(qtbot, ctx) -> AlertPanel:
    panel = AlertPanel(ctx, sound=False)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    qtbot.waitUntil(lambda: ctx.reads.pending == 0 and panel.model.rowCount() > 0, timeout=10_000)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=3000)
    return panel


def states(env, ids) -> list[str]:
    with env.database.read() as s:
        return [r.state for r in alerts.alert_rows(s, ids)]


def test_one_leak_is_one_line_that_opens_and_is_acknowledged_together(qtbot, env, ctx_factory):
    ids, water = leak(env)
    ctx = ctx_factory(env, Role.DUTY_OFFICER)
    panel = panel_for(qtbot, ctx)
    model = panel.model
    # Two lines: the leak (critical, so first) and the water alert (minor).
    assert model.rowCount() == 2
    group = model.group(0)
    assert group is not None and group.count == 3 and sorted(group.ids) == sorted(ids)
    assert model.alert(1).id == water
    # Members worst first, newest first within a level: the third (critical, raised last),
    # the first (critical), the second (major).
    assert group.ids == [ids[2], ids[0], ids[1]]
    assert model.index(0, Col.TITLE).data() == "▸ 3 × 燃气浓度超切断值 · Critical"  # no town here; English UI in tests
    assert model.index(0, Col.SEVERITY).data() == "Critical"  # the worst member's

    # Right on the group line shows the members below it, indented; Left folds them.
    assert panel.select_group(group.key)
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Right)
    assert model.rowCount() == 5
    assert [model.alert(r).id for r in (1, 2, 3)] == group.ids and model.alert(4).id == water
    assert model.index(1, Col.TITLE).data() == "    燃气浓度超切断值"
    assert model.index(0, Col.TITLE).data().startswith("▾ 3 × ")
    shot(panel, "08-one-leak-is-one-line-opened")
    assert panel.selected_group().key == group.key  # still on the group line
    qtbot.keyClick(panel.table, Qt.Key.Key_Down)
    assert panel.selected_alert_id() == ids[2]
    qtbot.keyClick(panel.table, Qt.Key.Key_Left)  # on a member: fold, back to the group line
    assert model.rowCount() == 2 and panel.selected_group().key == group.key

    # Alt+A on the group line: all three, one audit row each; the water alert untouched.
    assert panel.ack_button.isEnabled()
    qtbot.keyClick(panel.table, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: all(m.state == "acknowledged" for m in model.group(
        model.row_of_group(group.key)).members), timeout=5000)
    assert states(env, ids) == ["acknowledged"] * 3
    assert states(env, [water]) == ["active"]
    with env.database.read() as s:
        acked = sorted(s.scalars(select(AuditLog.entity_id)
                                 .where(AuditLog.action == "alert.acknowledge")))
    assert acked == sorted(ids)
    assert panel.selected_group().key == group.key and not panel.ack_button.isEnabled()


def test_alt_a_on_a_member_acknowledges_that_alert_alone(qtbot, env, ctx_factory):
    ids, _water = leak(env)
    ctx = ctx_factory(env, Role.DUTY_OFFICER)
    panel = panel_for(qtbot, ctx)
    # Choosing an alert folded into a group opens the group at it.
    assert panel.select_alert(ids[1])
    assert panel.model.rowCount() == 5 and panel.selected_alert_id() == ids[1]
    qtbot.keyClick(panel.table, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: panel.model.find(ids[1]).state == "acknowledged", timeout=5000)
    assert states(env, ids) == ["active", "acknowledged", "active"]
    assert panel.selected_alert_id() == ids[1]
