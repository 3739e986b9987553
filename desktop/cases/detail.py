"""The case detail panel: everything about one case, and the buttons that move it on.

The panel loads :func:`db.cases.queries.case_detail` on ``ctx.reads`` and shows the summary, the
location, the masked reporter, photo references and the history (newest first). Free text from
the database (description, address, opinions, names, media references) is only ever shown in
plain-text widgets, so markup such as ``<b>`` or ``<script>`` is displayed literally.

Below the details there is one button for each step the signed-in person may take on *this*
case, and nothing else: the steps the data layer read with the detail
(:attr:`db.cases.queries.CaseDetail.steps`, from :func:`db.cases.workflow.steps_allowed`: the
role's steps from the case's state, none outside the person's scope). The panel asks that one
rule rather than working it out again, so a department handler is never offered 处置反馈 on
another department's case only to lose the typed feedback to the refusal. A button opens the step's dialog
(:mod:`desktop.cases.step_dialogs`); the step then runs on ``ctx.writes`` with the case version the
user saw when opening it. Outcomes are shown in :attr:`CaseDetailPanel.message_label` at the top
of the panel (inline, never a blocking message box):

* success: the detail reloads and ``sig_case_changed(case_id)`` is emitted;
* a conflict: who changed the case and when, and the detail reloads;
* the database unreachable (or ``ctx.online`` False): the step is refused, nothing changed, and
  a *Try again* button re-runs exactly the same step;
* any other refusal from ``db/``: its message.

Tests (and the window) may skip the dialog with :meth:`CaseDetailPanel.run_step`.

Signals
-------
sig_case_changed(int)
    A step taken here changed the case.
sig_loaded(int)
    The detail of that case is on screen (also after a reload).
sig_dialog_opened(object)
    A step dialog was opened (non-modal ``open()``); tests fill it in and call ``accept()``.
sig_step_finished(str, str)
    A step attempt ended: (step, outcome) with outcome ``done``, ``conflict``, ``offline``,
    ``refused`` or ``failed``.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from db.alerts import lifecycle as alerts
from db.auth.roles import PHONE_REVEALERS
from db.cases import contact, deadline, queries
from db.cases.queries import CaseDetail, Choice
from db.cases.workflow import STEP_FUNCTIONS, TRANSITIONS, Step
from db.core.entities import Entity
from db.core.errors import (
    CityOpsError,
    ConflictError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    is_connection_lost,
)
from db.worktime.clock import SHANGHAI
from desktop.cases.step_dialogs import StepDialog, dialog_for
from desktop.core import labels, theme
from desktop.core.context import AppContext
from desktop.core.errors import Outcome, offline_text, word
from desktop.core.operations import Report

log = logging.getLogger(__name__)
UTC = dt.UTC

#: Keyboard shortcuts of the step buttons (window-wide while the button is visible).
STEP_SHORTCUTS: dict[Step, str] = {
    Step.ACCEPT: "Ctrl+1", Step.OPEN: "Ctrl+2", Step.VERIFY: "Ctrl+3", Step.CLOSE: "Ctrl+4",
    Step.DISPATCH: "Ctrl+D", Step.FEEDBACK: "Ctrl+Shift+H", Step.RETURN: "Ctrl+Shift+R",
    Step.REQUEST_EXTENSION: "Ctrl+Shift+E", Step.APPROVE_EXTENSION: "Ctrl+Shift+A",
    Step.REJECT_EXTENSION: "Ctrl+Shift+J", Step.PARK: "Ctrl+Shift+P",
    Step.UNPARK: "Ctrl+Shift+U", Step.REWORK: "Ctrl+Shift+K", Step.FIX_ON_SPOT: "Ctrl+Shift+O",
    Step.VOID: "Ctrl+Shift+V",
}
#: Reveals the reporter's full number. Not Ctrl+Shift+P: that parks the case (STEP_SHORTCUTS).
REVEAL_SHORTCUT = "Ctrl+Shift+N"
#: Steps that move a case forward round the loop: drawn as the primary (blue) buttons.
FORWARD_STEPS = frozenset({Step.ACCEPT, Step.OPEN, Step.DISPATCH, Step.FEEDBACK, Step.VERIFY,
                           Step.CLOSE, Step.APPROVE_EXTENSION, Step.UNPARK})
#: Steps that end or undo work: drawn with a red outline so they are not hit by accident.
DANGER_STEPS = frozenset({Step.VOID})
#: Steps whose dialog needs data from the database first.
NEEDS_CLASSES = frozenset({Step.ACCEPT, Step.FIX_ON_SPOT})
UNIT_NAMES = {"work_hours": QT_TRANSLATE_NOOP("CaseDetailPanel", "working hours"),
              "work_days": QT_TRANSLATE_NOOP("CaseDetailPanel", "working days"),
              "minutes": QT_TRANSLATE_NOOP("CaseDetailPanel", "minutes")}


def _local(at: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return at.astimezone(SHANGHAI).strftime(fmt) if at is not None else ""


def _plain(text: str = "", *, wrap: bool = True, selectable: bool = True) -> QLabel:
    """A label that can never interpret its text as markup."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    label.setWordWrap(wrap)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class CaseDetailPanel(QWidget):
    """One case in full, with its step buttons; see the module docstring."""

    sig_case_changed = Signal(int)
    sig_loaded = Signal(int)
    sig_dialog_opened = Signal(object)
    sig_step_finished = Signal(str, str)

    TICK_MS = 1000
    SUCCESS_MESSAGE_MS = 12_000

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("caseDetailPanel")
        self._ctx = ctx
        self._clock = clock or ctx.clock.now  # the countdown's "now": the database's time
        self._detail: CaseDetail | None = None
        self.linked_alerts: list = []
        self._wanted_id: int | None = None
        self._loading = False
        self._load_again = False
        self._classes: list[Choice] | None = None
        self.message_kind = ""  # "", "info", "success", "error"
        self.current_dialog: StepDialog | None = None
        self._dialog_context: tuple[Step, int, int] | None = None
        self.step_buttons: dict[Step, QPushButton] = {}
        self._base_pt = QApplication.font().pointSizeF() or 12.0

        self._build()
        ctx.changes.subscribe(Entity.CASE, self.apply_changes)
        ctx.changes.subscribe(Entity.ALERT, self._alerts_changed)
        self._tick_timer = QTimer(self)
        self._tick_timer.setInterval(self.TICK_MS)
        self._tick_timer.timeout.connect(self._update_time_left)
        self._tick_timer.start()
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.setInterval(self.SUCCESS_MESSAGE_MS)
        self._message_timer.timeout.connect(self._expire_success_message)
        self._show_empty()

    # -- construction --------------------------------------------------------------------
    def _build(self) -> None:
        big = round(self._base_pt * 1.5)
        # Message bar: outcome of the last step, plain words, stays until dismissed or replaced.
        self.message_bar = QFrame()
        self.message_bar.setObjectName("messageBar")
        self.message_label = _plain()
        self.message_label.setObjectName("messageLabel")
        self.retry_button = QPushButton(self.tr("Try again"))
        self.retry_button.clicked.connect(self.retry)
        self.dismiss_button = QPushButton("✕")
        self.dismiss_button.setToolTip(self.tr("Dismiss"))
        self.dismiss_button.setFlat(True)
        self.dismiss_button.clicked.connect(self.clear_message)
        bar = QHBoxLayout(self.message_bar)
        bar.setContentsMargins(10, 8, 6, 8)
        bar.addWidget(self.message_label, 1)
        bar.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignTop)
        bar.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self.message_bar.hide()
        self.retry_button.hide()

        # Header: number, state and urgency badges, the countdown.
        self.number_label = _plain(wrap=False)
        self.number_label.setStyleSheet(f"font-size: {big}pt; font-weight: bold;")
        self.state_badge = _plain(wrap=False, selectable=False)
        self.urgency_badge = _plain(wrap=False, selectable=False)
        self.time_left_label = _plain(wrap=False, selectable=False)
        self.time_left_label.setObjectName("timeLeft")
        self.deadline_status = "none"
        self.countdown: deadline.Countdown | None = None  # as last shown
        title_row = QHBoxLayout()
        title_row.setSpacing(10)
        title_row.addWidget(self.number_label)
        title_row.addWidget(self.state_badge)
        title_row.addWidget(self.urgency_badge)
        title_row.addStretch(1)
        self.title_label = _plain()
        self.title_label.setStyleSheet(f"color: {theme.TEXT_DIM};")

        # Fields.
        self.class_label = _plain()
        self.deadline_label = _plain()
        self.assignee_label = _plain()
        self.source_label = _plain()
        self.reported_label = _plain()
        self.place_label = _plain()  # town / village
        self.grid_label = _plain()
        self.ref_label = _plain()
        self.address_label = _plain()
        self.coordinates_label = _plain()
        self.reporter_label = _plain()
        self.counts_label = _plain()
        form = self._form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(6)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        for text, widget in ((self.tr("Class"), self.class_label),
                             (self.tr("Deadline"), self.deadline_label),
                             (self.tr("Assignee"), self.assignee_label),
                             (self.tr("Town / village"), self.place_label),
                             (self.tr("Grid"), self.grid_label),
                             (self.tr("Address"), self.address_label),
                             (self.tr("Coordinates"), self.coordinates_label),
                             (self.tr("Source"), self.source_label),
                             (self.tr("Work order"), self.ref_label),
                             (self.tr("Reported"), self.reported_label),
                             (self.tr("Reporter"), self._reporter_row()),
                             (self.tr("Extensions / rework"), self.counts_label)):
            name = QLabel(text)
            name.setStyleSheet(f"color: {theme.TEXT_DIM};")
            form.addRow(name, widget)

        self.description_label = _plain()
        self.description_label.setObjectName("description")
        self.description_label.setStyleSheet(
            f"background: {theme.PANEL}; border: 1px solid {theme.BORDER}; border-radius: 4px;"
            f"padding: 8px;")
        self.media_list = QListWidget()
        self.media_list.setObjectName("mediaList")
        self.media_list.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.media_empty = _plain(self.tr("No photos or attachments"))
        self.media_empty.setStyleSheet(f"color: {theme.TEXT_DIM};")
        self.history_box = QVBoxLayout()
        self.history_box.setSpacing(8)
        self.history_widgets: list[QWidget] = []

        body = QWidget()
        content = QVBoxLayout(body)
        content.setContentsMargins(2, 2, 10, 2)
        content.setSpacing(8)
        content.addLayout(form)
        content.addWidget(self._section(self.tr("Description")))
        content.addWidget(self.description_label)
        content.addWidget(self._section(self.tr("Photos and attachments")))
        content.addWidget(self.media_list)
        content.addWidget(self.media_empty)
        # The alarms this case came from or was linked to (the other half of the alert's link).
        self.alerts_section = self._section(self.tr("Linked alerts"))
        self.alerts_label = _plain()
        content.addWidget(self.alerts_section)
        content.addWidget(self.alerts_label)
        content.addWidget(self._section(self.tr("History (newest first)")))
        content.addLayout(self.history_box)
        content.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(body)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        # Step buttons.
        self.buttons_bar = QHBoxLayout()
        self.buttons_bar.setSpacing(8)
        self.no_steps_label = _plain(self.tr("No step for your role in this state."),
                                     selectable=False)
        self.no_steps_label.setStyleSheet(f"color: {theme.TEXT_DIM};")
        self.buttons_bar.addWidget(self.no_steps_label)
        self._build_step_buttons()
        self.buttons_bar.addStretch(1)
        self.refresh_button = QPushButton(self.tr("Reload"))
        self.refresh_button.setToolTip(self.tr("Read this case again from the database"))
        self.refresh_button.clicked.connect(self.reload)
        self.buttons_bar.addWidget(self.refresh_button)

        self.empty_label = _plain(self.tr("Select a case in the queue or on the map."),
                                  selectable=False)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet(f"color: {theme.TEXT_DIM}; font-size: {big}pt;")

        self.details = QWidget()
        inner = QVBoxLayout(self.details)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(8)
        inner.addLayout(title_row)
        # Its own line, hugging its text: the first thing the eye finds.
        inner.addWidget(self.time_left_label, 0, Qt.AlignmentFlag.AlignLeft)
        inner.addWidget(self.title_label)
        inner.addWidget(self.scroll, 1)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet(f"color: {theme.BORDER};")
        inner.addWidget(line)
        inner.addLayout(self.buttons_bar)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(8)
        layout.addWidget(self.message_bar)
        layout.addWidget(self.empty_label, 1)
        layout.addWidget(self.details, 1)

    def _section(self, text: str) -> QLabel:
        label = _plain(text, selectable=False)
        label.setStyleSheet(f"color: {theme.TEXT_DIM}; font-weight: bold; "
                            f"border-bottom: 1px solid {theme.BORDER}; padding-top: 6px;")
        return label

    # -- the reporter and calling back -------------------------------------------------------
    def _reporter_row(self) -> QWidget:
        """The reporter, masked, and for the roles that may call back (PHONE_REVEALERS) a
        button that reveals the full number; every reveal is audited by the database."""
        self._revealed: tuple[int, str] | None = None  # (case id, number) shown in full
        self.reveal_button = QPushButton(self.tr("Show number"))
        self.reveal_button.setObjectName("revealPhone")
        self.reveal_button.setShortcut(QKeySequence(REVEAL_SHORTCUT))
        self.reveal_button.setToolTip(
            self.tr("Show the reporter's full number to call back; every reveal is recorded (%1)")
            .replace("%1", QKeySequence(REVEAL_SHORTCUT).toString(
                QKeySequence.SequenceFormat.NativeText)))
        self.reveal_button.clicked.connect(self.reveal_phone)
        self.reveal_button.hide()
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(8)
        box.addWidget(self.reporter_label, 1)
        box.addWidget(self.reveal_button, 0, Qt.AlignmentFlag.AlignTop)
        return row

    @property
    def revealed_phone(self) -> str | None:
        """The full number on screen, or None while it is masked."""
        d = self._detail
        if d is None or self._revealed is None or self._revealed[0] != d.row.id:
            return None
        return self._revealed[1]

    def _show_reporter(self, d: CaseDetail) -> None:
        if self._revealed is not None and self._revealed[0] != d.row.id:
            self._revealed = None  # another case: its number is masked again
        phone = self.revealed_phone or d.reporter_phone_masked
        if d.reporter_phone_problem is not None:  # this workstation's phone key: missing or wrong
            phone = word(d.reporter_phone_problem)
        reporter = "  ".join(x for x in (d.reporter_name_masked, phone) if x)
        self.reporter_label.setText(reporter or self.tr("Not given"))
        self.reveal_button.setVisible(self._ctx.user.role in PHONE_REVEALERS
                                      and bool(d.reporter_phone_masked)
                                      and d.reporter_phone_problem is None
                                      and self.revealed_phone is None)
        self.reveal_button.setEnabled(not self._ctx.operations.busy(self.reveal_button))

    def reveal_phone(self, *_signal_args) -> None:
        """Ask the database for the full number of the case on screen (audited there)."""
        d = self._detail
        if (d is None or self._ctx.user.role not in PHONE_REVEALERS
                or not d.reporter_phone_masked or self.revealed_phone is not None):
            return  # the database refuses other roles all the same
        database, user_id, case_id = self._ctx.database, self._ctx.user.id, d.row.id

        def done(report: Report) -> None:
            self.reveal_button.setEnabled(True)
            if not report.ok:
                self.show_message(report.text, "error")
                return
            current = self._detail
            if current is None or current.row.id != case_id:
                return  # the officer moved on: the number stays hidden
            self._revealed = (case_id, report.value)
            self._show_reporter(current)

        if self._ctx.operations.run(
                self.reveal_button, self.tr("Show number"),
                lambda _rid: contact.reveal_reporter_phone(database, user_id, case_id),
                on_done=done):
            self.reveal_button.setEnabled(False)

    # -- loading -------------------------------------------------------------------------
    @property
    def current_case_id(self) -> int | None:
        """The case on screen (None when empty)."""
        return self._detail.row.id if self._detail is not None else None

    @property
    def case_id(self) -> int | None:
        """The case asked for last (on screen, or loading)."""
        return self._wanted_id

    @property
    def detail(self) -> CaseDetail | None:
        return self._detail

    def show_case(self, case_id: int) -> None:
        """Load and show ``case_id``; a burst of calls loads only the last one."""
        if case_id != self.current_case_id:
            self.clear_message()
            self._set_buttons_enabled(False)  # a shortcut must never act on the old case
        self._wanted_id = case_id
        self._load()

    def reload(self, *_signal_args) -> None:
        """Read the case on screen again (keeps the message bar)."""
        if self._wanted_id is not None:
            self._load()

    refresh = reload

    def apply_changes(self, case_ids, origin: object | None = None) -> None:
        """Cases changed (on the feed, or by another panel): reload if the one on screen is
        among them. A change this panel made itself was read already (``origin``)."""
        if origin is self:
            return
        if self._wanted_id is not None and self._wanted_id in set(case_ids):
            self._load()

    def _alerts_changed(self, alert_ids, _origin: object | None = None) -> None:
        """Its "linked alerts" show their state: read again when one of them changed."""
        if {a.id for a in self.linked_alerts} & set(alert_ids):
            self.reload()

    def clear(self) -> None:
        self._wanted_id = None
        self._detail = None
        self.clear_message()
        self._show_empty()

    def _load(self) -> None:
        if self._loading:
            self._load_again = True
            return
        case_id = self._wanted_id
        if case_id is None:
            return
        self._loading = True
        self._load_again = False
        database, user_id = self._ctx.database, self._ctx.user.id

        def work() -> tuple[CaseDetail | None, list]:
            with database.read() as session:
                detail = queries.case_detail(session, case_id, actor=user_id)
                return detail, (alerts.alerts_for_case(session, case_id) if detail else [])

        self._ctx.reads.run(work, lambda r: self._loaded(case_id, *r),
                            lambda exc: self._load_failed(case_id, exc))

    def _loaded(self, case_id: int, detail: CaseDetail | None, linked=()) -> None:
        self._loading = False
        if self._wanted_id != case_id or self._load_again:
            self._load()
            return
        if detail is None:
            self._detail = None
            self._show_empty()
            self.show_message(self.tr("This case no longer exists."), "error")
            return
        self._detail = detail
        self.linked_alerts = list(linked)
        self._render(detail)
        self.sig_loaded.emit(case_id)

    def _load_failed(self, case_id: int, exc: BaseException) -> None:
        self._loading = False
        if self._wanted_id != case_id or self._load_again:
            self._load()
            return
        log.warning("case %s could not be read: %s", case_id, exc)
        if isinstance(exc, PermissionDenied):
            # Outside the officer's scope (or the account was deactivated): nothing of the
            # case stays on screen, and no button could act on it.
            self._detail = None
            self._show_empty()
            self.show_message(word(exc), "error")
            return
        reason = word(exc) if isinstance(exc, CityOpsError) else str(exc)
        self.show_message(self.tr("The case could not be read: %1").replace("%1", reason),
                          "error")
        self._set_buttons_enabled(self._detail is not None and self._detail.row.id == case_id)

    # -- rendering -----------------------------------------------------------------------
    def _show_empty(self) -> None:
        self.details.hide()
        self.empty_label.show()
        self._rebuild_buttons([])

    def _render(self, d: CaseDetail) -> None:
        row = d.row
        self.empty_label.hide()
        self.details.show()
        self.number_label.setText(row.number)
        self._badge(self.state_badge, labels.state_name(row.state), theme.PANEL_ALT, theme.TEXT)
        if row.urgency == "normal":
            self._badge(self.urgency_badge, labels.urgency_name(row.urgency), theme.PANEL_ALT,
                        theme.TEXT_DIM)
        else:
            self._badge(self.urgency_badge, labels.urgency_name(row.urgency),
                        theme.URGENCY_COLORS.get(row.urgency, theme.ACCENT), "#ffffff")
        self.title_label.setText(row.title)
        self.title_label.setVisible(bool(row.title))
        self.class_label.setText(row.class_name or self.tr("Not classified yet"))
        if row.deadline_at is not None:
            text = _local(row.deadline_at)
            if row.deadline_estimated:
                text += "  " + self.tr(
                    "(estimated: the official calendar for that year is missing)")
            if row.limit_amount and row.limit_unit:
                text += "  " + self.tr("limit %1 %2").replace("%1", str(row.limit_amount)) \
                    .replace("%2", self._unit_name(row.limit_unit))
            self.deadline_label.setText(text)
        else:
            self.deadline_label.setText(self.tr("No deadline yet (the clock starts at dispatch)"))
        self.assignee_label.setText(row.assignee_name or "—")
        # One short fact per row: a wrapped label in a form inside a scroll area gets clipped.
        self.place_label.setText(" / ".join(x for x in (row.town_name, d.village_name) if x) or "—")
        self.grid_label.setText(d.grid_name or "—")
        self.address_label.setText(d.address or "—")
        self.coordinates_label.setText(f"{row.lat:.5f}, {row.lon:.5f}")
        self.source_label.setText(labels.source_name(row.source))
        self.ref_label.setText(d.external_ref or "—")
        self.reported_label.setText(_local(row.reported_at))
        self._show_reporter(d)
        counts = self.tr("%1 extensions, %2 reworks").replace("%1", str(d.extension_count)) \
            .replace("%2", str(d.rework_count))
        if d.pending_extension:
            counts += "  " + self.tr("— asking for %1 more %2") \
                .replace("%1", str(d.pending_extension.get("amount", "?"))) \
                .replace("%2", self._unit_name(d.pending_extension.get("unit", "")))
        self.counts_label.setText(counts)
        self.description_label.setText(d.description)
        self.media_list.clear()
        for ref in d.media:
            self.media_list.addItem(str(ref))  # QListWidgetItem text is always plain
        if d.media:  # as tall as its rows (up to five), no empty box below them
            rows = min(len(d.media), 5)
            self.media_list.setFixedHeight(self.media_list.sizeHintForRow(0) * rows
                                           + 2 * self.media_list.frameWidth() + 4)
        self.media_list.setVisible(bool(d.media))
        self.media_empty.setVisible(not d.media)
        self.alerts_label.setText("\n".join(
            f"{labels.severity_name(a.severity)} · {a.title} · {labels.alert_state_name(a.state)}"
            for a in self.linked_alerts))
        self.alerts_section.setVisible(bool(self.linked_alerts))
        self.alerts_label.setVisible(bool(self.linked_alerts))
        self._render_history(d)
        self._update_time_left()
        self._rebuild_buttons(list(d.steps))  # the data layer's one rule, scope included

    def _badge(self, label: QLabel, text: str, background: str, colour: str) -> None:
        label.setText(text)
        label.setStyleSheet(f"background: {background}; color: {colour}; border-radius: 4px;"
                            f"padding: 3px 10px; font-weight: bold;")

    def _unit_name(self, unit: str) -> str:
        return QCoreApplication.translate("CaseDetailPanel", UNIT_NAMES[unit]) \
            if unit in UNIT_NAMES else unit

    def _render_history(self, d: CaseDetail) -> None:
        for w in self.history_widgets:
            self.history_box.removeWidget(w)
            w.deleteLater()
        self.history_widgets = []
        for entry in reversed(d.history):
            item = QFrame()
            item.setObjectName("historyEntry")
            colour = theme.ACCENT if entry.step != "report" else theme.TEXT_DIM
            item.setStyleSheet(f"QFrame#historyEntry {{ border-left: 3px solid {colour}; }}")
            box = QVBoxLayout(item)
            box.setContentsMargins(10, 2, 0, 2)
            box.setSpacing(2)
            top = QHBoxLayout()
            top.setSpacing(10)
            when = _plain(_local(entry.at), wrap=False)
            when.setStyleSheet(f"color: {theme.TEXT_DIM};")
            step = _plain(labels.step_name(entry.step), wrap=False)
            step.setStyleSheet("font-weight: bold;")
            actor = _plain(entry.actor_name)
            top.addWidget(when)
            top.addWidget(step)
            top.addWidget(actor)
            top.addStretch(1)
            if entry.to_state and entry.from_state:
                arrow = _plain("→ " + labels.state_name(entry.to_state))
                arrow.setAlignment(Qt.AlignmentFlag.AlignRight)
                arrow.setStyleSheet(f"color: {theme.TEXT_DIM};")
                top.addWidget(arrow)
            box.addLayout(top)
            if entry.opinion:
                box.addWidget(_plain(entry.opinion))
            if entry.step == Step.REQUEST_EXTENSION.value and entry.data.get("amount"):
                extra = self.tr("Asked for %1 more %2").replace("%1", str(entry.data["amount"])) \
                    .replace("%2", self._unit_name(entry.data.get("unit", "")))
                note = _plain(extra)
                note.setStyleSheet(f"color: {theme.TEXT_DIM};")
                box.addWidget(note)
            self.history_box.addWidget(item)
            self.history_widgets.append(item)

    def history_texts(self) -> list[str]:
        """Each timeline entry as one line of text (newest first), for tests and copying."""
        out = []
        for item in self.history_widgets:
            out.append("  ".join(lbl.text() for lbl in item.findChildren(QLabel) if lbl.text()))
        return out

    def _update_time_left(self) -> None:
        d = self._detail
        if d is None:
            return
        row = d.row
        now = self._clock()
        # Whether the clock runs and what it says: the one rule of db.cases.deadline.
        clock = deadline.countdown(self._ctx.calendar, now, row.state, row.deadline_at,
                                   row.limit_amount, row.limit_unit)
        status = clock.status
        if clock.phase == deadline.PARKED:
            text = self.tr("Parked — the clock is stopped")
        elif clock.running:
            text = labels.countdown_with_due(clock, now)  # "2.5 wd left · due 12-09 15:00"
        else:
            text = ""
        self.countdown = clock
        self.time_left_label.setToolTip(labels.deadline_name(status) if clock.running else "")
        self.time_left_label.setText(text)
        self.time_left_label.setVisible(bool(text))
        if status == self.deadline_status and self.time_left_label.styleSheet():
            return  # re-styling every second would re-polish the label for nothing
        self.deadline_status = status
        colour = theme.DEADLINE_COLORS[status]
        big = round(self._base_pt * 1.3)
        if status == "overdue":
            style = (f"background: {theme.DEADLINE_COLORS['overdue']}; color: white; "
                     f"border-radius: 4px; padding: 4px 10px;")
        elif status == "none":
            style = f"color: {theme.TEXT_DIM}; padding: 4px 0;"
        else:
            style = (f"color: {colour}; border: 2px solid {colour}; border-radius: 4px;"
                     f" padding: 2px 8px;")
        self.time_left_label.setStyleSheet(f"{style} font-size: {big}pt; font-weight: bold;")

    # -- buttons -------------------------------------------------------------------------
    def _build_step_buttons(self) -> None:
        """One button per step, made once and shown or hidden per case.

        Made once on purpose: buttons re-created per case would need their slots released on
        deletion, and PySide 6.11/6.12 can corrupt the heap releasing a slot while a worker
        thread runs Python. Slots here are bound methods; the step rides on the button.
        """
        self._all_step_buttons: dict[Step, QPushButton] = {}
        order = list(dict.fromkeys(t.step for t in TRANSITIONS))  # the table's order
        for i, step in enumerate(order):
            button = QPushButton(labels.step_name(step.value))
            button.setObjectName(f"step_{step.value}")
            button.setProperty("step", step.value)
            keys = STEP_SHORTCUTS.get(step)
            if keys:
                button.setShortcut(QKeySequence(keys))
                seq = QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)
                button.setToolTip(self.tr("%1 (%2)").replace("%1", labels.step_name(step.value))
                                  .replace("%2", seq))
            if step in FORWARD_STEPS:
                button.setProperty("primary", True)
            if step in DANGER_STEPS:
                button.setStyleSheet(f"QPushButton {{ border: 1px solid "
                                     f"{theme.DEADLINE_COLORS['overdue']}; color: "
                                     f"{theme.DEADLINE_COLORS['overdue']}; }}")
            button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
            button.clicked.connect(self._step_button_clicked)
            button.hide()
            self.buttons_bar.insertWidget(i, button)
            self._all_step_buttons[step] = button

    def _step_button_clicked(self, *_signal_args) -> None:
        button = self.sender()
        if isinstance(button, QPushButton) and button.property("step"):
            self.open_step(Step(button.property("step")))

    def _rebuild_buttons(self, steps: list[Step]) -> None:
        """Show exactly the buttons of ``steps`` (in table order), hide the rest."""
        wanted = set(steps)
        for step, button in self._all_step_buttons.items():
            button.setVisible(step in wanted)
        self.step_buttons = {s: self._all_step_buttons[s] for s in steps}
        self.no_steps_label.setVisible(not steps and self._detail is not None)
        self._set_buttons_enabled(not self._busy)

    def _set_buttons_enabled(self, enabled: bool) -> None:
        for button in self.step_buttons.values():
            button.setEnabled(enabled)

    def visible_steps(self) -> list[Step]:
        """The steps that have a button now, in order."""
        return list(self.step_buttons)

    # -- running steps -------------------------------------------------------------------
    def open_step(self, step: Step | str) -> None:
        """What a button does: load what the step's dialog needs, then open it (non-modal)."""
        step = Step(step)
        d = self._detail
        if d is None or self._busy:
            return
        if not self._ctx.online:
            self._refuse_offline(step)
            return
        case_id, version = d.row.id, d.row.version
        if step == Step.DISPATCH:
            database = self._ctx.database

            def work():
                with database.read() as session:
                    return queries.dispatch_choices(session, case_id)

            self._ctx.reads.run(work, lambda r: self._open_dialog(step, case_id, version,
                                                                   departments=r[0], people=r[1]),
                                self._choices_failed)
        elif step in NEEDS_CLASSES and self._classes is None:
            database, city_id = self._ctx.database, self._ctx.city_id

            def work():
                with database.read() as session:
                    return queries.filter_choices(session, city_id).classes

            def done(classes):
                self._classes = classes
                self._open_dialog(step, case_id, version)

            self._ctx.reads.run(work, done, self._choices_failed)
        else:
            self._open_dialog(step, case_id, version)

    def _choices_failed(self, exc: BaseException) -> None:
        if is_connection_lost(exc):
            self.show_message(offline_text(), "error")
        else:
            self.show_message(self.tr("The choices for this step could not be read: %1")
                              .replace("%1", getattr(exc, "message", None) or str(exc)), "error")

    def _open_dialog(self, step: Step, case_id: int, version: int, *,
                     departments=(), people=()) -> None:
        d = self._detail
        if d is None or d.row.id != case_id or self.current_dialog is not None:
            return  # the officer moved on to another case meanwhile
        dialog = dialog_for(step, d.row.number, self, classes=self._classes or (),
                            departments=departments, people=people, class_id=d.row.class_id,
                            urgency=d.row.urgency, grid_name=d.grid_name)
        self.current_dialog = dialog
        self._dialog_context = (step, case_id, version)
        # A bound method, not a lambda: the dialog is deleted after use (see
        # _build_step_buttons for why lambdas are avoided as slots).
        dialog.finished.connect(self._dialog_finished)
        dialog.open()
        self.sig_dialog_opened.emit(dialog)

    def _dialog_finished(self, result: int) -> None:
        dialog, self.current_dialog = self.current_dialog, None
        if dialog is None or self._dialog_context is None:
            return
        step, case_id, version = self._dialog_context
        self._dialog_context = None
        data = dialog.values() if result == QDialog.DialogCode.Accepted else None
        dialog.deleteLater()
        if data is not None:
            self.run_step(step, case_id=case_id, seen_version=version, **data)

    def run_step(self, step: Step | str, *, case_id: int | None = None,
                 seen_version: int | None = None, **data) -> bool:
        """Run ``step`` with ``data`` on the case on screen (or ``case_id``) off the GUI thread,
        through ``ctx.operations`` (busy, offline, conflict, refusal and success worded there).

        ``seen_version`` defaults to the version on screen: the version the user saw. Returns
        False when the step was refused at once (offline, busy, nothing shown).
        """
        step = Step(step)
        d = self._detail
        if case_id is None:
            if d is None:
                return False
            case_id = d.row.id
        if seen_version is None:
            if d is None or d.row.id != case_id:
                return False
            seen_version = d.row.version
        ops = self._ctx.operations
        what = labels.step_name(step.value)
        fn = STEP_FUNCTIONS[step]
        database, user_id = self._ctx.database, self._ctx.user.id
        if not ops.busy(self):
            self._set_buttons_enabled(False)
            self.show_message(ops.working_text(what), "info")
        return ops.run(self, what, lambda rid: fn(database, user_id, case_id, seen_version,
                                                  request_id=rid, **data),
                       changes=lambda result: {Entity.CASE: [result.case_id]},
                       on_done=lambda report: self._step_finished(step, report))

    @property
    def _busy(self) -> bool:
        return self._ctx.operations.busy(self)

    def retry(self, *_signal_args) -> None:
        """Run the last refused step again, exactly as it was asked for."""
        if self._busy:
            return
        self._set_buttons_enabled(False)
        self.show_message(self._ctx.operations.working_text(self.tr("Try again")), "info")
        if not self._ctx.operations.retry(self) and not self._busy:
            self._set_buttons_enabled(self._detail is not None)

    def _refuse_offline(self, step: Step) -> None:
        self.show_message(offline_text(), "error")
        self.sig_step_finished.emit(step.value, Outcome.OFFLINE.value)

    def _step_finished(self, step: Step, report: Report) -> None:
        if report.outcome == Outcome.BUSY:
            self.show_message(report.text, report.kind)
            return
        if report.ok:
            result = report.value
            self.show_message(
                self.tr("%1 done: case %2 is now “%3”.").replace("%1", labels.step_name(step.value))
                .replace("%2", result.number).replace("%3", labels.unbroken(labels.state_name(result.state))),
                "success")
            self.sig_case_changed.emit(result.case_id)
            self.sig_step_finished.emit(step.value, report.outcome.value)
            if self._wanted_id == result.case_id:
                self._load()
            else:
                self._set_buttons_enabled(True)
            return
        self.show_message(report.text, report.kind, retry=report.retry)
        self.sig_step_finished.emit(step.value, report.outcome.value)
        if isinstance(report.error, ConflictError | InvalidTransition | NotFound | PermissionDenied):
            self._load()  # show what the case is now
        else:
            self._set_buttons_enabled(self._detail is not None)

    # -- messages ------------------------------------------------------------------------
    def show_message(self, text: str, kind: str = "info", *, retry: bool = False) -> None:
        """Show ``text`` at the top of the panel: kind ``info``, ``success`` or ``error``."""
        self.message_kind = kind
        self.message_label.setText(text)
        colours = {"error": (theme.BANNER_ALERT, "#ffffff"), "success": ("#1a4d2e", "#ffffff"),
                   "info": (theme.PANEL_ALT, theme.TEXT)}
        background, colour = colours.get(kind, colours["info"])
        self.message_bar.setStyleSheet(
            f"QFrame#messageBar {{ background: {background}; border-radius: 4px; }}"
            f"QFrame#messageBar QLabel {{ color: {colour}; background: transparent;"
            f" font-weight: bold; }}")
        self.retry_button.setVisible(retry)
        self.message_bar.show()
        if kind == "success":
            self._message_timer.start()
        else:
            self._message_timer.stop()

    def clear_message(self, *_signal_args) -> None:
        self.message_kind = ""
        self.message_label.setText("")
        self.retry_button.hide()
        self.message_bar.hide()

    def _expire_success_message(self) -> None:
        if self.message_kind == "success":
            self.clear_message()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self._tick_timer.stop()
        super().closeEvent(event)


__all__ = ["CaseDetailPanel", "DANGER_STEPS", "FORWARD_STEPS", "STEP_SHORTCUTS"]
