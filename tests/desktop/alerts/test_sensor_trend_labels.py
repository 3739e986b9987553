"""The sensor trend's threshold labels never print over each other, even for thresholds a
tenth of a metre apart, in either language."""
from __future__ import annotations

import itertools
import json

import pyqtgraph as pg
import pytest

from db.models import Sensor
from desktop.alerts.sensor_trend import SensorTrend
from desktop.core import i18n
from tests.helpers import CENTRE

CLOSE = {"blue": 4.0, "yellow": 4.1, "orange": 4.2, "red": 4.3}


def visible_labels(trend: SensorTrend) -> list[pg.TextItem]:
    """Every text item drawn on the plot (a line's own label is a TextItem too)."""
    return [i for i in trend.plot.scene().items() if isinstance(i, pg.TextItem) and i.isVisible()]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_close_thresholds_get_labels_that_do_not_overlap(qapp, qtbot, ctx_factory, sqlite_env,
                                                          language):
    with sqlite_env.database.write() as s:
        sensor = Sensor(code="S-w", name="积水传感器", kind="water_level", unit="m",
                        lat=CENTRE[0], lon=CENTRE[1], town_id=None,
                        thresholds_json=json.dumps(CLOSE))
        s.add(sensor)
        s.flush()
        sensor_id = sensor.id
    i18n.install(qapp, language)
    try:
        trend = SensorTrend(ctx_factory(sqlite_env))
        qtbot.addWidget(trend)
        trend.resize(600, 220)
        trend.show()
        qtbot.waitExposed(trend)
        trend.show_sensor(sensor_id)
        qtbot.waitUntil(lambda: trend.sensor is not None, timeout=10_000)
        labels = visible_labels(trend)
        assert len(labels) == 4
        # The y range is 0 .. 4.3 × 1.3 = 5.59 m on a plot under 220 px high: 0.1 m is under
        # 4 px, far less than a line of text (~15 px), so labels beside their lines would
        # overlap; laid out, no two rectangles on the scene may intersect.
        rects = [label.sceneBoundingRect() for label in labels]
        assert all(r.height() >= 10 for r in rects)  # real text, not empty items
        if language == "zh_CN":  # the Chinese names (longer or not, the layout is vertical)
            assert any("蓝" in label.textItem.toPlainText() for label in labels)
        for a, b in itertools.combinations(rects, 2):
            assert not a.intersects(b), (a, b)
        # They keep the thresholds' order: the higher threshold's label is higher up.
        by_text = sorted(zip(labels, rects, strict=True), key=lambda lr: lr[1].center().y())
        assert [lr[0].textItem.toPlainText().split()[-1] for lr in by_text] == \
            ["4.3", "4.2", "4.1", "4"]
        # And all stay inside the plot area.
        area = trend.plot.getViewBox().sceneBoundingRect()
        assert all(area.top() - 1 <= r.top() and r.bottom() <= area.bottom() + 1 for r in rects)
    finally:
        i18n.install(qapp, "en")
