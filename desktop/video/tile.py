"""One camera on the video wall: its live picture, its name and what state its stream is in.

A tile plays a stream URL (local file, HTTP MPEG-TS, HLS, RTSP: whatever Qt's FFmpeg backend
opens) through a :class:`QMediaPlayer` into a :class:`QVideoSink`, with no audio output (a
video wall is muted). It keeps the newest frame and paints it itself, scaled with its aspect
kept, at most ``fps_cap`` times a second (nine tiles must not eat a two-core machine), which
also makes ``grab()`` work offscreen, where a QVideoWidget draws nothing.

Nothing here waits on the network. ``QMediaPlayer.setSource`` returns at once for a network
URL (the FFmpeg backend opens the stream on its own thread: with PySide6 6.11.3, under 1 ms
for a closed port, a server that never answers and a port whose SYNs are dropped; the tests
hold any Qt version to that).
Each tile keeps one player for its whole life and changes its source for each try (see
:class:`_Feed` for why). Closing a stream that is playing or still opening costs the GUI thread
some 30-90 ms (the backend joins its threads; FFmpeg's interrupt callback cuts an open or a
read under way); the tests bound the longest stall of the GUI thread.

A camera is "lost" when the player reports an error, when a live stream reaches its end or
turns out invalid, when opening takes longer than ``connect_timeout`` or when no frame has
come for ``stall_timeout`` while it should be playing. It then tries again by itself, with the
project's back-off (:class:`db.core.backoff.Backoff`: a wait drawn between 0 and a ceiling of
``retry_first`` seconds doubling up to ``retry_max``, full jitter, so nine tiles, or ninety
after the stream server restarts, do not all knock at once); the tile counts the seconds down
on its badge, and the schedule starts over once frames have flowed for a few seconds.
"""
from __future__ import annotations

import ctypes
import html
import logging
import os
import random
import time
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QRectF, QSize, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame, QVideoSink
from PySide6.QtWidgets import QSizePolicy, QWidget

from db.core.backoff import Backoff
from desktop.core import theme

log = logging.getLogger(__name__)

STABLE_AFTER_S = 3.0  # frames must flow this long before the back-off starts over
WATCHDOG_MS = 250


class TileState(StrEnum):
    IDLE = "idle"  # no camera in this tile
    CONNECTING = "connecting"
    PLAYING = "playing"
    LOST = "lost"  # signal lost; a retry is scheduled


STATE_COLORS = {TileState.IDLE: theme.TEXT_DIM, TileState.CONNECTING: "#ffb020",
                TileState.PLAYING: "#3fb950", TileState.LOST: "#ff4d4f"}

_ffmpeg_quieted = False


def _quiet_ffmpeg_log() -> None:
    """FFmpeg's own log goes straight to stderr at INFO level: a stream dump for every
    connect and a line for every refused retry, from every tile, all shift long. Keep only
    fatal messages (the tiles show what matters) unless ``QT_FFMPEG_DEBUG`` asks for detail.
    Best effort: only for the FFmpeg that ships inside the PySide6 wheel."""
    global _ffmpeg_quieted
    if _ffmpeg_quieted or os.environ.get("QT_FFMPEG_DEBUG"):
        return
    _ffmpeg_quieted = True
    try:
        import PySide6

        libdir = Path(PySide6.__file__).parent / "Qt" / "lib"
        for lib in sorted(libdir.glob("libavutil.so.*"), key=lambda p: len(p.name)):
            ctypes.CDLL(str(lib)).av_log_set_level(8)  # AV_LOG_FATAL
            break
    except (OSError, AttributeError) as exc:  # another build of Qt: leave its logging alone
        log.debug("could not quiet FFmpeg's log: %s", exc)


class _Feed(QObject):
    """What one attempt at a stream hears from the tile's player and sink, with a switch that
    silences it when the attempt is given up.

    The sink emits frames on the backend's render thread; connecting them to a slot of this
    object (which lives on the GUI thread) queues them over, and frames of an old attempt
    still in the queue are dropped by ``active``. The player itself is not thrown away after
    a failure: destroying a QMediaPlayer while its FFmpeg backend still has events on their
    way (the burst of "Demuxing failed" when a stream is cut) crashes Qt 6.11, so each tile
    keeps one player for its whole life and only changes its source.
    """

    def __init__(self, tile: VideoTile, player: QMediaPlayer, sink: QVideoSink) -> None:
        super().__init__(tile)
        self.tile: VideoTile | None = tile
        self.active = True
        self._player, self._sink = player, sink
        sink.videoFrameChanged.connect(self._on_frame)
        player.errorOccurred.connect(self._on_error)
        player.mediaStatusChanged.connect(self._on_status)

    @Slot(QVideoFrame)
    def _on_frame(self, frame: QVideoFrame) -> None:
        if self.active:
            self.tile._frame_arrived(frame)

    @Slot(QMediaPlayer.Error, str)
    def _on_error(self, error: QMediaPlayer.Error, message: str) -> None:
        if self.active and error != QMediaPlayer.Error.NoError:
            self.tile._lose(message or error.name)

    @Slot(QMediaPlayer.MediaStatus)
    def _on_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if not self.active:
            return
        if status == QMediaPlayer.MediaStatus.InvalidMedia:
            self.tile._lose(QCoreApplication.translate("VideoTile", "not a playable stream"))
        elif status == QMediaPlayer.MediaStatus.EndOfMedia:  # a live camera never ends
            self.tile._lose(QCoreApplication.translate("VideoTile", "the stream ended"))

    def retire(self) -> None:
        """Stop listening; anything of this attempt still queued is ignored."""
        if not self.active:
            return
        self.active = False
        self.tile = None
        for signal, slot in ((self._sink.videoFrameChanged, self._on_frame),
                             (self._player.errorOccurred, self._on_error),
                             (self._player.mediaStatusChanged, self._on_status)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):  # already gone with its tile
                pass
        self.deleteLater()


class VideoTile(QWidget):
    """One camera's live picture with its name and state badge.

    Signals
    -------
    sig_state_changed(str)
        The :class:`TileState` value: ``idle``, ``connecting``, ``playing`` or ``lost``.
    sig_double_clicked()
        The user double-clicked the tile (the wall enlarges it).
    """

    sig_state_changed = Signal(str)
    sig_double_clicked = Signal()

    def __init__(self, parent: QWidget | None = None, *, retry_first: float = 1.0,
                 retry_max: float = 30.0, connect_timeout: float = 10.0,
                 stall_timeout: float = 5.0, fps_cap: float = 12.0,
                 rng: random.Random | None = None) -> None:
        super().__init__(parent)
        self.retry_first = retry_first
        self.retry_max = retry_max
        self.connect_timeout = connect_timeout
        self.stall_timeout = stall_timeout
        self._fps_cap = fps_cap
        self._camera_id: int | None = None
        self._name = ""
        self.drawn_name = ""  # the name as last painted (elided when the tile is narrow)
        self._url = ""
        self._state = TileState.IDLE
        self._player: QMediaPlayer | None = None  # made on first use, kept for life
        self._sink: QVideoSink | None = None
        self._feed: _Feed | None = None  # the current attempt
        self._frame: QVideoFrame | None = None
        self._image: QImage | None = None  # the frame converted, made at paint time
        self._dirty = False
        self.frames_decoded = 0  # frames received from the decoder since the tile was made
        self.last_error = ""
        self._backoff = Backoff(retry_first, retry_max, rng=rng)  # rng: seeded in tests
        self._started_at = 0.0  # when the current attempt began
        self._playing_since = 0.0
        self._last_frame_at = 0.0
        self._retry_at = 0.0
        self._highlighted = False
        self._full_rate = False
        self._shown_countdown = -1

        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 90)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._start_timer = QTimer(self)  # a staggered start (play_camera's delay_ms)
        self._start_timer.setSingleShot(True)
        self._start_timer.timeout.connect(self._connect)
        self._retry_timer = QTimer(self)
        self._retry_timer.setSingleShot(True)
        self._retry_timer.timeout.connect(self._connect)
        self._watchdog = QTimer(self)
        self._watchdog.setInterval(WATCHDOG_MS)
        self._watchdog.timeout.connect(self._check)
        self._repaint = QTimer(self)
        self._repaint.timeout.connect(self._repaint_if_new)
        self._apply_rate()
        self._update_tooltip()

    # -- public API ---------------------------------------------------------------------
    @property
    def camera_id(self) -> int | None:
        return self._camera_id

    @property
    def camera_name(self) -> str:
        return self._name

    @property
    def url(self) -> str:
        return self._url

    @property
    def state(self) -> str:
        """``idle``, ``connecting``, ``playing`` or ``lost`` (a :class:`TileState`)."""
        return self._state

    @property
    def retry_in(self) -> float:
        """Seconds until the next try while lost, else 0."""
        if self._state != TileState.LOST or not self._retry_timer.isActive():
            return 0.0
        return max(0.0, self._retry_at - time.monotonic())

    def latest_image(self) -> QImage | None:
        """The newest decoded frame as an image (None before the first)."""
        if self._frame is None:
            return None
        if self._image is None:  # converted once per frame, and only for frames shown
            self._image = self._frame.toImage()
        return self._image

    def play_camera(self, camera_id: int | None, name: str, url: str, *,
                    delay_ms: int = 0) -> None:
        """Show this camera; returns at once, the stream opens in the background. The same
        camera already connecting or playing is left alone. ``delay_ms`` staggers the opening
        (closing the previous stream takes up to ~90 ms of the GUI thread: a wall switching
        nine tiles does it one tile per event-loop turn, not all in one go)."""
        if (camera_id, url) == (self._camera_id, self._url) and self._state in (
                TileState.CONNECTING, TileState.PLAYING):
            self._name = name
            self.update()
            return
        self._drop_connection()
        self._camera_id, self._name, self._url = camera_id, name, url
        self._frame = self._image = None
        self._backoff.reset()
        self.last_error = ""
        if delay_ms > 0:
            self._set_state(TileState.CONNECTING)
            self._start_timer.start(delay_ms)
        else:
            self._start_timer.stop()
            self._connect()

    def stop(self) -> None:
        """Stop playing and empty the tile."""
        self._start_timer.stop()
        self._drop_connection()
        self._release_source()
        self._retry_timer.stop()
        self._camera_id, self._name, self._url = None, "", ""
        self._frame = self._image = None
        self._backoff.reset()
        self._set_state(TileState.IDLE)

    def set_highlighted(self, on: bool) -> None:
        """A bright border: the camera the user just asked for."""
        if on != self._highlighted:
            self._highlighted = on
            self.update()

    @property
    def highlighted(self) -> bool:
        return self._highlighted

    def set_full_rate(self, on: bool) -> None:
        """Repaint at the stream's own rate (an enlarged tile) instead of ``fps_cap``."""
        self._full_rate = on
        self._apply_rate()

    # -- connection and state -------------------------------------------------------------
    def _connect(self) -> None:
        self._retry_timer.stop()
        self._drop_connection()
        if not self._url:
            self.last_error = self.tr("no stream address")
            self._set_state(TileState.LOST)  # nothing to retry
            return
        self._started_at = time.monotonic()
        self._set_state(TileState.CONNECTING)
        player = self._ensure_player()
        self._release_source()
        self._feed = _Feed(self, player, self._sink)
        player.setSource(QUrl.fromUserInput(self._url))  # returns at once: opens on a thread
        player.play()
        self._watchdog.start()

    def _ensure_player(self) -> QMediaPlayer:
        if self._player is None:
            self._player = QMediaPlayer(self)
            self._sink = QVideoSink(self)
            self._player.setVideoOutput(self._sink)  # and no audio output: the wall is muted
            _quiet_ffmpeg_log()
        return self._player

    def _release_source(self) -> None:
        """Close the stream (and an open under way): the backend's threads are joined here,
        which is the 30-90 ms a tile ever takes of the GUI thread."""
        if self._player is not None and not self._player.source().isEmpty():
            self._player.setSource(QUrl())

    def _drop_connection(self) -> None:
        """Forget the current attempt; its stream is closed on the next event-loop turn
        (not from inside one of the player's own signals)."""
        if self._feed is not None:
            feed, self._feed = self._feed, None
            feed.retire()
            QTimer.singleShot(0, self._halt)

    def _halt(self) -> None:
        # Close the source rather than stop(): after stop() on the RTSP stream of a frozen
        # camera (cable pulled, TCP still open) Qt's event handling held the GUI thread for
        # 17 s, waiting on the camera; closing the source interrupts FFmpeg at once.
        if self._feed is None:
            try:
                self._release_source()
            except RuntimeError:  # the window closed first and took the player with it
                pass

    def _frame_arrived(self, frame: QVideoFrame) -> None:
        if not frame.isValid():  # the sink is cleared at the end of a stream
            return
        now = time.monotonic()
        self.frames_decoded += 1
        self._frame = frame
        self._image = None
        self._dirty = True
        self._last_frame_at = now
        if self._state != TileState.PLAYING:
            if self._backoff.failing:
                log.info("camera %s (%s) back after %d tries", self._name, self._url,
                         self._backoff.attempts)
            self._playing_since = now
            self._set_state(TileState.PLAYING)
            self.update()  # the first picture at once, not at the next repaint tick
        elif self._backoff.failing and now - self._playing_since >= STABLE_AFTER_S:
            self._backoff.reset()

    def _lose(self, reason: str) -> None:
        """Signal lost: give this attempt up and schedule the next one."""
        if self._state == TileState.LOST or self._feed is None:
            return
        if self._backoff.failing:  # still down: the first loss was logged
            log.debug("camera %s (%s) still lost: %s", self._name, self._url, reason)
        else:
            log.info("camera %s (%s) lost: %s", self._name, self._url, reason)
        self.last_error = reason
        self._drop_connection()
        delay = self._backoff.next_delay()
        self._retry_at = time.monotonic() + delay
        self._retry_timer.start(max(1, round(delay * 1000)))
        self._set_state(TileState.LOST)

    def _check(self) -> None:
        """The watchdog: an open that hangs, a stream that stalls, the retry countdown."""
        now = time.monotonic()
        if self._state == TileState.CONNECTING and now - self._started_at > self.connect_timeout:
            self._lose(self.tr("no answer within %1 s").replace("%1", f"{self.connect_timeout:g}"))
        elif self._state == TileState.PLAYING and now - self._last_frame_at > self.stall_timeout:
            self._lose(self.tr("no picture for %1 s").replace("%1", f"{self.stall_timeout:g}"))
        elif self._state == TileState.LOST:
            countdown = int(self.retry_in + 0.999)
            if countdown != self._shown_countdown:
                self._shown_countdown = countdown
                self.update()
        elif self._state == TileState.IDLE:
            self._watchdog.stop()

    def _set_state(self, state: TileState) -> None:
        if state == self._state:
            return
        self._state = state
        if state == TileState.PLAYING:
            self._repaint.start()
        else:
            self._repaint.stop()
        if state == TileState.IDLE:
            self._watchdog.stop()
        self._shown_countdown = -1
        self._update_tooltip()
        self.update()
        self.sig_state_changed.emit(state.value)

    def _apply_rate(self) -> None:
        fps = 30.0 if self._full_rate else self._fps_cap
        self._repaint.setInterval(max(10, round(1000 / fps)))

    def _repaint_if_new(self) -> None:
        if self._dirty:
            self.update()

    def _update_tooltip(self) -> None:
        if self._camera_id is None and not self._url:
            self.setToolTip(self.tr("No camera. Click a camera on the map to show it here."))
            return
        lines = [self._name, self._url]
        if self._state == TileState.LOST and self.last_error:
            lines.append(self.last_error)
        lines.append(self.tr("Double-click (or Enter) to enlarge; Esc restores."))
        # A tooltip that looks like markup is rendered as markup: names, addresses and FFmpeg's
        # messages are data, so escape them.
        text = html.escape("\n".join(line for line in lines if line))
        self.setToolTip(f"<p style='white-space:pre-wrap'>{text}</p>")

    # -- painting -----------------------------------------------------------------------
    def state_text(self) -> str:
        """The badge text, as the duty officer reads it."""
        if self._state == TileState.PLAYING:
            return self.tr("Live")
        if self._state == TileState.CONNECTING:
            return self.tr("Connecting…")
        if self._state == TileState.LOST:
            if self._retry_timer.isActive():
                seconds = max(1, int(self.retry_in + 0.999))
                return self.tr("Signal lost · retry in %1 s").replace("%1", str(seconds))
            return self.tr("Signal lost")
        return self.tr("No camera")

    def sizeHint(self) -> QSize:
        return QSize(480, 270)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        rect = self.rect()
        painter.fillRect(rect, QColor("#05070a"))
        image = self.latest_image()
        self._dirty = False
        if image is not None and not image.isNull():
            size = image.size().scaled(rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRectF((rect.width() - size.width()) / 2, (rect.height() - size.height()) / 2,
                            size.width(), size.height())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform,
                                  self._full_rate or size.width() >= image.width())
            if self._state != TileState.PLAYING:
                painter.setOpacity(0.35)  # the last picture, clearly not live
            painter.drawImage(target, image)
            painter.setOpacity(1.0)
        self._paint_overlay(painter, rect)
        painter.end()

    def _paint_overlay(self, painter: QPainter, rect) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        scale = max(1.0, font.pointSizeF() / theme.BASE_POINT_SIZE)  # the 4K wall: doubled
        base = max(9, min(round(16 * scale), round(rect.height() / 16)))
        font.setPointSize(base)
        font.setBold(True)
        painter.setFont(font)
        fm = painter.fontMetrics()  # the device's, not the screen's: measured as it is drawn
        pad = max(4, base // 2)
        colour = QColor(STATE_COLORS[self._state])

        if self._state == TileState.IDLE:  # an empty tile: one quiet line, nothing to alarm
            painter.setPen(QColor(theme.TEXT_DIM))
            painter.drawText(QRectF(rect), Qt.AlignmentFlag.AlignCenter, self.tr("No camera"))
            self._paint_border(painter, rect)
            return

        # The camera's name, top left, on a dark band for contrast with any picture.
        name = self._name or self.tr("No camera")
        badge = self.state_text()
        badge_w = fm.horizontalAdvance(badge) + 2 * pad + fm.height()
        if self._state != TileState.LOST and \
                fm.horizontalAdvance(name) + 4 * pad + badge_w > rect.width():
            badge, badge_w = "", fm.height() + pad  # narrow: the name wins, the dot says it
        room = rect.width() - 2 * pad - (0 if self._state == TileState.LOST else badge_w + pad)
        # +2: elidedText() rounds, and at exactly the advance it can elide a name that fits.
        name_w = min(fm.horizontalAdvance(name) + 2 * pad + 2, room)
        band_h = fm.height() + pad
        if self._state != TileState.LOST or rect.height() > 3 * band_h:
            painter.fillRect(QRectF(pad, pad, max(0, name_w), band_h), QColor(0, 0, 0, 170))
            painter.setPen(QColor(theme.TEXT))
            self.drawn_name = fm.elidedText(name, Qt.TextElideMode.ElideRight, max(0, name_w - 2 * pad))
            painter.drawText(QRectF(2 * pad, pad, max(0, name_w - 2 * pad), band_h),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self.drawn_name)

        if self._state == TileState.LOST:
            # Lost: one large line across the middle; the officer must see it from a distance.
            big = QFont(font)
            big.setPointSize(base + 2)
            painter.setFont(big)
            bfm = QFontMetrics(big)
            if bfm.horizontalAdvance(badge) > rect.width() - 6 * pad:
                badge = self.tr("Signal lost")  # narrow: the state matters, not the countdown
            text = bfm.elidedText(badge, Qt.TextElideMode.ElideRight, rect.width() - 4 * pad)
            w = bfm.horizontalAdvance(text) + 4 * pad
            h = bfm.height() + 2 * pad
            box = QRectF((rect.width() - w) / 2, (rect.height() - h) / 2, w, h)
            painter.setBrush(QColor(60, 0, 0, 200))
            painter.setPen(QPen(colour, 2))
            painter.drawRoundedRect(box, 6, 6)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
            painter.setFont(font)
        else:
            # The state badge, top right: a coloured dot and a word.
            x = rect.width() - badge_w - pad
            box = QRectF(x, pad, badge_w, band_h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 170))
            painter.drawRoundedRect(box, band_h / 2, band_h / 2)
            dot = fm.height() * 0.45
            painter.setBrush(colour)
            dot_x = x + pad if badge else x + (badge_w - dot) / 2
            painter.drawEllipse(QRectF(dot_x, pad + (band_h - dot) / 2, dot, dot))
            painter.setPen(colour if self._state != TileState.PLAYING else QColor(theme.TEXT))
            painter.drawText(QRectF(x + pad + dot + pad / 2, pad, badge_w - dot - pad, band_h),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, badge)

        self._paint_border(painter, rect)

    def _paint_border(self, painter: QPainter, rect) -> None:
        """The highlighted camera bright, the focused tile accented, the others quiet."""
        if self._highlighted:
            pen = QPen(QColor("#ffb020"), 4)
        elif self.hasFocus():
            pen = QPen(QColor(theme.ACCENT), 3)
        else:
            pen = QPen(QColor(theme.BORDER), 1)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(pen)
        inset = pen.widthF() / 2
        painter.drawRect(QRectF(rect).adjusted(inset, inset, -inset, -inset))

    # -- input --------------------------------------------------------------------------
    def mouseDoubleClickEvent(self, event) -> None:
        self.sig_double_clicked.emit()
        event.accept()

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.sig_double_clicked.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event) -> None:
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:
        self.update()
        super().focusOutEvent(event)

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)
