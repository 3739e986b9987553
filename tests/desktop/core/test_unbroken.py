"""A state named in a wrapping message is never split across lines ("待 / 结案")."""
from __future__ import annotations

from PySide6.QtGui import QFont, QTextLayout, QTextOption

from desktop.core.labels import unbroken


def _lines(text: str, width: int) -> list[str]:
    font = QFont(["Noto Sans CJK SC"])
    font.setPointSize(12)
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)  # what a word-wrapping QLabel does
    layout.setTextOption(option)
    layout.beginLayout()
    out = []
    while (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        out.append(text[line.textStart():line.textStart() + line.textLength()])
    layout.endLayout()
    return out


def test_the_state_stays_whole_at_every_width(qapp):
    split_before = 0
    for width in range(180, 420, 5):
        plain = _lines("结案完成：案件 2026120200001234 现为“待结案”。", width)
        split_before += not any("待结案" in line for line in plain)
        joined = _lines(f"结案完成：案件 2026120200001234 现为“{unbroken('待结案')}”。", width)
        assert any(unbroken("待结案") in line for line in joined), (width, joined)
        english = _lines(f"Close case done: case 2026120200001234 is now “{unbroken('Awaiting closing')}”.",
                         width)
        assert any(unbroken("Awaiting closing") in line for line in english), (width, english)
    assert split_before > 0  # the plain text did break inside the word at some widths


def test_unbroken_is_invisible_text():
    assert unbroken("待结案") == "待\u2060结\u2060案"
    assert unbroken("Awaiting closing").replace("\u2060", "") == "Awaiting\u00a0closing"
