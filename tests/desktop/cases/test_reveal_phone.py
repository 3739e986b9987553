"""The case detail's "Show number": only for the roles that may call back, the full number on
a click (audited), masked again when another case is shown."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from sqlalchemy import select

from db.auth.roles import Role
from db.cases.workflow import State
from db.models import AuditLog
from desktop.cases.detail import REVEAL_SHORTCUT, STEP_SHORTCUTS
from tests.desktop.cases.test_case_detail import _panel, _show
from tests.helpers import PATHS, report, take

PHONE = "13812345678"


def _reveals(env) -> list[tuple[int, int]]:
    with env.database.read() as s:
        return list(s.execute(select(AuditLog.actor_id, AuditLog.entity_id)
                              .where(AuditLog.action == "case.reveal_phone")).all())


@pytest.mark.parametrize(("role", "allowed"), [
    (Role.DUTY_OFFICER, True), (Role.DISPATCHER, True), (Role.SHIFT_LEADER, True),
    (Role.LEADER, True), (Role.FIELD_OFFICER, False), (Role.INSPECTOR, False),
    (Role.DEPARTMENT_HANDLER, False), (Role.ADMIN, False)])
def test_the_button_is_there_only_for_the_roles_that_may_call_back(qtbot, sqlite_env,
                                                                    ctx_factory, role, allowed):
    case = report(sqlite_env, reporter_phone=PHONE)
    if role in (Role.FIELD_OFFICER, Role.DEPARTMENT_HANDLER):
        for step in PATHS[State.HANDLING]:  # theirs to see once dispatched to them (db.auth.scope)
            case = take(sqlite_env, case, step)
    panel = _panel(qtbot, ctx_factory(sqlite_env, role))
    _show(qtbot, panel, case.case_id)
    assert "138****5678" in panel.reporter_label.text()
    assert panel.reveal_button.isVisibleTo(panel) == allowed
    panel.reveal_phone()  # a shortcut or a stray call from another role reveals nothing
    if not allowed:
        qtbot.wait(0)
        assert panel.revealed_phone is None and _reveals(sqlite_env) == []


def test_a_click_shows_the_full_number_and_another_case_hides_it(qtbot, env, ctx_factory):
    first = report(env, reporter_name="张三", reporter_phone=PHONE)
    second = report(env, reporter_phone="13900001111")
    ctx = ctx_factory(env, Role.DUTY_OFFICER)
    panel = _panel(qtbot, ctx)
    _show(qtbot, panel, first.case_id)
    assert PHONE not in panel.reporter_label.text()
    assert panel.reveal_button.shortcut() == QKeySequence(REVEAL_SHORTCUT)
    assert REVEAL_SHORTCUT not in STEP_SHORTCUTS.values()  # never ambiguous with a step
    qtbot.mouseClick(panel.reveal_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: PHONE in panel.reporter_label.text(), timeout=10_000)
    assert panel.revealed_phone == PHONE
    assert not panel.reveal_button.isVisibleTo(panel)  # shown: nothing more to reveal
    assert _reveals(env) == [(env.users[Role.DUTY_OFFICER], first.case_id)]
    # The same case read again (a change on the feed) keeps it shown, without a new reveal.
    with qtbot.waitSignal(panel.sig_loaded, timeout=10_000):
        panel.reload()
    assert PHONE in panel.reporter_label.text()
    # Another case: masked again, its own number not revealed, the button back.
    _show(qtbot, panel, second.case_id)
    assert PHONE not in panel.reporter_label.text()
    assert "139****1111" in panel.reporter_label.text()
    assert panel.revealed_phone is None and panel.reveal_button.isVisibleTo(panel)
    # Back to the first: masked too (a reveal lasts while its case stays on screen).
    _show(qtbot, panel, first.case_id)
    assert PHONE not in panel.reporter_label.text()
    assert len(_reveals(env)) == 1


def test_a_workstation_with_another_databases_key_shows_words_not_a_number(qtbot, sqlite_env,
                                                                             ctx_factory, tmp_path,
                                                                             monkeypatch):
    from db.core import pii

    case = report(sqlite_env, reporter_phone=PHONE)
    other = tmp_path / "other.key"
    pii.write_key_file(other, pii.new_key())
    monkeypatch.setenv(pii.KEY_FILE_ENV, str(other))
    panel = _panel(qtbot, ctx_factory(sqlite_env, Role.DUTY_OFFICER))
    _show(qtbot, panel, case.case_id)
    text = panel.reporter_label.text()
    assert "belongs to another database" in text and str(other) in text
    assert "5678" not in text.replace(str(other), "")
    assert not panel.reveal_button.isVisibleTo(panel)  # nothing to reveal with this key
    assert _reveals(sqlite_env) == []
