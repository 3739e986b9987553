"""Dialogs of the alert panel: turn an alert into a case, link it to an existing case.

Like the step dialogs they never touch the database: the panel loads what they show off the GUI
thread and runs the action with :meth:`values` when the dialog is accepted. Open them with
``open()`` so nothing blocks.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from db.alerts.lifecycle import AlertRow, CaseDraft, clear_needs_reason
from db.cases.queries import Choice
from db.cases.workflow import Urgency
from db.core.text import MAX_TEXT
from desktop.core import labels
from desktop.core.widgets import class_combo, combo_value


def _plain_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)  # alert text comes from devices and callers
    label.setWordWrap(True)
    return label


class ToCaseDialog(QDialog):
    """转为案件: the case is pre-filled from the alert (source, class, location, text)."""

    def __init__(self, alert: AlertRow, draft: CaseDraft, classes: Sequence[Choice],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Turn alert into a case"))
        self.setMinimumWidth(560)
        self.draft = draft
        heading = _plain_label(self.tr("Alert: %1").replace("%1", alert.title))
        heading.setStyleSheet("font-weight: bold;")

        self.source_label = _plain_label(labels.source_name(str(draft.source)))
        place = draft.address or (f"{draft.lat:.5f}, {draft.lon:.5f}"
                                  if draft.lat is not None and draft.lon is not None else "")
        self.place_label = _plain_label(place)
        self.class_combo = class_combo(classes, draft.class_id,
                                        first=(self.tr("(classify at acceptance)"), None))
        self.urgency_combo = QComboBox()
        for u in Urgency:
            self.urgency_combo.addItem(labels.urgency_name(u.value), u.value)
        self.urgency_combo.setCurrentIndex(max(0, self.urgency_combo.findData(str(draft.urgency))))
        self.description_edit = QPlainTextEdit(draft.description)
        self.description_edit.setMinimumHeight(90)

        form = QFormLayout()
        form.addRow(self.tr("Source"), self.source_label)
        form.addRow(self.tr("Location"), self.place_label)
        form.addRow(self.tr("Class"), self.class_combo)
        form.addRow(self.tr("Urgency"), self.urgency_combo)
        form.addRow(self.tr("Description"), self.description_edit)
        self.problem_label = _plain_label("")
        self.problem_label.setStyleSheet("color: #ff4d4f;")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Create case"))
        self.buttons.accepted.connect(self._accept_if_valid)
        self.buttons.rejected.connect(self.reject)
        self.description_edit.textChanged.connect(self._validate)
        self.class_combo.currentTextChanged.connect(self._validate)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)
        self._validate()

    def problem(self) -> str | None:
        text = self.description_edit.toPlainText().strip()
        if not text:
            return self.tr("Describe the problem.")
        if len(text) > MAX_TEXT:
            return self.tr("The description is longer than %1 characters.").replace("%1", str(MAX_TEXT))
        chosen = combo_value(self.class_combo)
        if chosen is Ellipsis:
            return self.tr("Choose a class from the list.")
        return None

    def _validate(self, *_signal_args) -> bool:
        problem = self.problem()
        self.problem_label.setText(problem or "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)
        return problem is None

    def _accept_if_valid(self) -> None:
        if self._validate():
            self.accept()

    def values(self) -> dict:
        """Keyword arguments of :func:`db.alerts.lifecycle.to_case`."""
        return {"class_id": combo_value(self.class_combo),
                "description": self.description_edit.toPlainText().strip(),
                "urgency": self.urgency_combo.currentData()}


class LinkCaseDialog(QDialog):
    """关联案件: type the number of the case this alert belongs to."""

    def __init__(self, alert: AlertRow, parent: QWidget | None = None, *,
                 suggestion: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Link alert to a case"))
        self.setMinimumWidth(460)
        heading = _plain_label(self.tr("Alert: %1").replace("%1", alert.title))
        heading.setStyleSheet("font-weight: bold;")
        self.case_edit = QLineEdit(suggestion)
        self.case_edit.setPlaceholderText(self.tr("Case number, e.g. 2026112100000123"))
        self.case_edit.setMaxLength(40)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Link"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.case_edit.textChanged.connect(self._validate)
        form = QFormLayout()
        form.addRow(self.tr("Case"), self.case_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self._validate()

    def _validate(self, *_signal_args) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            bool(self.case_edit.text().strip()))

    def values(self) -> dict:
        return {"case_ref": self.case_edit.text().strip()}


class ClearDialog(QDialog):
    """消警: the alarm is over for every workstation; a note says why. Enter confirms.

    The note is optional, except for a critical alarm that is still live (not acknowledged,
    or its sensor still reads at its level: :func:`db.alerts.lifecycle.clear_needs_reason`):
    then OK stays disabled until a reason is typed, and a line says why. The dialog knows at
    once when the alarm is unacknowledged; the panel tells it the sensor's part
    (:meth:`set_reason_required`) when its read comes back. The database checks again."""

    def __init__(self, alert: AlertRow, parent: QWidget | None = None, *,
                 reason_required: bool | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Clear alert"))
        self.setMinimumWidth(460)
        heading = _plain_label(self.tr("Clear this alert for every workstation?\n%1")
                               .replace("%1", alert.title))
        heading.setStyleSheet("font-weight: bold;")
        warning = _plain_label(self.tr("It has not been acknowledged yet.")
                               if alert.state == "active" else "")
        warning.setStyleSheet("color: #ffb020;")
        warning.setVisible(alert.state == "active")
        self.note_edit = QLineEdit()
        self.note_edit.setMaxLength(500)
        self.reason_hint = _plain_label(self.tr(
            "A critical alarm that is still live (not acknowledged, or its sensor still reads at "
            "that level) is cleared only with a reason."))
        self.reason_hint.setStyleSheet("color: #ff4d4f;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Clear alert"))
        self.buttons.accepted.connect(self._accept_if_valid)
        self.buttons.rejected.connect(self.reject)
        self.note_edit.textChanged.connect(self._validate)
        form = QFormLayout()
        form.addRow(self.tr("Note"), self.note_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(warning)
        layout.addLayout(form)
        layout.addWidget(self.reason_hint)
        layout.addWidget(self.buttons)
        if reason_required is None:
            reason_required = clear_needs_reason(alert.severity, alert.state)
        self.reason_required = False
        self.set_reason_required(reason_required)

    def set_reason_required(self, required: bool) -> None:
        """Whether the note must be filled in (OK disabled until it is)."""
        self.reason_required = bool(required)
        self.note_edit.setPlaceholderText(
            self.tr("Why (required), e.g. false alarm confirmed on site") if self.reason_required
            else self.tr("Why (optional), e.g. water receded, false alarm"))
        self.reason_hint.setVisible(self.reason_required)
        self._validate()

    def _validate(self, *_signal_args) -> bool:
        ok = not self.reason_required or bool(self.note_edit.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        return ok

    def _accept_if_valid(self) -> None:
        if self._validate():
            self.accept()

    def values(self) -> dict:
        """Keyword arguments of :func:`db.alerts.lifecycle.clear`."""
        return {"note": self.note_edit.text().strip()}


__all__ = ["ClearDialog", "LinkCaseDialog", "ToCaseDialog"]
