"""The severity word drawn as a chip: its own fill and text colour, whatever the row's state.

Red text on the red blink or on the blue selection read at 1.4:1; a chip keeps the word at
4.5:1 or better on every background (colours in :data:`desktop.core.theme.SEVERITY_CHIPS`).
A model gives the severity code under :data:`SEVERITY_ROLE`; the display text is the word.
"""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from desktop.core import theme

SEVERITY_ROLE = Qt.ItemDataRole.UserRole + 7


class SeverityChipDelegate(QStyledItemDelegate):
    """Paints the cell as usual (selection, blink), then the chip over it."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        chip = theme.SEVERITY_CHIPS.get(index.data(SEVERITY_ROLE))
        if chip is None:
            super().paint(painter, option, index)
            return
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        background = QStyleOptionViewItem(option)
        self.initStyleOption(background, index)
        background.text = ""
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, option.widget)
        fill, ink = chip
        font = index.data(Qt.ItemDataRole.FontRole) or option.font
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        width = min(option.rect.width() - 4, metrics.horizontalAdvance(text) + 12)
        height = min(option.rect.height() - 4, metrics.height() + 4)
        rect = QRectF(option.rect.x() + 2, option.rect.center().y() - height / 2 + 1, width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(fill))
        painter.drawRoundedRect(rect, 3, 3)
        painter.setPen(QColor(ink))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex):
        size = super().sizeHint(option, index)
        size.setWidth(size.width() + 12)
        return size
