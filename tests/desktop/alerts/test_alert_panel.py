"""The alert panel: live alerts from another process, acknowledged here and seen acknowledged on
a second window; the critical cue and its silence; turning an alert into a case; the sensor
trend holding exactly the readings written, and following new ones live."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from sqlalchemy import insert, select

from db.alerts import lifecycle as alerts
from db.auth.roles import Role
from db.core import feed
from db.core.entities import Entity
from db.models import Alert, Sensor, SensorReading
from desktop.alerts.panel import AlertPanel
from desktop.core.live import LiveFeed
from tests.desktop.conftest import make_ctx
from tests.desktop.window.test_main_window import close, open_window
from tests.helpers import CENTRE

RAISE_SCRIPT = """
import sys
from db.core.engine import open_database
from db.alerts import lifecycle as alerts
db = open_database(sys.argv[1], migrate=False)
print(alerts.raise_alert(db, source="sensor", type="gas", severity="critical",
      dedup_key="sensor:%s:gas" % sys.argv[2], title="燃气浓度超切断值", detail="读数 41 %LEL",
      lat=23.02, lon=113.75, town_id=None, sensor_id=int(sys.argv[2]), camera_id=None,
      value=41.0))
"""
WATER = {"blue": 0.15, "yellow": 0.3, "orange": 0.5, "red": 0.8}


def add_sensor(env, kind: str = "gas") -> int:
    thresholds = {"alarm": 20, "cutoff": 35} if kind == "gas" else WATER
    with env.database.write() as s:
        sensor = Sensor(code=f"S-{kind}", name=f"测试{kind}传感器", kind=kind,
                        unit="%LEL" if kind == "gas" else "m", lat=CENTRE[0], lon=CENTRE[1],
                        town_id=None, thresholds_json=json.dumps(thresholds))
        s.add(sensor)
        s.flush()
        return sensor.id


def alarm(sensor_id: int | None, severity: str = "major", key: str | None = None, **kw) -> dict:
    return {"source": "sensor" if sensor_id else "110", "type": "water_level" if sensor_id else "transfer",
            "severity": severity, "dedup_key": key or f"sensor:{sensor_id}:water_level",
            "title": kw.pop("title", "积水橙色预警"), "detail": kw.pop("detail", "读数 0.55 m"),
            "lat": CENTRE[0], "lon": CENTRE[1], "town_id": None, "sensor_id": sensor_id,
            "camera_id": None, "value": kw.pop("value", 0.55), **kw}


def panel_with_feed(qtbot, env, role=Role.DUTY_OFFICER):
    ctx = make_ctx(env, role)
    panel = AlertPanel(ctx, sound=False)
    qtbot.addWidget(panel)
    panel.resize(700, 600)
    panel.show()
    live = LiveFeed(env.database.url)

    def on_batch(batch: dict) -> None:
        if batch.get("alert"):
            panel.apply_changes(batch["alert"])
        if batch.get("sensor"):
            panel.refresh_sensors(batch["sensor"])

    live.sig_batch.connect(on_batch)
    # Ready when the follower has taken its starting point and the first list is loaded: an
    # alert raised before either would be in neither.
    live.start()
    started = live._last_alive  # the worker's first heartbeat comes after its starting point
    qtbot.waitUntil(lambda: live._last_alive > started, timeout=15_000)
    qtbot.waitUntil(lambda: ctx.reads.pending == 0, timeout=10_000)
    return panel, live, ctx


def shut(qtbot, panel, live, ctx) -> None:
    live.stop()
    panel.shutdown()
    qtbot.waitUntil(lambda: ctx.reads.pending == 0 and ctx.writes.pending == 0, timeout=10_000)
    ctx.reads.shutdown()
    ctx.writes.shutdown()


def test_alert_from_another_process_is_acknowledged_here_and_there(qtbot, pg_env, tmp_path):
    env = pg_env
    sensor_id = add_sensor(env)
    here = open_window(qtbot, env, tmp_path / "a")
    there = open_window(qtbot, env, tmp_path / "b", Role.SHIFT_LEADER)
    try:
        out = subprocess.run([sys.executable, "-c", RAISE_SCRIPT, env.database.url, str(sensor_id)],
                             capture_output=True, text=True, timeout=120, check=True)
        alert_id = int(out.stdout.strip())
        for w in (here, there):
            qtbot.waitUntil(lambda w=w: w.alert_panel.model.row_of(alert_id) == 0, timeout=3000)
            # Critical and unacknowledged: the panel says so in red, the title (the taskbar) too.
            qtbot.waitUntil(lambda w=w: w.alert_panel.attention_bar.isVisible(), timeout=2000)
            assert w.windowTitle().startswith("(1 critical) ")
        # The keyboard, as at a console: F9 goes to the alert waiting, Alt+A acknowledges it.
        here.activateWindow()
        qtbot.waitUntil(here.isActiveWindow, timeout=3000)
        qtbot.keyClick(here.queue, Qt.Key.Key_F9)
        assert here.alert_panel.selected_alert_id() == alert_id
        assert here.alert_panel.table.hasFocus()
        qtbot.keyClick(here.alert_panel.table, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: here.alert_panel.model.alert(0).state == "acknowledged",
                        timeout=5000)
        row = there.alert_panel.model
        qtbot.waitUntil(lambda: row.alert(row.row_of(alert_id)).state == "acknowledged",
                        timeout=3000)
        seen = row.alert(row.row_of(alert_id))
        assert seen.acknowledged_by == "测试值班员" and seen.acknowledged_at is not None
        qtbot.waitUntil(lambda: not there.alert_panel.attention_bar.isVisible(), timeout=2000)
        assert not here.alert_panel.attention_bar.isVisible()
        assert here.windowTitle() == there.windowTitle() == "CityOps City Management Command Center"
    finally:
        close(here)
        close(there)


def test_repeats_count_on_one_row_and_the_list_is_by_severity(qtbot, env):
    panel, live, ctx = panel_with_feed(qtbot, env)
    try:
        minor = alerts.raise_alert(env.database, **alarm(None, "minor", key="110:a"))
        critical = alerts.raise_alert(env.database, **alarm(None, "critical", key="110:b"))
        qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=3000)
        assert [r.id for r in panel.model.alerts] == [critical, minor]
        again = alerts.raise_alert(env.database, **alarm(None, "minor", key="110:a"))
        assert again == minor
        qtbot.waitUntil(lambda: panel.model.alert(1).repeat_count == 2, timeout=3000)
        assert panel.model.rowCount() == 2
        assert panel.model.index(1, 3).data() == "×2"
    finally:
        shut(qtbot, panel, live, ctx)


def test_the_critical_cue_blinks_and_silence_rearms_on_a_new_alarm(qtbot, env):
    panel, live, ctx = panel_with_feed(qtbot, env)
    try:
        alerts.raise_alert(env.database, **alarm(None, "critical", key="119:fire1"))
        qtbot.waitUntil(lambda: panel.attention_bar.isVisible(), timeout=3000)
        assert panel.sound.sounding
        phases = set()
        background = Qt.ItemDataRole.BackgroundRole  # it blinks: painted, then not

        def seen_both() -> bool:
            colour = panel.model.index(0, 0).data(background)
            phases.add(colour.name() if colour is not None else None)
            return len(phases) == 2

        qtbot.waitUntil(seen_both, timeout=3000)
        panel.sound.silence()
        assert not panel.sound.sounding and panel.sound.silenced
        alerts.raise_alert(env.database, **alarm(None, "critical", key="119:fire2"))
        qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=3000)
        assert panel.sound.sounding and not panel.sound.silenced  # the new alarm sounds again
    finally:
        shut(qtbot, panel, live, ctx)


def test_turn_into_case_carries_the_alert_and_links_both_ways(qtbot, env):
    sensor_id = add_sensor(env, "water_level")
    alert_id = alerts.raise_alert(env.database, **alarm(sensor_id, "major", title="<b>积水</b>"))
    panel, live, ctx = panel_with_feed(qtbot, env)
    try:
        qtbot.waitUntil(lambda: panel.select_alert(alert_id), timeout=3000)
        assert "<b>积水</b>" in panel.detail_label.text()  # shown literally, never as markup
        opened = []
        panel.sig_open_case.connect(opened.append)
        panel.open_to_case()
        qtbot.waitUntil(lambda: panel.current_dialog is not None, timeout=5000)
        dialog = panel.current_dialog
        with env.database.read() as s:
            draft = alerts.case_draft(s, alert_id)
        assert draft.class_id is not None  # waterlogging has a class in the catalogue
        assert dialog.class_combo.currentData() == draft.class_id
        assert dialog.description_edit.toPlainText() == draft.description
        dialog.done(QDialog.DialogCode.Accepted)
        qtbot.waitUntil(lambda: bool(opened), timeout=5000)
        qtbot.waitUntil(lambda: panel.model.alert(panel.model.row_of(alert_id)).case_no is not None,
                        timeout=3000)
        with env.database.read() as s:
            linked = alerts.alerts_for_case(s, opened[0])
            case = s.get(__import__("db.models", fromlist=["Case"]).Case, opened[0])
            assert case.source == "sensor" and case.class_id == draft.class_id
            assert case.external_ref == f"alert:{alert_id}"
            assert abs(case.lat - CENTRE[0]) < 1e-9 and abs(case.lon - CENTRE[1]) < 1e-9
        assert [a.id for a in linked] == [alert_id]
        assert linked[0].case_id == opened[0]
    finally:
        shut(qtbot, panel, live, ctx)


def test_the_trend_holds_the_readings_written_and_follows_new_ones(qtbot, env):
    sensor_id = add_sensor(env, "water_level")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    written = [(now - dt.timedelta(seconds=10 * i), round(0.1 + 0.001 * i, 3)) for i in range(2000)]
    old = (now - dt.timedelta(hours=25), 9.9)  # outside the 24-hour window
    with env.database.write() as s:
        s.execute(insert(SensorReading), [{"sensor_id": sensor_id, "at": at, "value": v}
                                          for at, v in written + [old]])
    alert_id = alerts.raise_alert(env.database, **alarm(sensor_id, "major"))
    panel, live, ctx = panel_with_feed(qtbot, env)
    try:
        qtbot.waitUntil(lambda: panel.select_alert(alert_id), timeout=3000)
        qtbot.waitUntil(lambda: panel.trend.values.size == len(written), timeout=5000)
        ordered = sorted(written)
        assert np.array_equal(panel.trend.times, [at.timestamp() for at, _ in ordered])
        assert np.array_equal(panel.trend.values, [v for _, v in ordered])
        x, y = panel.trend.curve.xData, panel.trend.curve.yData  # the curve's full data
        assert np.array_equal(y, [v for _, v in ordered]) and len(x) == len(written)
        assert len(panel.trend.threshold_lines) == 4
        assert sorted(line.value() for line in panel.trend.threshold_lines) == sorted(WATER.values())

        later = dt.datetime.now(dt.UTC)
        with env.database.write() as s:
            s.execute(insert(SensorReading), [{"sensor_id": sensor_id, "at": later, "value": 0.66}])
            feed.publish(s, Entity.SENSOR, [sensor_id])
        qtbot.waitUntil(lambda: panel.trend.values.size == len(written) + 1, timeout=3000)
        assert panel.trend.values[-1] == 0.66
    finally:
        shut(qtbot, panel, live, ctx)


def test_an_inspector_is_refused_and_nothing_changes(qtbot, env):
    alert_id = alerts.raise_alert(env.database, **alarm(None, "major", key="110:x"))
    panel, live, ctx = panel_with_feed(qtbot, env, Role.INSPECTOR)
    try:
        qtbot.waitUntil(lambda: panel.select_alert(alert_id), timeout=3000)
        panel.acknowledge()
        qtbot.waitUntil(lambda: panel.message_kind == "error", timeout=5000)
        with env.database.read() as s:
            assert s.scalar(select(Alert.state).where(Alert.id == alert_id)) == "active"
    finally:
        shut(qtbot, panel, live, ctx)


def test_a_repeating_alarm_keeps_its_place_and_the_officers_selection(qtbot, env):
    panel, live, ctx = panel_with_feed(qtbot, env)
    try:
        ids = [alerts.raise_alert(env.database, **alarm(None, "major", key=f"110:r{i}"))
               for i in range(3)]
        qtbot.waitUntil(lambda: panel.model.rowCount() == 3, timeout=3000)
        order = [r.id for r in panel.model.alerts]
        assert order == ids[::-1]  # newest alarm first
        selected = []
        panel.sig_alert_selected.connect(selected.append)
        panel.select_alert(ids[0])  # the oldest, at the bottom
        for _ in range(2):
            alerts.raise_alert(env.database, **alarm(None, "major", key="110:r0"))
        qtbot.waitUntil(lambda: panel.model.alert(2).repeat_count == 3, timeout=3000)
        assert [r.id for r in panel.model.alerts] == order
        assert panel.selected_alert_id() == ids[0] and [a.id for a in selected] == [ids[0]]
        # An escalation moves the row to the top; the selection goes with it.
        alerts.raise_alert(env.database, **alarm(None, "critical", key="110:r0"))
        qtbot.waitUntil(lambda: panel.model.alert(0).id == ids[0], timeout=3000)
        assert panel.selected_alert_id() == ids[0]
        assert [a.id for a in selected] == [ids[0]]  # no spurious re-selection
    finally:
        shut(qtbot, panel, live, ctx)


def test_silence_holds_while_the_silenced_alarm_repeats(qtbot, env):
    panel, live, ctx = panel_with_feed(qtbot, env)
    try:
        alerts.raise_alert(env.database, **alarm(None, "critical", key="119:s1"))
        qtbot.waitUntil(lambda: panel.sound.sounding, timeout=3000)
        panel.sound.silence()
        for _ in range(3):
            alerts.raise_alert(env.database, **alarm(None, "critical", key="119:s1"))
        qtbot.waitUntil(lambda: panel.model.alert(0).repeat_count == 4, timeout=3000)
        assert panel.sound.silenced and not panel.sound.sounding
    finally:
        shut(qtbot, panel, live, ctx)


def test_f9_goes_to_the_alert_waiting_for_acknowledgement(qtbot, env):
    panel, live, ctx = panel_with_feed(qtbot, env)
    try:
        seen = alerts.raise_alert(env.database, **alarm(None, "critical", key="119:f1"))
        waiting = alerts.raise_alert(env.database, **alarm(None, "critical", key="119:f2"))
        qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=3000)
        with env.database.read() as s:
            version = alerts.alert_rows(s, [seen])[0].version
        alerts.acknowledge(env.database, env.users[Role.SHIFT_LEADER], seen, version)
        # The acknowledged one then repeats: it must not come back above the waiting one.
        alerts.raise_alert(env.database, **alarm(None, "critical", key="119:f1"))
        qtbot.waitUntil(lambda: panel.model.alert(1).state == "acknowledged", timeout=3000)
        panel.select_most_urgent()
        assert panel.selected_alert_id() == waiting
    finally:
        shut(qtbot, panel, live, ctx)


def test_clearing_asks_first_and_leaves_nothing_selected(qtbot, env):
    first = alerts.raise_alert(env.database, **alarm(None, "major", key="110:c1"))
    alerts.raise_alert(env.database, **alarm(None, "major", key="110:c2"))
    panel, live, ctx = panel_with_feed(qtbot, env)
    try:
        qtbot.waitUntil(lambda: panel.select_alert(first), timeout=3000)
        panel.clear_alert()
        dialog = panel.current_dialog
        assert dialog is not None  # nothing is cleared without a confirmation
        dialog.note_edit.setText("积水已退")
        dialog.done(QDialog.DialogCode.Accepted)
        qtbot.waitUntil(lambda: panel.model.row_of(first) < 0, timeout=5000)
        assert panel.selected_alert_id() is None  # a second Alt+X clears nothing unseen
        assert not panel.clear_button.isEnabled()
        with env.database.read() as s:
            row = alerts.alert_rows(s, [first])[0]
        assert (row.state, row.clear_note, row.cleared_by) == ("cleared", "积水已退", "测试值班员")
    finally:
        shut(qtbot, panel, live, ctx)


def test_a_tooltip_shows_hostile_alarm_text_literally(qtbot, env):
    alerts.raise_alert(env.database, **alarm(None, "major", key="110:h",
                                             title='<img src="file:///etc/passwd">告警'))
    panel, live, ctx = panel_with_feed(qtbot, env)
    try:
        qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=3000)
        tip = panel.model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
        assert "<img" not in tip and "&lt;img src=&quot;file:///etc/passwd&quot;&gt;告警" in tip
    finally:
        shut(qtbot, panel, live, ctx)
