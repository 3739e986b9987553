"""Small widgets every panel's dialogs share (a feature package never imports another's)."""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QCompleter, QHeaderView, QTableView

from db.cases.queries import Choice


def fixed_rows(table: QTableView) -> int:
    """Uniform, fixed row heights for a list (a million rows never ask for their size), the
    same on every list of the screen: the font's line and a third again (1.35), enough air to read
    at night without costing the desk rows. Returns the height."""
    header = table.verticalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    height = max(26, round(table.fontMetrics().height() * 1.35))
    header.setDefaultSectionSize(height)
    return height


def class_text(choice: Choice) -> str:
    return f"{choice.name}（{choice.hint}）" if choice.hint else choice.name


def class_combo(classes: Sequence[Choice], current: int | None, *,
                 first: tuple[str, int | None] | None = None) -> QComboBox:
    """An editable combo: type part of a class name and pick from what matches."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.setMaxVisibleItems(20)
    if first is not None:
        combo.addItem(*first)
    for c in classes:
        combo.addItem(class_text(c), c.id)
    completer = combo.completer()
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    index = combo.findData(current) if current is not None else 0
    combo.setCurrentIndex(max(0, index))
    return combo


def combo_value(combo: QComboBox):
    """The data of the item whose text is in the edit field, else the sentinel ``...``."""
    index = combo.currentIndex()
    if index < 0 or combo.itemText(index) != combo.currentText():
        index = combo.findText(combo.currentText(), Qt.MatchFlag.MatchExactly)
    return combo.itemData(index) if index >= 0 else ...
