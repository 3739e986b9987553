"""The alert panel: active alarms most severe first, the selected one in detail with its actions
and, for a sensor, its last 24 hours.

Critical alerts nobody has acknowledged cannot be missed: their rows blink, a red bar at the
top of the panel counts them (the window repeats it in its own banner, in case the panel is
hidden), and a chime repeats until they are acknowledged or silenced (:mod:`.alert_sound`).

Actions (the role check is the database's, in :mod:`db.alerts.lifecycle`):

=============  =========  ===========================================================
Acknowledge    Alt+A      records who and when; the alert stays on the list, dimmed. On a
                          group line: every member at once, all or none
Turn to case   Alt+N      a case pre-filled from the alert (source, class, location)
Link case      Alt+L      attach the alert to an existing case by its number
Clear          Alt+X      the alarm is over: the row leaves the list (kept in the database)
Open case      Alt+O      the linked case in the detail panel
Cleared today  Alt+H      toggles a read-only list of today's cleared alerts (who, when, why)
=============  =========  ===========================================================

Alerts of one event (same type, within the shared radius and time window) share one group
line with their count and worst severity (:mod:`db.alerts.grouping`): Right or Enter shows its
members indented below, Left folds them again. The other actions work on one alert: expand the
group and choose the member.

Clearing a critical alarm that is still live (not acknowledged, or its sensor still reads at its
level) needs a reason: the dialog keeps OK disabled until one is typed.

Every read and write runs on the context's runners; the panel follows the change feed through
:meth:`AlertPanel.apply_changes` (entity ``alert``) and :meth:`refresh_sensors` (``sensor``).

Signals
-------
sig_alert_selected(object)
    The selected :class:`db.alerts.lifecycle.AlertRow` (the window shows the nearest cameras).
sig_open_case(int)
    Show this case (the alert's linked case, or the case just created from it).
sig_attention_changed(int)
    How many critical alerts wait for acknowledgement.
"""
from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db.alerts import grouping
from db.alerts import lifecycle as alerts
from db.alerts.lifecycle import AlertRow
from db.cases import queries
from db.core.entities import Entity
from db.worktime.clock import SHANGHAI
from desktop.alerts.cleared import ClearedTodayView
from desktop.alerts.dialogs import ClearDialog, LinkCaseDialog, ToCaseDialog
from desktop.alerts.model import AlertModel, Col, needs_attention
from desktop.alerts.sensor_trend import SensorTrend
from desktop.alerts.severity import SeverityChipDelegate
from desktop.alerts.sound import AlarmSound
from desktop.core import labels, theme
from desktop.core.attention import Attention
from desktop.core.context import AppContext
from desktop.core.errors import Outcome, classify, offline_text
from desktop.core.operations import Report
from desktop.core.widgets import fixed_rows

log = logging.getLogger(__name__)
BLINK_MS = 600
MIN_ROWS = 4  # alerts the list shows at least (8 and more at the default 1920x1080 desk)


def _local(at: dt.datetime | None) -> str:
    return at.astimezone(SHANGHAI).strftime("%m-%d %H:%M:%S") if at else "—"


class AlertPanel(QWidget):
    """See the module docstring."""

    sig_alert_selected = Signal(object)
    sig_open_case = Signal(int)
    sig_attention_changed = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 sound: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("alertPanel")
        self._ctx = ctx
        self._loading = False
        self._load_again = False
        self._pending: set[int] = set()
        self._classes = None
        self.current_dialog: QDialog | None = None
        self._dialog_alert: AlertRow | None = None
        self.message_kind = ""
        self._shown: AlertRow | None = None  # what the detail shows: the actions act on it
        self._shown_group: str | None = None  # or the key of the group line it shows
        self._shown_group_value: grouping.AlertGroup | None = None  # that group, as shown
        self.model = AlertModel(self)
        self.sound = AlarmSound(self, enabled=sound)
        self.attention = Attention(self)  # the window asks for attention behind other programs
        self._ringing: set[int] = set()
        self._build()
        ctx.changes.subscribe(Entity.ALERT, self.apply_changes)
        ctx.changes.subscribe(Entity.SENSOR, self.refresh_sensors)
        ctx.changes.subscribe(Entity.SETTING, self.reload)  # the grouping's radius or window
        self._blink = QTimer(self, interval=BLINK_MS)
        self._blink.timeout.connect(self._on_blink)
        self._blink.start()
        self.sound.sig_changed.connect(self._update_sound_button)
        self.model.rowsInserted.connect(self._contents_changed)
        self.model.rowsRemoved.connect(self._after_rows_removed)
        self.model.modelReset.connect(self._contents_changed)
        self.model.dataChanged.connect(self._on_data_changed)
        self._contents_changed()
        self.reload()

    # -- construction --------------------------------------------------------------------
    def _build(self) -> None:
        self.attention_bar = QLabel()
        self.attention_bar.setTextFormat(Qt.TextFormat.PlainText)
        self.attention_bar.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.attention_bar.hide()
        self.count_label = QLabel()
        self.count_label.setProperty("dim", True)
        # Its text changes with every alert: it must never widen the panel (nor the dock).
        self.count_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.silence_button = QPushButton()
        self.silence_button.clicked.connect(self.sound.silence)
        self.silence_button.setShortcut(QKeySequence("Alt+M"))
        # The red bar takes the count's place in the same row while a critical alarm waits:
        # one line says how many and how bad, and nothing below moves when it comes or goes.
        self.attention_bar.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top = QHBoxLayout()
        top.addWidget(self.count_label, 1)
        top.addWidget(self.attention_bar, 1)
        # Reviewing is not acting on the selected alert: it sits with the panel's own controls,
        # so the five actions keep one row that a desk's dock shows whole.
        top.addWidget(self._build_cleared_toggle())
        top.addWidget(self.silence_button)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Tab leaves the list (the arrows move in it): a Tab that moved the current cell
        # moved the selected alert, and the next Alt+X cleared another one.
        self.table.setTabKeyNavigation(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        fixed_rows(self.table)
        self.table.setItemDelegateForColumn(Col.SEVERITY, SeverityChipDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(Col.TITLE, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.table.installEventFilter(self)  # Right/Enter expand a group line, Left folds it

        # Detail of the selected alert and its actions.
        self.detail_label = QLabel()
        self.detail_label.setTextFormat(Qt.TextFormat.PlainText)  # device / caller text
        self.detail_label.setWordWrap(True)
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ack_button = self._action(self.tr("Acknowledge"), "Alt+A", self.acknowledge)
        self.ack_button.setProperty("primary", True)
        self.case_button = self._action(self.tr("Turn into case"), "Alt+N", self.open_to_case)
        self.link_button = self._action(self.tr("Link to case"), "Alt+L", self.open_link)
        self.clear_button = self._action(self.tr("Clear"), "Alt+X", self.clear_alert)
        self.open_case_button = self._action(self.tr("Open case"), "Alt+O", self._open_linked_case)
        buttons = QHBoxLayout()
        for b in (self.ack_button, self.case_button, self.link_button, self.clear_button,
                  self.open_case_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.message_label = QLabel()
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setWordWrap(True)
        self.message_label.hide()

        # The bottom pane keeps one height whatever is shown in it (see _build_bottom): the
        # list above never jumps when the officer selects a sensor alert.
        detail = self._build_bottom(buttons)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("alertSplitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(detail)
        # A taller dock gives its room to the list; the bottom pane keeps its own height.
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setChildrenCollapsible(False)
        # At least MIN_ROWS alerts stay visible beside the detail and the trend.
        rows = self.table.verticalHeader().defaultSectionSize() * MIN_ROWS
        self.table.setMinimumHeight(rows + self.table.horizontalHeader().sizeHint().height()
                                    + 2 * self.table.frameWidth())
        self._restore_splitters()
        self.splitter.splitterMoved.connect(self._save_splitters)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self.setFocusProxy(self.table)  # F6 to the panel lands on the list
        self._show_selected(None)
        self._update_sound_button()

    def _build_bottom(self, buttons: QHBoxLayout) -> QFrame:
        """The actions over the selected alert's detail (scrolling, left) and its sensor's
        trend (right, shown for a sensor alert only). Showing or hiding the trend changes widths
        inside this pane, never its height: its minimum is the trend's from the start."""
        self.trend = SensorTrend(self._ctx)
        self.trend.hide()
        text = QWidget()
        text_layout = QVBoxLayout(text)
        text_layout.setContentsMargins(0, 0, 0, 0)
        text_layout.addWidget(self.message_label)
        text_layout.addWidget(self.detail_label)
        text_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(text)
        scroll.setMinimumWidth(120)
        self.detail_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.detail_splitter.setObjectName("alertDetailSplitter")
        self.detail_splitter.addWidget(scroll)
        self.detail_splitter.addWidget(self.trend)
        self.detail_splitter.setStretchFactor(0, 1)
        self.detail_splitter.setStretchFactor(1, 1)
        self.detail_splitter.setChildrenCollapsible(False)
        self.detail_splitter.splitterMoved.connect(self._save_splitters)

        detail = QFrame()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 4, 0, 0)
        detail_layout.addLayout(buttons)
        detail_layout.addWidget(self.detail_splitter, 1)
        margins = detail_layout.contentsMargins()
        detail.setMinimumHeight(
            self.ack_button.sizeHint().height() + detail_layout.spacing() + self.trend.minimumSizeHint().height()
            + margins.top() + margins.bottom())
        return detail

    def _settings(self) -> QSettings:
        settings = QSettings()
        settings.beginGroup(self._ctx.settings_scope)
        return settings

    def _save_splitters(self, *_signal_args) -> None:
        """The officer dragged a divider: keep it so for the next start."""
        settings = self._settings()
        settings.setValue("alerts/splitter", self.splitter.saveState())
        settings.setValue("alerts/detail_splitter", self.detail_splitter.saveState())

    def _restore_splitters(self) -> None:
        settings = self._settings()
        for key, splitter in (("alerts/splitter", self.splitter),
                              ("alerts/detail_splitter", self.detail_splitter)):
            state = settings.value(key)
            if isinstance(state, (QByteArray, bytes)):
                splitter.restoreState(QByteArray(state))

    def _action(self, text: str, shortcut: str, slot) -> QPushButton:
        button = QPushButton(f"{text} ({shortcut})")
        # Five in one row must fit a 1280 px desk in English too: less side padding.
        button.setProperty("compact", True)
        button.clicked.connect(slot)
        sc = QShortcut(QKeySequence(shortcut), self)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(slot)
        return button

    # -- loading and the change feed -----------------------------------------------------
    def reload(self, *_signal_args) -> None:
        """Read every uncleared alert again (start, reconnect, feed reload)."""
        if self._loading:
            self._load_again = True
            return
        self._loading = True
        database = self._ctx.database

        def work():
            with database.read() as session:
                return (alerts.active_alerts(session, limit=alerts.ACTIVE_LIMIT),
                        grouping.grouping_settings(session))

        self._ctx.reads.run(work, self._loaded, self._load_failed)

    def _loaded(self, result) -> None:
        self._loading = False
        rows, (radius_m, window) = result
        keep, keep_group = self.selected_alert_id(), self._shown_group
        self.model.set_grouping(radius_m, window)
        self.model.set_alerts(rows)
        # Ids the feed named meanwhile stay pending: their reads queue behind this one.
        if keep_group is not None and not self.select_group(keep_group):
            self._show_selected(None)
        if keep is not None and self._shown is None and not self.select_alert(keep):
            self._show_selected(None)
        if self._load_again:
            self._load_again = False
            self.reload()

    def _load_failed(self, exc: BaseException) -> None:
        self._loading = False
        self.show_message(self.tr("The alerts could not be read: %1")
                          .replace("%1", getattr(exc, "message", None) or str(exc)), "error")

    def apply_changes(self, alert_ids, origin: object | None = None) -> None:
        """These alerts changed: re-read them and place each row. This panel's own action
        (``origin``) merged the row it got back already."""
        if origin is self:
            return
        ids = {i for i in alert_ids if i is not None}
        if not ids:
            return
        if self._pending:  # a read is already on its way: ride along with the next one
            self._pending |= ids
            return
        self._pending = set(ids)
        self._read_pending()

    def _read_pending(self) -> None:
        ids = sorted(self._pending)
        database = self._ctx.database

        def work():
            with database.read() as session:
                return alerts.alert_rows(session, ids)

        def done(rows: list[AlertRow]) -> None:
            found = {r.id for r in rows}
            later = self._pending - set(ids)
            self.model.merge(rows, gone=[i for i in ids if i not in found])
            self._pending = later
            self._refresh_selected(rows)
            if later:
                self._read_pending()

        def failed(exc: BaseException) -> None:
            self._pending.clear()
            self._load_failed(exc)

        self._ctx.reads.run(work, done, failed)

    def refresh_sensors(self, sensor_ids, _origin: object | None = None) -> None:
        self.trend.refresh(set(sensor_ids))

    # -- selection -----------------------------------------------------------------------
    def selected_alert(self) -> AlertRow | None:
        """The alert the officer chose (as it is now), not whatever row Qt made current."""
        if self._shown is None:
            return None
        return self.model.alert(self.model.row_of(self._shown.id))

    def selected_group(self) -> grouping.AlertGroup | None:
        """The group line the officer chose (as it is now), if a group line is chosen."""
        if self._shown_group is None:
            return None
        return self.model.group(self.model.row_of_group(self._shown_group))

    def select_group(self, key: str) -> bool:
        return self._select_row(self.model.row_of_group(key))

    def selected_alert_id(self) -> int | None:
        a = self.selected_alert()
        return a.id if a else None

    def select_alert(self, alert_id: int) -> bool:
        """Select this alert's line; one folded into a group opens the group first."""
        group = self.model.group_of(alert_id)
        if group is not None and self.model.row_of(alert_id) < 0:
            self.model.set_expanded(group.key, True)
        return self._select_row(self.model.row_of(alert_id))

    def _select_row(self, row: int) -> bool:
        if row < 0:
            return False
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)
        return True

    def select_most_urgent(self) -> None:
        """F9 from anywhere: the first alert waiting for acknowledgement (critical first),
        else the top of the list; focus on the list."""
        rows = self.model.alerts
        waiting = next((r for r in rows if needs_attention(r)), None) \
            or next((r for r in rows if r.state == "active"), None) \
            or (rows[0] if rows else None)
        if waiting is not None:
            group = self.model.group_of(waiting.id)
            if group is not None and self.model.row_of(waiting.id) < 0:
                self.select_group(group.key)  # Alt+A then acknowledges the whole event
            else:
                self.select_alert(waiting.id)
        self.table.setFocus()

    def _after_rows_removed(self, *_signal_args) -> None:
        lost: list[int] | None = None
        if self._shown is not None and self.model.row_of(self._shown.id) < 0:
            lost = [self._shown.id]
        elif self._shown_group is not None and self.model.row_of_group(self._shown_group) < 0:
            group = self._group_shown
            lost = group.ids if group is not None else []
        if lost is not None:
            # The line on screen went: show nothing rather than the neighbour Qt makes
            # current, which a second Alt+X would then clear unseen. Qt settles its current
            # index after this signal (and the model its other lines), so the next turn
            # selects where those alerts are now: the group an alert was folded into, the
            # group or alert left of a group that changed; or nothing (cleared).
            self._show_selected(None)
            QTimer.singleShot(0, lambda: self._settle_selection(lost))
        self._contents_changed()

    def _settle_selection(self, ids: list[int]) -> None:
        if self._shown is not None or self._shown_group is not None:
            return  # the officer chose meanwhile
        for alert_id in ids:
            group = self.model.group_of(alert_id)
            if self.model.row_of(alert_id) >= 0:
                if self.select_alert(alert_id):
                    return
            elif group is not None and self.select_group(group.key):
                return
        self.table.selectionModel().clear()

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.model.removing is not None:
            return  # Qt moving the current row off a line being removed: not a choice
        group = self.model.group(current.row()) if current.isValid() else None
        if group is not None:
            self._show_group(group)
            self.sig_alert_selected.emit(group.members[0])  # the worst: cameras near it
            return
        alert = self.model.alert(current.row()) if current.isValid() else None
        self._show_selected(alert)
        if alert is not None:
            self.sig_alert_selected.emit(alert)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if watched is self.table and event.type() == QEvent.Type.KeyPress \
                and event.modifiers() in (Qt.KeyboardModifier.NoModifier,
                                          Qt.KeyboardModifier.KeypadModifier):
            key = event.key()
            if key in (Qt.Key.Key_Right, Qt.Key.Key_Return, Qt.Key.Key_Enter):
                return self.expand_selected(True)
            if key == Qt.Key.Key_Left:
                return self.expand_selected(False)
        return super().eventFilter(watched, event)

    def expand_selected(self, expanded: bool) -> bool:
        """Open (or fold) the chosen group line; Left on a member folds its group and goes to
        the group line. True when it did something."""
        group = self.selected_group()
        if group is None and not expanded and self._shown is not None:
            group = self.model.group_of(self._shown.id)
            if group is None:
                return False
            self.select_group(group.key)
        if group is None or (group.key in self.model.expanded) == expanded:
            return False
        self.model.set_expanded(group.key, expanded)
        return True

    @property
    def _group_shown(self) -> grouping.AlertGroup | None:
        return self._shown_group_value

    def _refresh_selected(self, rows) -> None:
        shown = self.selected_alert()
        if shown is not None and any(r.id == shown.id for r in rows):
            self._show_selected(shown)
        group = self.selected_group()
        if group is not None:
            self._show_group(group)

    def _on_data_changed(self, top: QModelIndex, bottom: QModelIndex, roles=()) -> None:
        if roles and Qt.ItemDataRole.DisplayRole not in roles:
            return  # blinking only
        shown = self.selected_alert()
        if shown is not None and top.row() <= self.model.row_of(shown.id) <= bottom.row():
            self._show_selected(shown)
        group = self.selected_group()
        if group is not None and top.row() <= self.model.row_of_group(group.key) <= bottom.row():
            self._show_group(group)
        self._contents_changed()

    def _on_double_clicked(self, index: QModelIndex) -> None:
        group = self.model.group(index.row())
        if group is not None:
            self.model.set_expanded(group.key, group.key not in self.model.expanded)
            return
        alert = self.model.alert(index.row())
        if alert is not None and alert.case_id is not None:
            self.sig_open_case.emit(alert.case_id)

    def _show_group(self, g: grouping.AlertGroup) -> None:
        """A group line chosen: what the event is and how many wait; Alt+A acknowledges all."""
        self._show_selected(None)
        self._shown_group, self._shown_group_value = g.key, g
        waiting = [m for m in g.members if m.state == "active"]
        first = g.members[0]
        lines = [self.tr("%1 · %2 alerts of one event · %3")
                 .replace("%1", labels.severity_name(g.severity)).replace("%2", str(g.count))
                 .replace("%3", first.title)]
        lines += self._where(g.town_name, g.lat, g.lon)
        lines.append(self.tr("First %1 · last %2 · %3 unacknowledged")
                     .replace("%1", _local(g.first_at)).replace("%2", _local(g.last_at))
                     .replace("%3", str(len(waiting))))
        lines += [f"  {labels.severity_name(m.severity)} · {labels.alert_state_name(m.state)} · "
                  f"{' '.join(m.title.split())}" for m in g.members[:10]]
        self.detail_label.setText("\n".join(lines))
        self.ack_button.setEnabled(not self._busy and bool(waiting))

    def _where(self, town: str | None, lat: float | None, lon: float | None) -> list[str]:
        """The "Where:" line of an alert or a group (town and coordinates), if it has a place."""
        where = town or ""
        if lat is not None and lon is not None:
            where = f"{where} ({lat:.5f}, {lon:.5f})".strip()
        return [self.tr("Where: %1").replace("%1", where)] if where else []

    def _show_selected(self, a: AlertRow | None) -> None:
        self._shown = a
        self._shown_group = self._shown_group_value = None
        if a is None:
            self.detail_label.setText(self.tr("Select an alert to see it here."))
            for b in (self.ack_button, self.case_button, self.link_button, self.clear_button,
                      self.open_case_button):
                b.setEnabled(False)
            self.trend.hide()
            self.trend.show_sensor(None)
            return
        lines = [
            f"{labels.severity_name(a.severity)} · {labels.alert_source_name(a.source)} · "
            f"{labels.alert_state_name(a.state)} · {a.title}",
        ]
        if a.detail:
            lines.append(a.detail)
        lines += self._where(a.town_name, a.lat, a.lon)
        lines.append(self.tr("First %1 · last %2 · %3 times")
                     .replace("%1", _local(a.first_at)).replace("%2", _local(a.last_at))
                     .replace("%3", str(a.repeat_count)))
        if a.acknowledged_at is not None:
            lines.append(self.tr("Acknowledged by %1 at %2")
                         .replace("%1", a.acknowledged_by or "?")
                         .replace("%2", _local(a.acknowledged_at)))
        if a.case_no:
            lines.append(self.tr("Case: %1").replace("%1", a.case_no))
        self.detail_label.setText("\n".join(lines))
        writable = not self._busy
        self.ack_button.setEnabled(writable and a.state == "active")
        self.case_button.setEnabled(writable and a.case_id is None)
        self.link_button.setEnabled(writable and a.case_id is None)
        self.clear_button.setEnabled(writable)
        self.open_case_button.setEnabled(a.case_id is not None)
        if a.sensor_id is not None:
            self.trend.show()
            self.trend.show_sensor(a.sensor_id)
        else:
            self.trend.hide()
            self.trend.show_sensor(None)

    # -- critical cue ----------------------------------------------------------------------
    def _contents_changed(self, *_signal_args) -> None:
        rows = self.model.alerts
        ringing = {r.id for r in rows if needs_attention(r)}
        critical = sum(1 for r in rows if r.severity == "critical")
        shown = f"{len(rows)}+" if len(rows) >= alerts.ACTIVE_LIMIT else str(len(rows))
        self.count_label.setText(self.tr("%1 active alerts · %2 critical")
                                 .replace("%1", shown).replace("%2", str(critical)))
        if ringing:
            self.attention_bar.setText(
                self.tr("%1 critical alerts await acknowledgement (F9)").replace("%1", str(len(ringing))))
            self.attention_bar.setToolTip(self.count_label.text())
            self.count_label.hide()
            self.attention_bar.show()
            self._on_blink_style()
        else:
            self.attention_bar.hide()
            self.count_label.show()
        self.sound.update(ringing)  # the chime plays whether or not the window has focus
        if ringing - self._ringing:  # a new critical alert: the desk must notice, even behind
            self.attention.request()  # another program (a no-op while the window is active)
        self._ringing = ringing
        self.sig_attention_changed.emit(len(ringing))

    def _on_blink(self) -> None:
        self.model.flip_blink()
        if self.attention_bar.isVisible():
            self._on_blink_style()

    def _on_blink_style(self) -> None:
        on = self.model.blink_phase
        self.attention_bar.setStyleSheet(
            f"background: {theme.BANNER_ALERT if on else '#5c1414'}; color: white;"
            " font-weight: bold; padding: 4px 6px; border-radius: 4px;")

    def _update_sound_button(self) -> None:
        b = self.silence_button
        if not self.sound.available:
            b.setText(self.tr("No sound"))
            b.setToolTip(self.tr("This workstation has no audio output; critical alerts blink instead."))
            b.setEnabled(False)
        elif self.sound.sounding:
            b.setText(self.tr("Silence alarm (Alt+M)"))
            b.setToolTip(self.tr("Silences the alarms ringing now; a new critical alert sounds again."))
            b.setEnabled(True)
        else:
            b.setText(self.tr("Silenced") if self.sound.silenced else self.tr("Sound on"))
            b.setEnabled(False)

    # -- actions ---------------------------------------------------------------------------
    def _can_write(self) -> AlertRow | None:
        a = self._shown
        if a is None or self._busy:
            return None
        if not self._ctx.online:
            self.show_message(offline_text(), "error")
            return None
        return a

    @property
    def _busy(self) -> bool:
        return self._ctx.operations.busy(self)

    def _run(self, what: str, fn, on_done=None, *, touches_case: bool = False) -> None:
        """An alert action ``fn(request_id)`` through ``ctx.operations``: it words every outcome; the changed
        alert (and, for link and turn-into-case, its case) reach every panel through the change
        router."""

        def changed_rows(result) -> list[AlertRow]:
            if isinstance(result, list):  # a group acknowledged
                return result
            return [result[1] if isinstance(result, tuple) else result]

        def changes(result) -> dict:
            rows = changed_rows(result)
            out = {Entity.ALERT: [r.id for r in rows]}
            cases = [r.case_id for r in rows if r.case_id is not None]
            if touches_case and cases:
                out[Entity.CASE] = cases
            return out

        def finished(report: Report) -> None:
            if report.ok:
                rows = changed_rows(report.value)
                self.model.merge(rows)
                self._refresh_selected(rows)
                self.show_message(report.text, report.kind)
                if on_done is not None:
                    on_done(report.value)
                return
            self.show_message(report.text, report.kind)
            group = self.selected_group()
            if report.outcome != Outcome.BUSY and self._shown is not None:
                self.apply_changes([self._shown.id])  # show what the alert is now
            elif report.outcome != Outcome.BUSY and group is not None:
                self.apply_changes(group.ids)  # show what the group is now
            self._show_again()

        started = self._ctx.operations.run(self, what, fn, changes=changes, on_done=finished)
        if started:
            self._show_again()
            self.show_message(self._ctx.operations.working_text(what), "info")

    def _show_again(self) -> None:
        """The detail of what is chosen as it is now (buttons follow the busy state)."""
        group = self.selected_group()
        if group is not None:
            self._show_group(group)
        else:
            self._show_selected(self.selected_alert())

    def _failed(self, what: str, exc: BaseException) -> None:
        """A read for an action (the turn-into-case draft) failed: say why, show the alert as
        it is now."""
        _outcome, text = classify(exc)
        self.show_message(text, "error")
        if self._shown is not None:
            self.apply_changes([self._shown.id])
        self._show_selected(self.selected_alert())

    def acknowledge(self, *_signal_args) -> None:
        """Alt+A: the chosen alert, or every unacknowledged member of the chosen group line in
        one transaction (:func:`db.alerts.lifecycle.acknowledge_many`: all or none)."""
        group = self.selected_group()
        if group is not None:
            self._acknowledge_group(group)
            return
        a = self._can_write()
        if a is None or a.state != "active":
            return
        database, user_id, alert_id, version = self._ctx.database, self._ctx.user.id, a.id, a.version
        self._run(self.tr("Acknowledge"),
                  lambda rid: alerts.acknowledge(database, user_id, alert_id, version,
                                                   request_id=rid))

    def _acknowledge_group(self, group: grouping.AlertGroup) -> None:
        if self._busy:
            return
        if not self._ctx.online:
            self.show_message(offline_text(), "error")
            return
        seen = [(m.id, m.version) for m in group.members if m.state == "active"]
        if not seen:
            return
        database, user_id = self._ctx.database, self._ctx.user.id
        self._run(self.tr("Acknowledge"),
                  lambda rid: alerts.acknowledge_many(database, user_id, seen, request_id=rid))

    def clear_alert(self, *_signal_args) -> None:
        """Ask first (with an optional note): clearing ends the alarm for every workstation."""
        a = self._can_write()
        if a is None or self.current_dialog is not None:
            return
        self._open_clear_dialog(a)

    def _open_clear_dialog(self, a: AlertRow) -> None:
        """The clear dialog at once; it requires a reason for a critical alarm nobody has
        acknowledged. For an acknowledged critical alarm the database says whether its sensor
        still reads at that level, and the dialog then asks for a reason too."""
        dialog = ClearDialog(a, self)
        self._open_dialog(dialog, a)
        if a.severity != "critical" or dialog.reason_required:
            return
        database, alert_id = self._ctx.database, a.id

        def work() -> bool:
            with database.read() as session:
                return alerts.clear_reason_required(session, alert_id)

        def done(required: bool) -> None:
            if self.current_dialog is dialog and required:
                dialog.set_reason_required(True)

        self._ctx.reads.run(work, done, lambda exc: log.warning("clear rule read failed: %s", exc))

    # -- cleared today -----------------------------------------------------------------------
    def _build_cleared_toggle(self) -> QPushButton:
        """The "Cleared today" toggle of the button row; its list is made when first shown."""
        self.cleared_view: ClearedTodayView | None = None
        self.cleared_button = QPushButton(self.tr("Cleared today (Alt+H)"))
        self.cleared_button.setObjectName("clearedToday")
        self.cleared_button.setCheckable(True)
        self.cleared_button.setShortcut(QKeySequence("Alt+H"))
        self.cleared_button.setToolTip(self.tr("Review the alerts cleared today: who, when and why"))
        self.cleared_button.toggled.connect(self.show_cleared_today)
        # It may shrink rather than widen the panel (and so the window) past the action buttons.
        return self.cleared_button

    def show_cleared_today(self, shown: bool = True) -> None:
        """Show (read afresh) or hide the read-only list of today's cleared alerts, between
        the live list and the detail."""
        if self.cleared_button.isChecked() != shown:
            self.cleared_button.setChecked(shown)  # comes back here through toggled
            return
        if shown:
            if self.cleared_view is None:
                self.cleared_view = ClearedTodayView(self._ctx, self)
                self.splitter.insertWidget(1, self.cleared_view)
            self.cleared_view.show()
            self.cleared_view.reload()
        elif self.cleared_view is not None:
            self.cleared_view.hide()

    def open_to_case(self, *_signal_args) -> None:
        a = self._can_write()
        if a is None or a.case_id is not None or self.current_dialog is not None:
            return
        database, city_id, alert_id = self._ctx.database, self._ctx.city_id, a.id
        need_classes = self._classes is None

        def work():
            with database.read() as session:
                classes = queries.filter_choices(session, city_id).classes if need_classes else None
                return classes, alerts.case_draft(session, alert_id)

        def done(result) -> None:
            classes, draft = result
            if classes is not None:
                self._classes = classes
            if self.selected_alert_id() != alert_id or self.current_dialog is not None:
                return  # the officer moved on meanwhile
            dialog = ToCaseDialog(a, draft, self._classes or (), self)
            self._open_dialog(dialog, a)

        self._ctx.reads.run(work, done, lambda exc: self._failed(self.tr("Turn into case"), exc))

    def open_link(self, *_signal_args) -> None:
        a = self._can_write()
        if a is None or a.case_id is not None or self.current_dialog is not None:
            return
        self._open_dialog(LinkCaseDialog(a, self), a)

    def _open_dialog(self, dialog: QDialog, alert: AlertRow) -> None:
        self.current_dialog = dialog
        self._dialog_alert = alert
        dialog.finished.connect(self._dialog_finished)
        dialog.open()

    def _dialog_finished(self, result: int) -> None:
        dialog, self.current_dialog = self.current_dialog, None
        alert, self._dialog_alert = self._dialog_alert, None
        if dialog is None or alert is None:
            return
        data = dialog.values() if result == QDialog.DialogCode.Accepted else None
        kind = type(dialog)
        dialog.deleteLater()
        if data is None:
            return
        database, user_id = self._ctx.database, self._ctx.user.id
        # The version on screen now: another desk acknowledging meanwhile (seen here through
        # the feed) must not throw away what the officer typed. Anything that changed the
        # decision (cleared, linked) is refused by the database all the same.
        at = self.model.row_of(alert.id)
        current = self.model.alert(at) if at >= 0 else alert
        alert_id, version = alert.id, current.version
        if kind is ClearDialog:
            self._run(self.tr("Clear"),
                      lambda rid: alerts.clear(database, user_id, alert_id, version,
                                                   request_id=rid, **data))
        elif kind is ToCaseDialog:
            self._run(self.tr("Turn into case"),
                      lambda rid: alerts.to_case(database, user_id, alert_id, version,
                                                     request_id=rid, **data),
                      lambda result: self.sig_open_case.emit(result[0].case_id), touches_case=True)
        else:
            self._run(self.tr("Link to case"),
                      lambda rid: alerts.link_case(database, user_id, alert_id, version,
                                                       request_id=rid, **data),
                      touches_case=True)

    def _open_linked_case(self, *_signal_args) -> None:
        a = self.selected_alert()
        if a is not None and a.case_id is not None:
            self.sig_open_case.emit(a.case_id)

    # -- messages --------------------------------------------------------------------------
    def show_message(self, text: str, kind: str = "info") -> None:
        self.message_kind = kind
        colour = {"error": "#ff4d4f", "success": theme.DEADLINE_COLORS["on_track"]}.get(kind, theme.TEXT_DIM)
        self.message_label.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.message_label.setText(text)
        self.message_label.show()

    def shutdown(self) -> None:
        self._blink.stop()
        self.sound.shutdown()


__all__ = ["AlertPanel"]
