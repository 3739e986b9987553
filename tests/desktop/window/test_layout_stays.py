"""The desk layout does not move under the officer's hand: at the default 1920×1080 layout,
selecting a sensor alert shows its trend without changing the alerts dock or how many alerts
the list shows, and the case queue shows all eight of its columns."""
from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QApplication

from db.alerts import lifecycle as alerts
from db.models import Sensor
from desktop.core import i18n
from desktop.queue.model import Col
from tests.desktop.alerts.test_alert_panel import alarm
from tests.desktop.window.test_main_window import close, open_window
from tests.helpers import CENTRE, report


def desk(qtbot, window) -> None:
    """The default desk: a 1920×1080 window in the default layout, laid out."""
    window.resize(1920, 1080)
    window.default_layout(1920)
    QApplication.processEvents()  # the dock layout settles on posted LayoutRequest events


def visible_rows(table) -> int:
    return table.viewport().height() // table.verticalHeader().defaultSectionSize()


def test_selecting_a_sensor_alert_moves_nothing(qtbot, sqlite_env, tmp_path):
    with sqlite_env.database.write() as s:
        sensor = Sensor(code="S-w", name="积水传感器", kind="water_level", unit="m",
                        lat=CENTRE[0], lon=CENTRE[1], town_id=None,
                        thresholds_json=json.dumps({"blue": 0.15, "red": 0.8}))
        s.add(sensor)
        s.flush()
        sensor_id = sensor.id
    from_sensor = alerts.raise_alert(sqlite_env.database, **alarm(sensor_id))
    phoned = alerts.raise_alert(sqlite_env.database, **alarm(None, key="110:layout"))
    window = open_window(qtbot, sqlite_env, tmp_path, feed=False)
    try:
        desk(qtbot, window)
        panel = window.alert_panel
        qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=10_000)
        assert panel.select_alert(phoned)
        QApplication.processEvents()
        dock_before = window.alerts_dock.size()
        rows_before = visible_rows(panel.table)
        list_before = panel.table.height()
        # Eight rows at least stay visible below the header (the list's minimum height).
        assert rows_before >= 8

        assert panel.select_alert(from_sensor)
        qtbot.waitUntil(lambda: panel.trend.sensor is not None and panel.trend.isVisible(),
                        timeout=10_000)
        QApplication.processEvents()
        # Before the fix the trend's pane took its height from the list: 349 px → 159 px,
        # about four rows. Now the trend sits beside the detail in a pane of fixed height.
        assert window.alerts_dock.size() == dock_before
        assert panel.table.height() == list_before
        assert visible_rows(panel.table) == rows_before

        assert panel.select_alert(phoned)  # and hiding it again moves nothing either
        qtbot.waitUntil(lambda: not panel.trend.isVisible(), timeout=5_000)
        QApplication.processEvents()
        assert window.alerts_dock.size() == dock_before
        assert panel.table.height() == list_before
    finally:
        close(window)


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_every_queue_column_is_on_screen_at_the_default_desk(qapp, qtbot, sqlite_env, tmp_path,
                                                              language):
    for i in range(25):  # more than a screenful: the vertical scroll bar takes its width too
        report(sqlite_env, description=f"第{i}件")
    i18n.install(qapp, language)
    try:
        window = open_window(qtbot, sqlite_env, tmp_path, feed=False)
        try:
            desk(qtbot, window)
            table = window.queue.table
            qtbot.waitUntil(lambda: table.model().rowCount() == 25, timeout=10_000)
            QApplication.processEvents()
            header = table.horizontalHeader()
            room = table.viewport().width()
            # Before the fix the columns summed to 830 px in a 688 px viewport: the source and
            # half the assignee column were off to the right (6 of 8 visible).
            for col in range(header.count()):
                left = header.sectionViewportPosition(col)
                assert left >= 0 and left + header.sectionSize(col) <= room, \
                    (col, left, header.sectionSize(col), room)
                assert header.sectionSize(col) >= 30, col  # a real column, not a sliver
            # The short columns are never cut: a number, the time left and, in Chinese (three
            # characters each), the state and the town. The long ones (class, assignee, source,
            # and the English state names) may elide: their tooltips hold the whole text.
            fm = table.fontMetrics()
            model = table.model()
            whole = (Col.NUMBER, Col.TIME_LEFT) + ((Col.STATE, Col.TOWN) if language == "zh_CN" else ())
            for col in whole:
                for row in range(model.rowCount()):
                    text = model.index(row, col).data() or ""
                    assert fm.horizontalAdvance(text) + 8 <= header.sectionSize(col), (col, text)
        finally:
            close(window)
    finally:
        i18n.install(qapp, "en")
