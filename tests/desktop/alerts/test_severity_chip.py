"""The severity word stays legible on every row state: a chip of its own colours.

Before, the word was red text (#ff4d4f) straight on the row: on the blue selection (#1f6feb)
that is 1.4:1, on the blinking red row (#5c1414) 4.1:1. The chip carries its own fill.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from db.alerts import lifecycle as alerts
from desktop.alerts.model import Col
from desktop.core import theme
from tests.desktop.alerts.test_alert_panel import alarm, panel_with_feed, shut


def _luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_every_chip_reads_at_aa_contrast_and_the_old_red_on_blue_did_not():
    # By hand: #ff4d4f is R 1.0, G 0x4d=77 -> 0.0742, B 0x4f=79 -> 0.0782:
    #   L = 0.2126 + 0.7152*0.0742 + 0.0722*0.0782 = 0.2713.
    # #1f6feb: R 31 -> 0.0137, G 111 -> 0.1589, B 235 -> 0.8308:
    #   L = 0.0029 + 0.1137 + 0.0600 = 0.1766.  (0.2713+0.05)/(0.1766+0.05) = 1.42.
    assert round(_contrast("#ff4d4f", theme.SELECTION), 2) == 1.42
    # The critical chip, white on #b42318: R 180 -> 0.4564, G 35 -> 0.0168, B 24 -> 0.0091:
    #   L = 0.0970 + 0.0120 + 0.0007 = 0.1097.  (1.0+0.05)/(0.1097+0.05) = 6.57.
    assert round(_contrast(*theme.SEVERITY_CHIPS["critical"]), 2) == 6.57
    for severity, (fill, ink) in theme.SEVERITY_CHIPS.items():
        assert _contrast(fill, ink) >= 4.5, severity


def test_a_selected_critical_row_paints_the_chip_not_red_on_blue(qtbot, env):
    panel, live, ctx = panel_with_feed(qtbot, env)
    try:
        alerts.raise_alert(env.database, **alarm(None, "critical", key="119:chip"))
        qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=3000)
        panel.table.selectRow(0)
        panel.model.blink_phase = False
        index = panel.model.index(0, Col.SEVERITY)
        rect = panel.table.visualRect(index)
        image = panel.table.viewport().grab(rect).toImage()
        colours = {QColor(image.pixel(QPoint(x, y))).name()
                   for x in range(image.width()) for y in range(image.height())}
        fill, ink = theme.SEVERITY_CHIPS["critical"]
        assert fill in colours  # the chip's fill
        assert ink in colours  # its white word
        assert theme.SEVERITY_COLORS["critical"] not in colours  # no red text on the selection
        assert index.data(Qt.ItemDataRole.DisplayRole) == "Critical"
    finally:
        shut(qtbot, panel, live, ctx)
