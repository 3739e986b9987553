"""No clipped words: every dialog's buttons and the tables' headers show their whole text, in
English and in Chinese, at the desk's type and at the wall's doubled type.

A button narrower than its own size hint, or a header section narrower than its title, is what
the officer saw as "Extension reque…" and "Assi…". The check is made on the real widgets, laid
out and shown offscreen; each case is also grabbed to a PNG under the test's tmp folder.
"""
from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractButton, QApplication, QHeaderView, QWidget

from db.alerts import lifecycle as alerts
from db.auth.roles import Role
from db.cases.queries import LOCAL, RESPONSIBLE, Choice
from db.cases.workflow import State, Step
from desktop.alerts.dialogs import ClearDialog, LinkCaseDialog, ToCaseDialog
from desktop.cases.step_dialogs import dialog_for
from desktop.core import i18n, theme
from tests.desktop.window.test_main_window import close, open_window
from tests.helpers import case_in_state

CLASSES = [Choice(1, "井盖缺失", "公用设施"), Choice(2, "暴露垃圾", "市容环境")]
DEPARTMENTS = [Choice(7, "莞城街道城市管理和综合执法办公室", relation=RESPONSIBLE),
               Choice(8, "东莞市水务局", relation=LOCAL), Choice(9, "东莞市住房和城乡建设局")]
PEOPLE = [Choice(3, "张伟", "网格长"), Choice(4, "李娜", "网格员")]


def clipped(widget: QWidget) -> list[str]:
    """What in ``widget`` shows less than its text: buttons below their size hint, header
    sections below their title."""
    out = []
    for button in widget.findChildren(QAbstractButton):
        if button.isVisible() and button.text() and button.width() < button.sizeHint().width():
            out.append(f"button {button.text()!r}: {button.width()} < {button.sizeHint().width()}")
    for header in widget.findChildren(QHeaderView):
        if not header.isVisible() or header.orientation().name != "Horizontal":
            continue
        model = header.model()
        for section in range(header.count()):
            if header.isSectionHidden(section):
                continue
            title = str(model.headerData(section, header.orientation()) or "")
            bold = header.font()
            bold.setBold(True)  # the theme draws header titles bold
            fm = QFontMetrics(bold)
            need = fm.horizontalAdvance(title) + 10  # the theme's 5 px padding, either side
            if title and header.sectionSize(section) < need:
                out.append(f"header {title!r}: {header.sectionSize(section)} < {need}")
    return out


@pytest.fixture(params=[("en", 1.0), ("zh_CN", 1.0), ("en", 2.0), ("zh_CN", 2.0)],
                ids=["en-desk", "zh-desk", "en-wall", "zh-wall"])
def look(request, qapp):
    """The language and the type size (the wall screen doubles it)."""
    lang, scale = request.param
    font, sheet, palette = QApplication.font(), qapp.styleSheet(), QApplication.palette()
    i18n.install(qapp, lang)
    theme.apply_theme(qapp, scale)  # as the app does at start-up: the theme's fonts and padding
    yield lang, scale
    qapp.setStyleSheet(sheet)
    QApplication.setPalette(palette)
    QApplication.setFont(font)
    i18n.install(qapp, "en")


def _shown(qtbot, dialog, tmp_path, name):
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    QCoreApplication.processEvents()
    dialog.grab().save(str(tmp_path / f"{name}.png"))
    return clipped(dialog)


def test_every_step_dialog_shows_its_whole_text(qtbot, look, tmp_path):
    problems = {}
    for step in Step:
        dialog = dialog_for(step, "2026120100000123", classes=CLASSES, departments=DEPARTMENTS,
                            people=PEOPLE, class_id=1, grid_name="莞城街道东正社区第3网格")
        found = _shown(qtbot, dialog, tmp_path, step.value)
        if found:
            problems[step.value] = found
        dialog.close()
    assert problems == {}


def test_the_alert_dialogs_show_their_whole_text(qtbot, look, sqlite_env, tmp_path):
    alert_id = alerts.raise_alert(sqlite_env.database, source="sensor", type="gas",
                                  severity="critical", dedup_key="gas:clip", title="燃气浓度超切断值",
                                  detail="读数 41 %LEL", lat=23.02, lon=113.75, value=41.0)
    with sqlite_env.database.read() as s:
        row = alerts.alert_rows(s, [alert_id])[0]
        draft = alerts.case_draft(s, alert_id)
    problems = {}
    for name, dialog in (("clear", ClearDialog(row)), ("link", LinkCaseDialog(row)),
                         ("to_case", ToCaseDialog(row, draft, CLASSES))):
        found = _shown(qtbot, dialog, tmp_path, name)
        if found:
            problems[name] = found
        dialog.close()
    assert problems == {}


@pytest.mark.parametrize("role", [Role.DEPARTMENT_HANDLER, Role.SHIFT_LEADER])
def test_the_window_shows_whole_headers_and_step_buttons(qtbot, look, sqlite_env, tmp_path, role):
    """The queue's and the alerts' headers, and the detail's step buttons of a case being
    handled (where "Request extension" and "Park" live), at the desk layout."""
    handling = case_in_state(sqlite_env, State.HANDLING)
    lang, scale = look
    window = open_window(qtbot, sqlite_env, tmp_path / "map", role, feed=False)
    try:
        window.resize(int(1920 * scale), int(1080 * scale))
        window.default_layout(int(1920 * scale))
        window.detail.show_case(handling.case_id)
        qtbot.waitUntil(lambda: window.detail.current_case_id == handling.case_id, timeout=10_000)
        QCoreApplication.processEvents()
        window.grab().save(str(tmp_path / f"window-{role.value}.png"))
        found = clipped(window.detail) + clipped(window.queue) + clipped(window.alert_panel)
        assert found == [], "\n".join(found)
    finally:
        close(window)
