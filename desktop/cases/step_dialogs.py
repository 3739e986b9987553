"""Dialogs that collect a workflow step's data before it runs.

Each dialog shows the step and the case it applies to, the step's own fields, and an opinion box
(required where :mod:`db.cases.workflow` requires one: OK stays disabled until it is filled, and text
over the database's limit is refused here rather than cut). The dialogs never touch the
database: the case detail panel loads what they offer (classes, departments, people) off the GUI
thread and runs the step with :meth:`StepDialog.values` when the dialog is accepted.

Testing: every input is an attribute (``opinion_edit``, ``class_combo``, ``department_combo``,
``person_combo``, ``amount_spin``, ``unit_combo``, ``media_edit``) and :meth:`StepDialog.values`
returns exactly the keyword arguments of the step function. Open dialogs with ``open()`` (not
``exec()``) so nothing blocks.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from db.cases.queries import LOCAL, RESPONSIBLE, Choice
from db.cases.workflow import OPINION_REQUIRED, Step, Urgency
from db.core.text import MAX_TEXT
from desktop.core import labels, theme
from desktop.core.widgets import class_combo, combo_value

UNITS = ("work_hours", "work_days", "minutes")


class StepDialog(QDialog):
    """Base of every step dialog: heading, the subclass's fields, opinion, OK/Cancel.

    Parameters
    ----------
    step
        The workflow step the dialog collects data for.
    case_number
        Shown in the heading so the officer sees which case the step applies to.
    """

    def __init__(self, step: Step | str, case_number: str, parent: QWidget | None = None, *,
                 opinion_required: bool | None = None) -> None:
        super().__init__(parent)
        self.step = Step(step)
        self.opinion_required = (self.step in OPINION_REQUIRED if opinion_required is None
                                 else opinion_required)
        step_text = labels.step_name(self.step.value)
        self.setWindowTitle(step_text)
        self.setMinimumWidth(520)

        self.heading = QLabel(
            QCoreApplication.translate("StepDialog", "%1 — case %2")
            .replace("%1", step_text).replace("%2", case_number))
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setStyleSheet("font-weight: bold;")
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.opinion_edit = QPlainTextEdit()
        self.opinion_edit.setObjectName("opinionEdit")
        self.opinion_edit.setTabChangesFocus(True)
        self.opinion_edit.setMinimumHeight(90)
        self.opinion_edit.setPlaceholderText(
            QCoreApplication.translate("StepDialog", "Required: say what was done or why")
            if self.opinion_required else
            QCoreApplication.translate("StepDialog", "Optional"))
        opinion_label = (QCoreApplication.translate("StepDialog", "Opinion (required)")
                         if self.opinion_required else
                         QCoreApplication.translate("StepDialog", "Opinion"))
        self.problem_label = QLabel()
        self.problem_label.setTextFormat(Qt.TextFormat.PlainText)
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(f"color: {theme.DEADLINE_COLORS['overdue']};")
        self.problem_label.hide()

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(step_text)
        self.ok_button.setProperty("primary", True)
        self.ok_button.setToolTip(QCoreApplication.translate("StepDialog", "Ctrl+Enter"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(
            QCoreApplication.translate("StepDialog", "Cancel"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(self.heading)
        layout.addLayout(self.form)
        layout.addWidget(QLabel(opinion_label))
        layout.addWidget(self.opinion_edit, 1)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)

        # Slots are bound methods, never lambdas: the dialog is deleted after use, and PySide
        # 6.11/6.12 can corrupt the heap releasing a lambda slot while a worker runs Python.
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(self._accept_if_valid)
        self.opinion_edit.textChanged.connect(self.validate)

    # -- overridable ---------------------------------------------------------------------
    def values(self) -> dict:
        """The step function's keyword arguments (besides database, actor, case, version)."""
        return {"opinion": self.opinion_edit.toPlainText().strip()}

    def problem(self) -> str | None:
        """Why OK is disabled, or None when the input is complete."""
        text = self.opinion_edit.toPlainText()
        if len(text) > MAX_TEXT:
            return QCoreApplication.translate(
                "StepDialog", "The opinion is too long: %1 of at most %2 characters.") \
                .replace("%1", str(len(text))).replace("%2", str(MAX_TEXT))
        if "\x00" in text:
            return QCoreApplication.translate(
                "StepDialog", "The opinion contains a character that cannot be saved.")
        if self.opinion_required and not text.strip():
            return ""  # nothing to scold yet: the placeholder already says it is required
        return None

    # -- behaviour -----------------------------------------------------------------------
    def validate(self, *_signal_args) -> bool:
        problem = self.problem()
        self.ok_button.setEnabled(problem is None)
        self.problem_label.setText(problem or "")
        self.problem_label.setVisible(bool(problem))
        return problem is None

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.validate()
        super().showEvent(event)

    def accept(self) -> None:
        if self.validate():
            super().accept()

    def _accept_if_valid(self) -> None:
        self.accept()

    def _focus_first_input(self, widget: QWidget) -> None:
        widget.setFocus(Qt.FocusReason.OtherFocusReason)


class OpinionDialog(StepDialog):
    """Steps that take only an opinion (open, return, verify, close, rework, void, …)."""


class AcceptDialog(StepDialog):
    """受理: classify the report (class picker) and confirm the urgency."""

    def __init__(self, case_number: str, classes: Sequence[Choice], parent: QWidget | None = None,
                 *, class_id: int | None = None, urgency: str = Urgency.NORMAL.value) -> None:
        super().__init__(Step.ACCEPT, case_number, parent)
        self.class_combo = class_combo(classes, class_id)
        self.class_combo.setObjectName("classCombo")
        if class_id is None:
            self.class_combo.setCurrentIndex(-1)
            self.class_combo.setEditText("")
            self.class_combo.lineEdit().setPlaceholderText(self.tr("Type to search the classes"))
        self.urgency_combo = QComboBox()
        for u in Urgency:
            self.urgency_combo.addItem(labels.urgency_name(u.value), u.value)
        self.urgency_combo.setCurrentIndex(max(0, self.urgency_combo.findData(urgency)))
        self.form.addRow(self.tr("Class"), self.class_combo)
        self.form.addRow(self.tr("Urgency"), self.urgency_combo)
        self.class_combo.currentIndexChanged.connect(self.validate)
        self.class_combo.editTextChanged.connect(self.validate)
        self._focus_first_input(self.class_combo)

    def values(self) -> dict:
        return {"class_id": combo_value(self.class_combo),
                "urgency": self.urgency_combo.currentData(), **super().values()}

    def problem(self) -> str | None:
        value = combo_value(self.class_combo)
        if value is ... or value is None:
            return self.tr("Choose the case's class.") if self.class_combo.currentText() else ""
        return super().problem()


class FixOnSpotDialog(StepDialog):
    """当即办理: what was done (required) and, optionally, the class."""

    def __init__(self, case_number: str, classes: Sequence[Choice], parent: QWidget | None = None,
                 *, class_id: int | None = None) -> None:
        super().__init__(Step.FIX_ON_SPOT, case_number, parent)
        self.class_combo = class_combo(classes, class_id,
                                        first=(self.tr("(keep the current class)"), None))
        self.class_combo.setObjectName("classCombo")
        self.form.addRow(self.tr("Class"), self.class_combo)
        self.class_combo.editTextChanged.connect(self.validate)

    def values(self) -> dict:
        value = combo_value(self.class_combo)
        return {"class_id": None if value is ... else value, **super().values()}

    def problem(self) -> str | None:
        if combo_value(self.class_combo) is ...:
            return self.tr("Choose a class from the list, or keep the current one.")
        return super().problem()


class DispatchDialog(StepDialog):
    """派遣: the department (the class's responsible one first and marked, then the town's own
    departments) and, optionally, a person from the case's grid."""

    def __init__(self, case_number: str, departments: Sequence[Choice], people: Sequence[Choice],
                 parent: QWidget | None = None, *, grid_name: str = "") -> None:
        super().__init__(Step.DISPATCH, case_number, parent)
        self.setMinimumWidth(700)  # department names are long: show them whole
        self.department_combo = QComboBox()
        self.department_combo.setObjectName("departmentCombo")
        self.department_combo.setMaxVisibleItems(20)
        self.department_combo.setMinimumContentsLength(30)
        self.department_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        for d in departments:
            if d.relation == RESPONSIBLE:
                text = self.tr("★ %1 — responsible department").replace("%1", d.name)
            elif d.relation == LOCAL:
                text = self.tr("%1 — town department").replace("%1", d.name)
            else:
                text = d.name
            self.department_combo.addItem(text, d.id)
        self.person_combo = QComboBox()
        self.person_combo.setObjectName("personCombo")
        self.person_combo.addItem(self.tr("(no particular person)"), None)
        for p in people:
            text = f"{p.name}（{p.hint}）" if p.hint else p.name
            self.person_combo.addItem(text, p.id)
        if people:  # suggest the grid's first member (its leader comes first)
            self.person_combo.setCurrentIndex(1)
        self.grid_label = QLabel(grid_name or self.tr("No grid known for this location"))
        self.grid_label.setTextFormat(Qt.TextFormat.PlainText)
        self.form.addRow(self.tr("Department"), self.department_combo)
        self.form.addRow(self.tr("Grid"), self.grid_label)
        self.form.addRow(self.tr("Person"), self.person_combo)
        if not people:
            self.person_combo.setToolTip(self.tr("No grid members are known for this case's grid"))
        self._focus_first_input(self.department_combo)

    def values(self) -> dict:
        return {"department_id": self.department_combo.currentData(),
                "staff_id": self.person_combo.currentData(), **super().values()}

    def problem(self) -> str | None:
        if self.department_combo.currentData() is None:
            return self.tr("There is no department to dispatch to.")
        return super().problem()


class ExtensionDialog(StepDialog):
    """申请延期: how much more time, in which unit, and why (required)."""

    def __init__(self, case_number: str, parent: QWidget | None = None) -> None:
        super().__init__(Step.REQUEST_EXTENSION, case_number, parent)
        self.amount_spin = QSpinBox()
        self.amount_spin.setObjectName("amountSpin")
        self.amount_spin.setRange(1, 1000)
        self.amount_spin.setValue(1)
        self.unit_combo = QComboBox()
        self.unit_combo.setObjectName("unitCombo")
        for unit, text in (("work_days", self.tr("working days")),
                           ("work_hours", self.tr("working hours")),
                           ("minutes", self.tr("minutes"))):
            self.unit_combo.addItem(text, unit)
        self.form.addRow(self.tr("Extend by"), self.amount_spin)
        self.form.addRow(self.tr("Unit"), self.unit_combo)
        self._focus_first_input(self.amount_spin)

    def values(self) -> dict:
        return {"amount": self.amount_spin.value(), "unit": self.unit_combo.currentData(),
                **super().values()}


class FeedbackDialog(StepDialog):
    """处置反馈: what was done (required) and optional photo references, one per line."""

    def __init__(self, case_number: str, parent: QWidget | None = None) -> None:
        super().__init__(Step.FEEDBACK, case_number, parent)
        self.media_edit = QPlainTextEdit()
        self.media_edit.setObjectName("mediaEdit")
        self.media_edit.setTabChangesFocus(True)
        self.media_edit.setPlaceholderText(self.tr("Photo references, one per line (optional)"))
        self.media_edit.setMaximumHeight(80)
        self.form.addRow(self.tr("Photos"), self.media_edit)
        self._focus_first_input(self.opinion_edit)

    def values(self) -> dict:
        media = [line.strip() for line in self.media_edit.toPlainText().splitlines()
                 if line.strip()]
        return {"media": media, **super().values()}

    def problem(self) -> str | None:
        if any(len(line) > 500 for line in self.media_edit.toPlainText().splitlines()):
            return self.tr("A photo reference is longer than 500 characters.")
        return super().problem()


def dialog_for(step: Step | str, case_number: str, parent: QWidget | None = None, *,
               classes: Sequence[Choice] = (), departments: Sequence[Choice] = (),
               people: Sequence[Choice] = (), class_id: int | None = None,
               urgency: str = Urgency.NORMAL.value, grid_name: str = "") -> StepDialog:
    """The dialog for ``step``, filled with what the panel loaded."""
    step = Step(step)
    if step == Step.ACCEPT:
        return AcceptDialog(case_number, classes, parent, class_id=class_id, urgency=urgency)
    if step == Step.FIX_ON_SPOT:
        return FixOnSpotDialog(case_number, classes, parent, class_id=class_id)
    if step == Step.DISPATCH:
        return DispatchDialog(case_number, departments, people, parent, grid_name=grid_name)
    if step == Step.REQUEST_EXTENSION:
        return ExtensionDialog(case_number, parent)
    if step == Step.FEEDBACK:
        return FeedbackDialog(case_number, parent)
    return OpinionDialog(step, case_number, parent)


__all__ = ["AcceptDialog", "DispatchDialog", "ExtensionDialog", "FeedbackDialog",
           "FixOnSpotDialog", "OpinionDialog", "StepDialog", "UNITS",
           "dialog_for"]
