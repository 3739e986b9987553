"""The case queue panel: a filter bar over the lazy case table.

Everything is reachable from the keyboard: arrows move, Enter opens the case, Ctrl+F jumps to
the search field (Enter there goes back to the table), F5 re-reads the queue. Filters and the
sort order are applied by the database (see :mod:`desktop.queue.model`).

A case number or a reporter's phone typed in the search finds the case whatever the filters
(:func:`db.cases.queries.find_by_number_or_phone`): when the filters hide it, a notice under
the bar says which one, and Enter in the search (or a double click on the notice) opens it.

Signals
-------
sig_case_selected(int)
    The selected case changed, by the user or by :meth:`QueuePanel.select_case`. Emitted once per
    change of case id, not again when the same case is re-selected after a reload. Only a
    selected row counts: when the selected case leaves the list (acted on, filtered out) the
    selection is simply empty, and the row Qt makes current by itself (the next one, or the
    first when the table gets the focus back from a dialog) is not a choice.
sig_open_case(int)
    The user asked to open a case (Enter/Return or a double click on its row).
sig_filter_changed()
    The filter bar produced a new :class:`~db.cases.queries.QueueFilter`.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QItemSelectionModel, QLocale, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db.cases import queries
from db.cases.queries import QueueFilter
from db.cases.workflow import Source, State, Urgency
from desktop.core import labels, theme
from desktop.core.context import AppContext
from desktop.core.widgets import fixed_rows
from desktop.queue.model import CaseQueueModel, Col

log = logging.getLogger(__name__)

ALL = "all"  # state combo: every state, closed and void included


class CaseTableView(QTableView):
    """A read-only table whose Enter/Return opens the selected row.

    Its columns fit its width: :meth:`set_default_widths` gives each column the width it
    should have; when they do not all fit, the columns that elide well (class, town, assignee,
    state, source) give way, in proportion, down to a floor, so that every column stays on
    screen. Once the officer drags a column, the widths are the officer's and stay put.
    """

    sig_enter = Signal(QModelIndex)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._defaults: dict[int, int] = {}
        self._shrinkable: tuple[int, ...] = ()
        self._floors: dict[int, int] = {}
        self._fitting = False
        self.columns_dragged = False
        self.horizontalHeader().sectionResized.connect(self._section_resized)

    def set_default_widths(self, widths: dict[int, int], shrinkable,
                           floors: dict[int, int]) -> None:
        """``floors``: the narrowest each shrinkable column may become (its header's title
        must stay whole: an officer reading "Assi…" cannot tell what the column is)."""
        self._defaults = dict(widths)
        self._shrinkable = tuple(int(c) for c in shrinkable)
        self._floors = dict(floors)
        self.fit_columns()

    def fit_columns(self) -> None:
        if self.columns_dragged or not self._defaults:
            return
        widths = dict(self._defaults)
        room = self.viewport().width()
        excess = sum(widths.values()) - room
        if excess > 0 and room > 0:
            give = {c: max(0, widths[c] - self._floors.get(c, 0)) for c in self._shrinkable}
            total = sum(give.values())
            for c, can in give.items():
                widths[c] -= min(can, -(-excess * can // total)) if total else 0
        header = self.horizontalHeader()
        self._fitting = True
        try:
            for col, width in widths.items():
                header.resizeSection(col, width)
        finally:
            self._fitting = False

    def _section_resized(self, logical: int, _old: int, _new: int) -> None:
        header = self.horizontalHeader()
        last = header.logicalIndex(header.count() - 1)
        if not self._fitting and logical != last and self.isVisible() \
                and header.sectionsClicked() and QApplication.mouseButtons():
            self.columns_dragged = True  # the officer's hand: leave the widths alone

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self.fit_columns()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            rows = self.selectionModel().selectedRows()
            if rows:
                self.sig_enter.emit(rows[0])
                event.accept()
                return
        super().keyPressEvent(event)


class Notice(QLabel):
    """A one-line notice that a double click acts on."""

    sig_activated = Signal()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.sig_activated.emit()
        event.accept()


class QueuePanel(QWidget):
    """Filter bar + case table. See the module docstring for signals and keys.

    :meth:`select_case` on a case that is not in the list: if a text search is active it is
    cleared once and the selection retried when the new list arrives (a search is a transient
    narrowing; the state/town/class/source filters are deliberate and are left alone). If the
    case is still absent (closed, or filtered out) the queue's selection is cleared and
    ``sig_case_selected`` is still emitted for it, so a map click always shows its case.
    """

    sig_case_selected = Signal(int)
    sig_open_case = Signal(int)
    sig_filter_changed = Signal()

    SEARCH_DEBOUNCE_MS = 300

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 model: CaseQueueModel | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queuePanel")
        self._ctx = ctx
        self._current_case_id: int | None = None
        self._pending_select: int | None = None
        self._pending_retried = False
        # The search's lookup by number or phone: the text it was for, and the case it found
        # outside the filters when nothing it found is inside them.
        self._looked_up: str | None = None
        self._outside: int | None = None
        self._open_when_found = False

        self._build_filter_bar()
        self.model = model or CaseQueueModel(ctx, self, flt=self.current_filter(), autoload=False)
        self._build_table()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(self._bar)
        layout.addWidget(self.outside_notice)
        layout.addWidget(self.table, 1)
        self.setFocusProxy(self.table)  # focusing the panel (Ctrl+L in the window) focuses rows

        # Bound methods only, never lambdas, as slots: see desktop/queue_model.py.
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(self.SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.apply_filter)
        self.search_edit.textChanged.connect(self._search_text_changed)
        self.search_edit.returnPressed.connect(self._search_entered)
        for combo in (self.state_combo, self.town_combo, self.class_combo, self.source_combo):
            combo.currentIndexChanged.connect(self.apply_filter)
        self.overdue_button.toggled.connect(self.apply_filter)
        self.mine_button.toggled.connect(self.apply_filter)
        self._scroll_target: int | None = None

        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.setContext(Qt.ShortcutContext.WindowShortcut)
        find.activated.connect(self.focus_search)
        refresh = QShortcut(QKeySequence(Qt.Key.Key_F5), self)
        refresh.setContext(Qt.ShortcutContext.WindowShortcut)
        refresh.activated.connect(self.refresh)
        self._shortcuts = (find, refresh)

        self.model.sig_loaded.connect(self._loaded)
        self.model.sig_load_failed.connect(self._load_failed)
        self.model.modelReset.connect(self._restore_selection)
        self._anchor: tuple[int, int, int] | None = None  # case id, rows below top, pixels
        self.model.layoutAboutToBeChanged.connect(self._remember_anchor)
        self.model.layoutChanged.connect(self._restore_anchor)
        self._set_status(self.tr("Loading…"))
        self._load_choices()
        if not self.model.loaded:
            self.model.set_filter(self.current_filter())

    # -- construction --------------------------------------------------------------------
    def _build_filter_bar(self) -> None:
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("queueSearch")
        self.search_edit.setPlaceholderText(
            self.tr("Search number, phone, address or description (Ctrl+F)"))
        self.search_edit.setClearButtonEnabled(True)

        self.overdue_button = QPushButton(self.tr("Overdue"))
        self.overdue_button.setCheckable(True)
        self.overdue_button.setToolTip(self.tr("Show only cases past their deadline"))
        self.mine_button = QPushButton(self.tr("Mine"))
        self.mine_button.setCheckable(True)
        self.mine_button.setToolTip(self.tr("Show only cases assigned to me"))
        toggle_css = (f"QPushButton:checked {{ background: {theme.ACCENT}; color: white; "
                      f"border: 1px solid {theme.ACCENT}; font-weight: bold; }}")
        self.mine_button.setStyleSheet(toggle_css)
        self.overdue_button.setStyleSheet(
            f"QPushButton:checked {{ background: {theme.DEADLINE_COLORS['overdue']}; "
            f"color: white; border: 1px solid {theme.DEADLINE_COLORS['overdue']}; "
            f"font-weight: bold; }}")

        self.state_combo = QComboBox()
        self.state_combo.setToolTip(self.tr("State"))
        self.state_combo.addItem(self.tr("Open cases"), None)
        for state in State:
            self.state_combo.addItem(labels.state_name(state.value), state.value)
        self.state_combo.addItem(self.tr("All cases"), ALL)

        self.town_combo = QComboBox()
        self.town_combo.setToolTip(self.tr("Town"))
        self.town_combo.addItem(self.tr("All towns"), None)
        self.class_combo = QComboBox()
        self.class_combo.setToolTip(self.tr("Class"))
        self.class_combo.addItem(self.tr("All classes"), None)
        self.source_combo = QComboBox()
        self.source_combo.setToolTip(self.tr("Source"))
        self.source_combo.addItem(self.tr("All sources"), None)
        for source in Source:
            self.source_combo.addItem(labels.source_name(source.value), source.value)
        for combo in (self.state_combo, self.town_combo, self.class_combo, self.source_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
            combo.setMaxVisibleItems(20)

        self.count_label = QLabel()
        self.count_label.setObjectName("queueCount")
        self.count_label.setTextFormat(Qt.TextFormat.PlainText)
        self.count_label.setProperty("dim", True)
        self.outside_notice = Notice()
        self.outside_notice.setObjectName("queueOutside")
        self.outside_notice.setTextFormat(Qt.TextFormat.PlainText)
        self.outside_notice.setWordWrap(True)
        self.outside_notice.setStyleSheet(f"color: {theme.ACCENT}; font-weight: bold;")
        self.outside_notice.hide()
        self.outside_notice.sig_activated.connect(self.open_outside)

        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.overdue_button)
        top.addWidget(self.mine_button)
        combos = QHBoxLayout()
        combos.setSpacing(6)
        for combo in (self.state_combo, self.town_combo, self.class_combo, self.source_combo):
            combos.addWidget(combo, 1)
        combos.addWidget(self.count_label)
        self._bar = QGridLayout()
        self._bar.setSpacing(6)
        self._bar.addLayout(top, 0, 0)
        self._bar.addLayout(combos, 1, 0)

    def _build_table(self) -> None:
        table = self.table = CaseTableView()
        table.setObjectName("queueTable")
        table.setModel(self.model)
        table.setAlternatingRowColors(True)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setTabKeyNavigation(False)  # Tab leaves the table; the arrows move in it
        table.setWordWrap(False)
        table.setShowGrid(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        fm = table.fontMetrics()
        vheader = table.verticalHeader()
        vheader.setVisible(False)
        fixed_rows(table)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionsMovable(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        em = fm.horizontalAdvance("M")
        cjk = fm.horizontalAdvance("中")

        def widest(texts) -> int:
            return max(fm.horizontalAdvance(t) for t in texts) + 2 * em

        # Widths from the (translated) words each column can hold, so Chinese stays compact
        # and English is not cut; long class, town, assignee and state names elide.
        widths = {
            Col.NUMBER: fm.horizontalAdvance("2024010100001234") + em,
            Col.TIME_LEFT: widest(["-888h 88m", self.model.tr("Time left")]),
            Col.URGENCY: widest([labels.urgency_name(u.value) for u in Urgency]),
            Col.STATE: min(widest([labels.state_name(s.value) for s in State]), 8 * em),
            Col.CLASS: 5 * cjk + em, Col.TOWN: 4 * cjk + em,
            Col.ASSIGNEE: 5 * cjk + em,
            Col.SOURCE: min(widest([labels.source_name(s.value) for s in Source]), 7 * em),
        }
        bold = QFont(table.font())
        bold.setBold(True)
        header_fm = QFontMetrics(bold)
        floors = {}
        for col in widths:
            # Never narrower than the (bold) header text and the theme's padding; a default
            # width leaves room for the sort arrow too.
            title = str(self.model.headerData(col, Qt.Orientation.Horizontal) or "")
            floors[col] = max(3 * cjk, header_fm.horizontalAdvance(title) + 12)
            widths[col] = max(widths[col], header_fm.horizontalAdvance(title) + 2 * em)
        table.set_default_widths(widths, (Col.CLASS, Col.TOWN, Col.ASSIGNEE, Col.STATE, Col.SOURCE),
                                 floors=floors)
        # What a duty officer scans first comes first on screen (the model keeps its column
        # order): number, time left, urgency, state, then class, town, assignee, source.
        for visual, col in enumerate((Col.NUMBER, Col.TIME_LEFT, Col.URGENCY, Col.STATE,
                                      Col.CLASS, Col.TOWN, Col.ASSIGNEE, Col.SOURCE)):
            header.moveSection(header.visualIndex(col), visual)
        header.setStretchLastSection(True)
        # The default order is the most urgent deadline first; clicking a header re-sorts in the db.
        header.setSortIndicator(Col.TIME_LEFT, Qt.SortOrder.AscendingOrder)
        table.setSortingEnabled(True)
        table.selectionModel().selectionChanged.connect(self._selection_changed)
        table.sig_enter.connect(self._open_index)
        table.doubleClicked.connect(self._open_index)

    # -- filters -------------------------------------------------------------------------
    def current_filter(self) -> QueueFilter:
        """The :class:`~db.cases.queries.QueueFilter` the bar describes right now."""
        state = self.state_combo.currentData()
        if state is None:
            states = QueueFilter().states  # the open states
        elif state == ALL:
            states = frozenset()
        else:
            states = frozenset({state})
        town, cls, source = (c.currentData() for c in (self.town_combo, self.class_combo,
                                                        self.source_combo))
        return QueueFilter(
            states=states,
            town_ids=frozenset({town}) if town is not None else frozenset(),
            class_ids=frozenset({cls}) if cls is not None else frozenset(),
            sources=frozenset({source}) if source is not None else frozenset(),
            overdue_only=self.overdue_button.isChecked(),
            assignee_user_id=self._ctx.user.id if self.mine_button.isChecked() else None,
            text=self.search_edit.text().strip(),
            city_id=self._ctx.city_id,
        )

    def apply_filter(self, *_signal_args) -> None:
        """Apply the bar's filter now (the search field calls this after its debounce)."""
        self._search_timer.stop()
        flt = self.current_filter()
        if flt == self.model.queue_filter and self.model.loaded:
            return
        self._set_status(self.tr("Loading…"))
        self.model.set_filter(flt)
        self._look_up(flt)
        self.sig_filter_changed.emit()

    # -- the search by number or phone ---------------------------------------------------
    def _look_up(self, flt: QueueFilter) -> None:
        """Find the case whose number or phone was typed, whatever the filters."""
        self._outside, self._looked_up, self._open_when_found = None, None, False
        self.outside_notice.hide()
        if not queries.number_or_phone_digits(flt.text):
            return
        database, user_id = self._ctx.database, self._ctx.user.id

        def work() -> list[queries.CaseMatch]:
            with database.read() as session:
                return queries.find_by_number_or_phone(session, flt.text, flt.city_id,
                                                       actor=user_id)

        self._ctx.reads.run(work, lambda found: self._found(flt, found), self._lookup_failed)

    def _lookup_failed(self, exc: BaseException) -> None:
        log.warning("the search by number or phone failed: %s", exc)
        self._open_when_found = False

    def _found(self, flt: QueueFilter, found: list[queries.CaseMatch]) -> None:
        if flt != self.model.queue_filter:
            return  # the filter changed meanwhile: its own lookup follows
        self._looked_up = flt.text
        hidden = [(m, flt.excluded_by(m)) for m in found]
        if found and all(field for _m, field in hidden):
            match, field = hidden[0]  # the newest
            self._outside = match.id
            self.outside_notice.setText(
                self.tr("Case %1 is not in the current filter (%2) — press Enter to open it")
                .replace("%1", match.number).replace("%2", self._filter_words(match, field)))
            self.outside_notice.show()
        if self._open_when_found:
            self._open_when_found = False
            self._search_entered()

    def _filter_words(self, match: queries.CaseMatch, field: str) -> str:
        """The filter that hides ``match``, in the bar's own words ("State: Closed")."""
        named = {"states": (self.state_combo, labels.state_name(match.state)),
                 "town_ids": (self.town_combo, match.town_name or "—"),
                 "class_ids": (self.class_combo, match.class_name or "—"),
                 "sources": (self.source_combo, labels.source_name(match.source))}
        if field in named:
            combo, value = named[field]
            return self.tr("%1: %2").replace("%1", combo.toolTip()).replace("%2", value)
        return (self.mine_button if field == "assignee_user_id" else self.overdue_button).text()

    def open_outside(self, *_signal_args) -> None:
        """Open the case the search found outside the filters (see the module docstring)."""
        if self._outside is not None:
            self.sig_open_case.emit(self._outside)

    def clear_filters(self) -> None:
        """Back to the default view: open cases, no search, no narrowing."""
        widgets = (self.state_combo, self.town_combo, self.class_combo, self.source_combo,
                   self.overdue_button, self.mine_button, self.search_edit)
        for w in widgets:
            w.blockSignals(True)
        for combo in widgets[:4]:
            combo.setCurrentIndex(0)
        self.overdue_button.setChecked(False)
        self.mine_button.setChecked(False)
        self.search_edit.clear()
        for w in widgets:
            w.blockSignals(False)
        self.apply_filter()

    def _search_text_changed(self, _text: str) -> None:
        self._search_timer.start()

    def _search_entered(self) -> None:
        self.apply_filter()
        text = self.search_edit.text().strip()
        if queries.number_or_phone_digits(text) and self._looked_up != text:
            self._open_when_found = True  # Enter typed before the lookup came back
        elif self._outside is not None:
            self.open_outside()
        else:
            self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def focus_search(self, *_signal_args) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def refresh(self, *_signal_args) -> None:
        self._set_status(self.tr("Loading…"))
        self.model.refresh()

    def _load_choices(self) -> None:
        database, city_id = self._ctx.database, self._ctx.city_id

        def work() -> queries.FilterChoices:
            with database.read() as session:
                return queries.filter_choices(session, city_id)

        self._ctx.reads.run(work, self._choices_loaded,
                            lambda exc: log.warning("filter choices not loaded: %s", exc))

    def _choices_loaded(self, choices: queries.FilterChoices) -> None:
        for combo, items in ((self.town_combo, [(c.name, c.id) for c in choices.towns]),
                             (self.class_combo,
                              [(f"{c.name}（{c.hint}）" if c.hint else c.name, c.id)
                               for c in choices.classes])):
            current = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for text, value in items:
                combo.addItem(text, value)
            found = combo.findData(current) if current is not None else 0
            combo.setCurrentIndex(max(0, found))
            combo.blockSignals(False)

    # -- selection -----------------------------------------------------------------------
    @property
    def current_case_id(self) -> int | None:
        return self._current_case_id

    def select_case(self, case_id: int) -> bool:
        """Select and scroll to ``case_id``; True if it was in the list now.

        When it is not (yet) in the list see the class docstring: the selection may happen
        later, after the list loads or after the text search is cleared once.
        """
        row = self.model.row_of(case_id)
        if row is None:
            if not self.model.loaded:
                self._pending_select, self._pending_retried = case_id, False
                return False
            if self.search_edit.text().strip() and not (
                    self._pending_select == case_id and self._pending_retried):
                self._pending_select, self._pending_retried = case_id, True
                self.search_edit.blockSignals(True)
                self.search_edit.clear()
                self.search_edit.blockSignals(False)
                self.apply_filter()
                return False
            self._pending_select = None
            self.table.selectionModel().clearSelection()
            if case_id != self._current_case_id:
                self._current_case_id = case_id
                self.sig_case_selected.emit(case_id)
            return False
        self._pending_select = None
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
        return True

    def _selection_changed(self, *_signal_args) -> None:
        rows = self.table.selectionModel().selectedRows()
        cid = self.model.case_id_at(rows[0].row()) if rows else None
        if cid is not None and cid != self._current_case_id:
            self._current_case_id = cid
            self.sig_case_selected.emit(cid)

    def _restore_selection(self) -> None:
        """After a reset (new filter), put the selection back on the same case if it is there."""
        cid = self._current_case_id
        row = self.model.row_of(cid) if cid is not None else None
        if row is not None:
            index = self.model.index(row, 0)
            self.table.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            self._scroll_target = cid
            QTimer.singleShot(0, self._scroll_to_target)

    def _remember_anchor(self, *_signal_args) -> None:
        """Before live changes re-order the list: note the first case in view that is not
        itself moving, so the rows the officer is reading stay where they are on screen. At
        the very top of the list the view stays at the top: what arrives first is shown."""
        self._anchor = None
        bar = self.table.verticalScrollBar()
        if not self.model.anchor_scroll or bar.value() == bar.minimum():
            return  # a new sort order, or the head of the list: nothing to stay on
        top = self.table.rowAt(0)
        if top < 0:
            return
        bottom = self.table.rowAt(self.table.viewport().height() - 1)
        bottom = self.model.rowCount() - 1 if bottom < 0 else bottom
        moving = self.model.changing_ids()
        for row in range(top, bottom + 1):
            cid = self.model.case_id_at(row)
            if cid is not None and cid not in moving:
                self._anchor = (cid, row - top, -self.table.rowViewportPosition(top))
                return

    def _restore_anchor(self, *_signal_args) -> None:
        anchor, self._anchor = self._anchor, None
        if anchor is None:
            return
        row = self.model.row_of(anchor[0])
        if row is None:
            return
        bar = self.table.verticalScrollBar()
        top = row - anchor[1]
        if self.table.verticalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerPixel:
            value = top * self.table.verticalHeader().defaultSectionSize() + anchor[2]
        else:
            value = top
        # The view lays itself out after this signal; the range may still be the old one.
        bar.setMaximum(max(bar.maximum(), value))
        bar.setValue(value)

    def _scroll_to_target(self) -> None:
        cid, self._scroll_target = self._scroll_target, None
        row = self.model.row_of(cid) if cid is not None else None
        if row is not None:
            self.table.scrollTo(self.model.index(row, 0),
                                QAbstractItemView.ScrollHint.EnsureVisible)

    def _open_index(self, index: QModelIndex) -> None:
        cid = self.model.case_id_at(index.row())
        if cid is not None:
            self.sig_open_case.emit(cid)

    # -- status --------------------------------------------------------------------------
    def _loaded(self) -> None:
        n = self.model.rowCount()
        if n:
            self._set_status(self.tr("%1 cases").replace("%1", QLocale().toString(n)))
        else:
            self._set_status(self.tr("No cases match these filters"))
        if self._pending_select is not None:
            self.select_case(self._pending_select)

    def _load_failed(self, message: str) -> None:
        self._set_status(self.tr("Queue not updated: %1").replace("%1", message))

    def _set_status(self, text: str) -> None:
        self.count_label.setText(text)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.model.stop()
        super().closeEvent(event)


__all__ = ["ALL", "CaseTableView", "Notice", "QueuePanel"]
