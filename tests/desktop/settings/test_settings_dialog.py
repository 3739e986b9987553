"""The administrator's city settings screen: reads the shared values, saves them in one audited
step; no one else is offered it, and the database refuses them anyway."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox

from db import settings
from db.auth.roles import Role
from desktop.settings.dialog import CitySettingsDialog
from tests.desktop.conftest import make_ctx
from tests.desktop.window.test_main_window import close, open_window


def _loaded(qtbot, dialog: CitySettingsDialog) -> None:
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=5000)


def test_the_administrator_sets_the_unpark_rule_and_the_alert_grouping(qtbot, sqlite_env):
    ctx = make_ctx(sqlite_env, Role.ADMIN)
    dialog = CitySettingsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    _loaded(qtbot, dialog)
    assert dialog.values() == {"unpark_rule": "resume", "alert_group_radius_m": 500,
                               "alert_group_window_min": 10, "signin_lockout_failures": 10,
                               "signin_idle_lock_minutes": 15, "request_retention_days": 30}
    rule, radius = dialog.editors["unpark_rule"], dialog.editors["alert_group_radius_m"]
    assert isinstance(rule, QComboBox) and isinstance(radius, QDoubleSpinBox)
    assert dialog.changed_labels["unpark_rule"].text() == "The default; never changed"
    # Nothing changed: nothing is written.
    dialog.save()
    assert dialog.status.text() == "Nothing to save: the settings are as they were."
    rule.setCurrentIndex(rule.findData("fresh"))
    radius.setValue(300)
    dialog.save()
    qtbot.waitUntil(lambda: dialog.status.text() == "Save settings done.", timeout=5000)
    with sqlite_env.database.read() as s:
        assert settings.read_many(s, settings.UNPARK_RULE, settings.ALERT_GROUP_RADIUS_M,
                                  settings.ALERT_GROUP_WINDOW_MIN) == ("fresh", 300, 10)
    qtbot.waitUntil(lambda: dialog.changed_labels["unpark_rule"].text().startswith("Changed by "),
                    timeout=5000)


def test_a_refused_value_is_worded_and_the_form_keeps_what_was_typed(qtbot, sqlite_env):
    # A shift leader's context opening the screen anyway (the window does not offer it to
    # them): the database refuses, and the refusal is worded, not a traceback.
    ctx = make_ctx(sqlite_env, Role.SHIFT_LEADER)
    dialog = CitySettingsDialog(ctx)
    qtbot.addWidget(dialog)
    _loaded(qtbot, dialog)
    rule = dialog.editors["unpark_rule"]
    rule.setCurrentIndex(rule.findData("fresh"))
    dialog.save()
    qtbot.waitUntil(lambda: "not allowed" in dialog.status.text().lower()
                    or "may not" in dialog.status.text().lower(), timeout=5000)
    assert rule.currentData() == "fresh"
    with sqlite_env.database.read() as s:
        assert settings.read(s, settings.UNPARK_RULE) == "resume"


def test_only_an_administrator_window_offers_the_settings(qtbot, sqlite_env, tmp_path):
    admin = open_window(qtbot, sqlite_env, tmp_path / "admin", Role.ADMIN, feed=False)
    officer = open_window(qtbot, sqlite_env, tmp_path / "officer", Role.DUTY_OFFICER, feed=False)
    try:
        assert officer.settings_action is None
        assert admin.settings_action is not None
        admin.settings_action.trigger()
        assert admin.settings_dialog is not None and admin.settings_dialog.isVisible()
    finally:
        close(admin)
        close(officer)
