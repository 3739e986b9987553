"""The video wall: 1, 4 or 9 camera tiles with a layout switch, for the window's video panel.

The wall only shows what it is given: :meth:`VideoWall.show_cameras` (the cameras near a case
or an alert), :meth:`VideoWall.play_camera` (one camera clicked on the map), or the helpers
:meth:`VideoWall.show_nearest` / :meth:`VideoWall.play_camera_id` that ask the database on
``ctx.reads`` first. Each tile copes with its own stream (see :mod:`desktop.video.tile`); a
dead camera never holds up the others.

Keys: Alt+1 / Alt+4 / Alt+9 switch the layout from anywhere in the window; when the wall or
a tile has focus, 1 / 4 / 9 alone do (a digit typed elsewhere is left alone), Enter or a
double-click enlarges the focused tile, Esc (or another double-click) restores the grid.
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from db.devices.cameras import FARTHEST_KM, CameraInfo, camera_info, cameras_around
from desktop.core import theme
from desktop.video.tile import TileState, VideoTile

LAYOUTS = (1, 4, 9)
SWITCH_STAGGER_MS = 40  # between opening one tile's new stream and the next


class VideoWall(QWidget):
    """A grid of :class:`VideoTile` with a 1 / 4 / 9 layout switch.

    Parameters
    ----------
    tile_options
        Passed to every :class:`VideoTile` (back-off, time-outs, repaint cap).

    Signals
    -------
    sig_layout_changed(int)
        The number of tiles now shown.
    sig_tile_enlarged(int)
        The index of the tile filling the wall, or -1 when the grid is back.
    """

    sig_layout_changed = Signal(int)
    sig_tile_enlarged = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, layout_size: int = 4,
                 tile_options: dict | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("VideoWall")
        self._size = layout_size if layout_size in LAYOUTS else 4
        self._enlarged: int | None = None
        self._request = itertools.count(1)
        self._latest_request = 0
        self._assigned_at: dict[int, int] = {}  # tile index -> when it got its camera (order)
        self._ticks = itertools.count(1)
        self._farthest_km: float | None = None  # of the cameras near a place, for the summary

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 0)
        bar.setSpacing(4)
        self.layout_buttons: dict[int, QToolButton] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        for n in LAYOUTS:
            button = QToolButton()
            button.setText(self._layout_label(n))
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setToolTip(self.tr("Show %1 camera(s) (key %2)").replace("%1", str(n))
                              .replace("%2", f"{n} / Alt+{n}"))
            button.setAccessibleName(self.tr("Layout %1").replace("%1", str(n)))
            button.setStyleSheet(
                f"QToolButton {{ padding: 4px 10px; border: 1px solid {theme.BORDER};"
                f" border-radius: 4px; background: {theme.PANEL_ALT}; }}"
                f" QToolButton:checked {{ background: {theme.ACCENT}; color: white; }}"
                f" QToolButton:focus {{ border: 2px solid {theme.ACCENT}; }}")
            self._group.addButton(button, n)
            self.layout_buttons[n] = button
            bar.addWidget(button)
        self._group.idClicked.connect(self.set_layout)
        self.summary = QLabel()
        self.summary.setProperty("dim", True)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar.addSpacing(8)
        bar.addWidget(self.summary, 1)
        outer.addLayout(bar)

        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(3)
        outer.addWidget(self._grid_host, 1)

        options = tile_options or {}
        self.tiles: list[VideoTile] = []
        for index in range(max(LAYOUTS)):
            tile = VideoTile(self._grid_host, **options)
            tile.setObjectName(f"VideoTile{index}")
            tile.sig_double_clicked.connect(lambda i=index: self.toggle_enlarged(i))
            tile.sig_state_changed.connect(self._update_summary)
            self.tiles.append(tile)

        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.restore)
        for n in LAYOUTS:  # the digit in the wall, Alt+digit from anywhere in the window
            for keys, context in ((str(n), Qt.ShortcutContext.WidgetWithChildrenShortcut),
                                  (f"Alt+{n}", Qt.ShortcutContext.WindowShortcut)):
                shortcut = QShortcut(QKeySequence(keys), self)
                shortcut.setContext(context)
                shortcut.setProperty("layout", n)
                # A bound method, not a lambda: PySide can corrupt the heap releasing a
                # lambda slot while a worker thread runs Python.
                shortcut.activated.connect(self._layout_key)

        self.layout_buttons[self._size].setChecked(True)
        self._relayout()
        self._update_summary()

    # -- layout -------------------------------------------------------------------------
    def _layout_label(self, n: int) -> str:
        return {1: "1", 4: "2×2", 9: "3×3"}[n]

    @property
    def layout_size(self) -> int:
        return self._size

    @property
    def enlarged_index(self) -> int | None:
        return self._enlarged

    def visible_tiles(self) -> list[VideoTile]:
        return self.tiles[:self._size]

    def set_layout(self, n: int) -> None:
        """Show ``n`` tiles (1, 4 or 9); tiles that drop out stop playing."""
        if n not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, not {n}")
        self.layout_buttons[n].setChecked(True)
        if n == self._size:
            return
        self._size = n
        for index, tile in enumerate(self.tiles):
            if index >= n:
                tile.stop()
                tile.set_highlighted(False)
                self._assigned_at.pop(index, None)
        if self._enlarged is not None and self._enlarged >= n:
            self._enlarged = None
            self.sig_tile_enlarged.emit(-1)
        self._relayout()
        self._update_summary()
        self.sig_layout_changed.emit(n)

    def toggle_enlarged(self, index: int) -> None:
        """Enlarge tile ``index`` to fill the wall, or restore the grid if it already does."""
        if self._enlarged == index or not 0 <= index < self._size:
            self.restore()
            return
        self._enlarged = index
        self._relayout()
        self.tiles[index].setFocus()
        self.sig_tile_enlarged.emit(index)

    def restore(self) -> None:
        """Back from an enlarged tile to the grid."""
        if self._enlarged is None:
            return
        index, self._enlarged = self._enlarged, None
        self._relayout()
        self.tiles[index].setFocus()
        self.sig_tile_enlarged.emit(-1)

    def _relayout(self) -> None:
        while self._grid.count():
            self._grid.takeAt(0)
        for r in range(3):
            self._grid.setRowStretch(r, 0)
            self._grid.setColumnStretch(r, 0)
        if self._enlarged is not None:
            shown = {self._enlarged: (0, 0)}
            side = 1
        else:
            side = {1: 1, 4: 2, 9: 3}[self._size]
            shown = {i: divmod(i, side) for i in range(self._size)}
        for r in range(side):  # equal cells whatever the pictures' sizes
            self._grid.setRowStretch(r, 1)
            self._grid.setColumnStretch(r, 1)
        for index, tile in enumerate(self.tiles):
            if index in shown:
                self._grid.addWidget(tile, *shown[index])
                tile.set_full_rate(self._enlarged == index or self._size == 1)
                tile.show()
            else:
                tile.hide()

    # -- what to show -------------------------------------------------------------------
    def show_cameras(self, cams: Sequence[CameraInfo]) -> None:
        """Fill the tiles in order with ``cams`` (as many as the layout shows). A camera
        already on the wall keeps its tile and its stream; tiles left over are emptied. An
        enlarged tile stays enlarged (the officer chose it); new streams open one tile per
        event-loop turn so the window stays responsive while the wall switches."""
        tiles = self.visible_tiles()
        wanted = list(dict.fromkeys(cams))[:len(tiles)]  # keep order, no duplicates
        wanted_ids = {c.id for c in wanted}
        distances = [c.distance_km for c in wanted if c.distance_km is not None]
        self._farthest_km = max(distances) if distances else None
        placed: dict[int, int] = {}  # camera id -> tile index
        for index, tile in enumerate(tiles):
            if tile.camera_id in wanted_ids and tile.camera_id not in placed:
                placed[tile.camera_id] = index
        free = [i for i in range(len(tiles)) if i not in placed.values()]
        for cam in wanted:
            if cam.id not in placed:
                placed[cam.id] = free.pop(0)
        used = set(placed.values())
        for index, tile in enumerate(tiles):
            tile.set_highlighted(False)
            if index not in used:
                tile.stop()
                self._assigned_at.pop(index, None)
        switched = 0
        for cam in wanted:
            index = placed[cam.id]
            delay = 0
            if tiles[index].camera_id != cam.id:
                self._assigned_at[index] = next(self._ticks)
                delay, switched = switched * SWITCH_STAGGER_MS, switched + 1
            tiles[index].play_camera(cam.id, cam.name, cam.stream_url, delay_ms=delay)
        self._update_summary()

    def play_camera(self, cam: CameraInfo) -> VideoTile:
        """Show one camera (clicked on the map) and highlight it: in the tile that already
        has it, else a free tile, else the tile that has had its camera longest."""
        self.restore()
        tiles = self.visible_tiles()
        index = next((i for i, t in enumerate(tiles) if t.camera_id == cam.id), None)
        if index is None:
            index = next((i for i, t in enumerate(tiles) if t.state == TileState.IDLE), None)
        if index is None:
            index = min(range(len(tiles)), key=lambda i: self._assigned_at.get(i, 0))
        for i, tile in enumerate(tiles):
            tile.set_highlighted(i == index)
        tile = tiles[index]
        if tile.camera_id != cam.id:
            self._assigned_at[index] = next(self._ticks)
        tile.play_camera(cam.id, cam.name, cam.stream_url)
        self._update_summary()
        return tile

    def stop_all(self) -> None:
        for tile in self.tiles:
            tile.stop()
            tile.set_highlighted(False)
        self._assigned_at.clear()
        self._farthest_km = None
        self._update_summary()

    def show_nothing(self, reason: str) -> None:
        """Empty the wall and say why (no location, no camera near): never leave the previous
        scene up as if it belonged to what is selected now."""
        self.stop_all()
        self.summary.setText(reason)

    def show_nearest(self, ctx, lat: float, lon: float, n: int | None = None) -> None:
        """Ask the database (off the GUI thread) for the cameras nearest (lat, lon) and show
        them (from further out than 3 km when fewer are near: the summary says how far the
        farthest is); an answer that arrives after a newer request is dropped."""
        number = self._latest_request = next(self._request)
        database, city_id, count = ctx.database, ctx.city_id, n or self._size

        def work() -> list[CameraInfo]:
            with database.read() as session:
                return cameras_around(session, city_id, lat, lon, count)

        def done(cams: list[CameraInfo]) -> None:
            if number != self._latest_request:
                return
            if not cams:
                self.show_nothing(self.tr("No camera within %1 km").replace("%1", f"{FARTHEST_KM:g}"))
                return
            self.show_cameras(cams)

        ctx.reads.run(work, done)

    def play_camera_id(self, ctx, camera_id: int) -> None:
        """Look a camera up by id (a click on the map) and play it."""
        number = self._latest_request = next(self._request)
        database = ctx.database

        def work() -> list[CameraInfo]:
            with database.read() as session:
                return camera_info(session, [camera_id])

        def done(cams: list[CameraInfo]) -> None:
            if number == self._latest_request and cams:
                self.play_camera(cams[0])

        ctx.reads.run(work, done)

    # -- summary and keys ---------------------------------------------------------------
    def _layout_key(self) -> None:
        shortcut = self.sender()
        if shortcut is not None:
            self.set_layout(int(shortcut.property("layout")))

    def _update_summary(self, *_) -> None:
        tiles = self.visible_tiles()
        live = sum(t.state == TileState.PLAYING for t in tiles)
        lost = sum(t.state == TileState.LOST for t in tiles)
        connecting = sum(t.state == TileState.CONNECTING for t in tiles)
        if not any(t.state != TileState.IDLE for t in tiles):
            self.summary.setText(self.tr("No camera selected: pick a case, an alert or a "
                                         "camera on the map"))
            return
        parts = [self.tr("%1 live").replace("%1", str(live))]
        if connecting:
            parts.append(self.tr("%1 connecting").replace("%1", str(connecting)))
        if lost:
            parts.append(self.tr("%1 signal lost").replace("%1", str(lost)))
        if self._farthest_km is not None:
            parts.append(self.tr("farthest %1 km").replace("%1", f"{self._farthest_km:.1f}"))
        self.summary.setText(" · ".join(parts))

    def closeEvent(self, event) -> None:
        self.stop_all()
        super().closeEvent(event)
