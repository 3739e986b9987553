"""The city settings screen: the administrator sets what every workstation shares.

It lists :data:`db.settings.SETTINGS` (one declaration per setting: a choice or a bounded
number), each with who changed it last, and saves them in one step
(:func:`db.settings.change`: validated, audited, on the change feed). The screen is built from
the declarations, so a new setting is one declaration there plus its words here.
"""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from db import settings
from db.core.entities import Entity
from db.worktime.clock import SHANGHAI
from desktop.core.context import AppContext
from desktop.core.errors import classify
from desktop.core.operations import Report

CONTEXT = "settings"

#: What each setting is called and what its choices mean, in the user's language.
LABELS = {
    settings.UNPARK_RULE.key: QT_TRANSLATE_NOOP("settings", "When a parked case resumes"),
    settings.ALERT_GROUP_RADIUS_M.key: QT_TRANSLATE_NOOP("settings", "Group alerts of one type within"),
    settings.ALERT_GROUP_WINDOW_MIN.key: QT_TRANSLATE_NOOP("settings", "Group alerts that began within"),
    settings.SIGNIN_LOCKOUT_FAILURES.key: QT_TRANSLATE_NOOP("settings", "Lock an account after failed sign-ins"),
    settings.SIGNIN_IDLE_LOCK_MIN.key: QT_TRANSLATE_NOOP("settings", "Lock an unattended workstation after"),
    settings.REQUEST_RETENTION_DAYS.key: QT_TRANSLATE_NOOP("settings", "Keep the ids of writes (for retries) for"),
}
CHOICES = {
    "resume": QT_TRANSLATE_NOOP("settings", "Give back the time that was left (extensions included)"),
    "fresh": QT_TRANSLATE_NOOP("settings", "Start the whole time limit again"),
}
UNITS = {"m": QT_TRANSLATE_NOOP("settings", " m"), "min": QT_TRANSLATE_NOOP("settings", " min"),
         "d": QT_TRANSLATE_NOOP("settings", " days")}


def _t(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


class CitySettingsDialog(QDialog):
    """See the module docstring. Opens empty and fills itself from a read off the GUI thread."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("citySettings")
        self.setWindowTitle(self.tr("City settings"))
        self._ctx = ctx
        self.editors: dict[str, QComboBox | QDoubleSpinBox] = {}
        self.changed_labels: dict[str, QLabel] = {}
        self._loaded: dict[str, object] = {}
        self._loaded_once = False
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        intro = QLabel(self.tr("These settings are shared by every workstation of the city. "
                               "Each change is recorded with your name."))
        intro.setWordWrap(True)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Close)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(self.tr("Save"))
        self.save_button.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("Close"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(self.form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(620)
        ctx.changes.subscribe(Entity.SETTING, self._changed_elsewhere)
        self.load()

    def load(self) -> None:
        database = self._ctx.database

        def work():
            with database.read() as session:
                return settings.current(session)

        if not self.editors:
            self.status.setText(self.tr("Reading the settings…"))
        self._ctx.reads.run(work, self._show, self._read_failed)

    def _read_failed(self, exc: BaseException) -> None:
        self.status.setText(classify(exc)[1])

    def _show(self, values: list[settings.SettingValue]) -> None:
        if not self.editors:
            for v in values:
                editor = self._editor(v.setting)
                self.editors[v.setting.key] = editor
                changed = QLabel()
                changed.setTextFormat(Qt.TextFormat.PlainText)  # a name is data, never markup
                changed.setStyleSheet("color: palette(mid);")
                self.changed_labels[v.setting.key] = changed
                self.form.addRow(_t(LABELS.get(v.setting.key, v.setting.key)), editor)
                self.form.addRow("", changed)
        for v in values:
            self._set_value(self.editors[v.setting.key], v.value)
            self._loaded[v.setting.key] = v.value
            self.changed_labels[v.setting.key].setText(self._changed_text(v))
        if not self._loaded_once:
            self.status.setText("")  # "Reading…"; later, the last save's outcome stays
            self._loaded_once = True
        self.save_button.setEnabled(True)

    def _changed_text(self, v: settings.SettingValue) -> str:
        if v.changed_at is None:
            return self.tr("The default; never changed")
        at = v.changed_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        return self.tr("Changed by %1 at %2").replace("%1", v.changed_by or "?").replace("%2", at)

    @staticmethod
    def _editor(which: settings.CitySetting) -> QComboBox | QDoubleSpinBox:
        if which.is_choice:
            combo = QComboBox()
            for choice in which.choices:
                combo.addItem(_t(CHOICES.get(choice, choice)), choice)
            return combo
        spin = QDoubleSpinBox()
        spin.setDecimals(0 if which.integer else 1)
        lowest = which.minimum if which.minimum is not None else 0
        if which.above_zero:
            lowest = max(lowest, 0.1)
        spin.setRange(lowest, which.maximum if which.maximum is not None else 1e9)
        spin.setSuffix(_t(UNITS.get(which.unit, "")))
        return spin

    @staticmethod
    def _set_value(editor: QComboBox | QDoubleSpinBox, value) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(max(0, editor.findData(value)))
        else:
            editor.setValue(float(value))

    def values(self) -> dict[str, object]:
        """What the form says, as :func:`db.settings.change` takes it."""
        out = {}
        for key, editor in self.editors.items():
            if isinstance(editor, QComboBox):
                out[key] = editor.currentData()
            else:
                value = editor.value()
                out[key] = int(value) if float(value).is_integer() else value
        return out

    def save(self) -> None:
        changed = {k: v for k, v in self.values().items() if self._loaded.get(k) != v}
        if not changed:
            self.status.setText(self.tr("Nothing to save: the settings are as they were."))
            return
        database, user_id, what = self._ctx.database, self._ctx.user.id, self.tr("Save settings")
        self.status.setText(self._ctx.operations.working_text(what))
        self._ctx.operations.run(self, what,
                                 lambda rid: settings.change(database, user_id, changed,
                                                             request_id=rid),
                                 changes=lambda keys: {Entity.SETTING: [0]} if keys else {},
                                 on_done=self._saved)

    def _saved(self, report: Report) -> None:
        self.status.setText(report.text)
        if report.ok:
            self.load()

    def _changed_elsewhere(self, _ids, origin) -> None:
        if origin is not self:  # another administrator saved: show what holds now
            self.load()
