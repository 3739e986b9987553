"""Clearing a live critical alarm asks for a reason (the dialog's OK waits for it); the alert
panel's "Cleared today" lists today's cleared alerts with who, when and why."""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from db.alerts import lifecycle as alerts
from db.auth.roles import Role
from db.models import Sensor
from db.worktime.clock import SHANGHAI
from desktop.alerts.cleared import shanghai_day
from desktop.alerts.dialogs import ClearDialog
from desktop.alerts.panel import AlertPanel
from tests.desktop.alerts.test_alert_panel import add_sensor, alarm
from tests.desktop.shots import shot


def _row(env, alert_id: int) -> alerts.AlertRow:
    with env.database.read() as s:
        return alerts.alert_rows(s, [alert_id])[0]


def _ok(dialog: ClearDialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def _panel(qtbot, ctx) -> AlertPanel:
    panel = AlertPanel(ctx, sound=False)
    qtbot.addWidget(panel)
    panel.resize(800, 700)
    panel.show()
    qtbot.waitUntil(lambda: ctx.reads.pending == 0, timeout=10_000)
    return panel


def test_the_note_is_required_for_an_unacknowledged_critical_alarm_only(qtbot, sqlite_env):
    critical = alerts.raise_alert(sqlite_env.database, **alarm(None, "critical", key="119:x"))
    major = alerts.raise_alert(sqlite_env.database, **alarm(None, "major", key="110:y"))
    dialog = ClearDialog(_row(sqlite_env, critical))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.reason_required and not _ok(dialog).isEnabled()
    assert dialog.reason_hint.isVisible() and "required" in dialog.note_edit.placeholderText()
    dialog.note_edit.setText("   ")  # blanks are no reason
    assert not _ok(dialog).isEnabled()
    qtbot.keyClick(dialog.note_edit, Qt.Key.Key_Return)  # Enter cannot slip past it
    assert dialog.result() != QDialog.DialogCode.Accepted and dialog.isVisible()
    shot(dialog, "06a-a-live-critical-alarm-needs-a-reason")
    dialog.note_edit.setText("119已到场处置")
    assert _ok(dialog).isEnabled()
    assert dialog.values() == {"note": "119已到场处置"}

    lesser = ClearDialog(_row(sqlite_env, major))
    qtbot.addWidget(lesser)
    lesser.show()
    assert not lesser.reason_required and _ok(lesser).isEnabled()
    assert not lesser.reason_hint.isVisible()


def test_an_acknowledged_critical_sensor_still_at_its_level_asks_for_a_reason(qtbot, env,
                                                                             ctx_factory):
    sid = add_sensor(env, "water_level")  # red (critical) from 0.8 m
    aid = alerts.raise_alert(env.database, **alarm(sid, "critical", value=0.9))
    alerts.acknowledge(env.database, env.users[Role.DUTY_OFFICER], aid, 1)
    with env.database.write() as s:
        s.get(Sensor, sid).last_value = 0.85  # still red
    ctx = ctx_factory(env, Role.DUTY_OFFICER)
    panel = _panel(qtbot, ctx)
    qtbot.waitUntil(lambda: panel.select_alert(aid), timeout=5000)
    panel.clear_alert()
    dialog = panel.current_dialog
    assert isinstance(dialog, ClearDialog)
    # Acknowledged: not known to be live until the database has looked at the sensor.
    qtbot.waitUntil(lambda: dialog.reason_required, timeout=5000)
    assert not _ok(dialog).isEnabled() and dialog.reason_hint.isVisible()
    dialog.note_edit.setText("泵车已到场，水位正在下降")
    dialog.done(QDialog.DialogCode.Accepted)
    qtbot.waitUntil(lambda: panel.model.row_of(aid) < 0, timeout=5000)
    row = _row(env, aid)
    assert (row.state, row.clear_note) == ("cleared", "泵车已到场，水位正在下降")


def test_cleared_today_lists_who_when_and_why_and_follows_new_clearings(qtbot, env, ctx_factory):
    db, duty, lead = env.database, env.users[Role.DUTY_OFFICER], env.users[Role.SHIFT_LEADER]
    now = dt.datetime.now(dt.UTC)
    today_start, _ = shanghai_day(now)
    yesterday = alerts.raise_alert(db, **alarm(None, "major", key="110:old"),
                                   now=today_start - dt.timedelta(hours=2))
    alerts.clear(db, duty, yesterday, 1, note="昨天的", now=today_start - dt.timedelta(minutes=1))
    today = alerts.raise_alert(db, **alarm(None, "critical", key="119:t1", title="仓库冒烟"))
    alerts.clear(db, lead, today, 1, note="误报：厨房油烟")
    live = alerts.raise_alert(db, **alarm(None, "major", key="110:live", title="井盖缺失"))
    ctx = ctx_factory(env, Role.DUTY_OFFICER)
    panel = _panel(qtbot, ctx)
    assert panel.cleared_view is None  # nothing read until asked for
    qtbot.mouseClick(panel.cleared_button, Qt.MouseButton.LeftButton)
    view = panel.cleared_view
    assert view is not None and view.isVisible() and panel.cleared_button.isChecked()
    qtbot.waitUntil(lambda: len(view.rows) == 1 and not view.loading, timeout=5000)
    cleared_at = _row(env, today).cleared_at.astimezone(SHANGHAI).strftime("%H:%M:%S")
    assert view.texts() == [[cleared_at, "测试值班长", "Critical", "仓库冒烟", "误报：厨房油烟"]]
    assert view.table.editTriggers() == view.table.EditTrigger.NoEditTriggers  # read-only
    # Cleared here, without a note (a major alarm needs none): it appears at once.
    qtbot.waitUntil(lambda: panel.select_alert(live), timeout=5000)
    panel.clear_alert()
    panel.current_dialog.done(QDialog.DialogCode.Accepted)
    qtbot.waitUntil(lambda: len(view.rows) == 2 and not view.loading, timeout=5000)
    assert view.texts()[0][1:] == ["测试值班员", "Major", "井盖缺失", "(no reason given)"]
    shot(panel, "06b-cleared-today-who-when-why")
    # The toggle hides it again.
    qtbot.mouseClick(panel.cleared_button, Qt.MouseButton.LeftButton)
    assert not view.isVisible() and not panel.cleared_button.isChecked()


def test_the_shanghai_day():
    # 2026-03-18 23:30 UTC is 07:30 on the 19th in Shanghai: that day runs 18th 16:00 UTC to
    # 19th 16:00 UTC.
    start, end = shanghai_day(dt.datetime(2026, 3, 18, 23, 30, tzinfo=dt.UTC))
    assert (start, end) == (dt.datetime(2026, 3, 18, 16, 0, tzinfo=dt.UTC),
                            dt.datetime(2026, 3, 19, 16, 0, tzinfo=dt.UTC))
