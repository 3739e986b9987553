"""A menu over the map has a visible edge and separator (before: none, and a faint line)."""
from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMenu, QWidget

from desktop.core import theme


def test_a_menu_shows_its_border_and_separator(qtbot, qapp):
    host = QWidget()
    qtbot.addWidget(host)
    host.setStyleSheet(theme.stylesheet())
    menu = QMenu(host)
    menu.addAction("打开案件")
    menu.addSeparator()
    menu.addAction("复制坐标")
    menu.ensurePolished()
    menu.resize(menu.sizeHint())
    image = menu.grab().toImage()
    mid = image.height() // 2
    # The left edge, the top edge: the border colour, not the menu's fill.
    assert QColor(image.pixel(0, mid)).name() == theme.MENU_BORDER
    assert QColor(image.pixel(image.width() // 2, 0)).name() == theme.MENU_BORDER
    # The separator: a line of TEXT_DIM somewhere down the middle column, between the items.
    column = {QColor(image.pixel(image.width() // 2, y)).name() for y in range(2, image.height() - 2)}
    assert theme.TEXT_DIM in column
