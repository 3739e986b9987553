"""A sensor's last 24 hours as a live pyqtgraph plot, with its alarm thresholds drawn.

The series lives in numpy arrays (seconds since the epoch, values). Loading reads the window
once through :func:`db.alerts.lifecycle.sensor_series`; afterwards each change-feed notice for the sensor
reads only the readings newer than the last one held and appends them, dropping those that
fell out of the 24-hour window. The curve uses pyqtgraph's peak downsampling and clip-to-view,
so a long series at 1 Hz costs the same to draw as a short one.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from db.alerts import lifecycle as alerts
from db.alerts.lifecycle import SensorInfo
from db.worktime.clock import SHANGHAI
from desktop.core import theme
from desktop.core.context import AppContext

WINDOW = dt.timedelta(hours=24)
BEIJING_UTC_OFFSET = -8 * 3600  # pyqtgraph's DateAxisItem: seconds *west* of UTC
LABEL_GAP = 2  # pixels between two threshold labels pushed apart
THRESHOLD_COLOURS = {"blue": "#58a6ff", "yellow": "#ffd33d", "orange": "#ff8c1a",
                     "red": "#ff4d4f", "alarm": "#ff8c1a", "cutoff": "#ff4d4f"}


class BeijingTimeAxis(pg.DateAxisItem):
    """Hours as 14:00, midnight as the date (11-21): no English weekday names in a Chinese UI."""

    def __init__(self) -> None:
        super().__init__(orientation="bottom", utcOffset=BEIJING_UTC_OFFSET)

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph name
        out = []
        for v in values:
            local = dt.datetime.fromtimestamp(v, SHANGHAI)
            midnight = local.hour == 0 and local.minute == 0
            out.append(local.strftime("%m-%d" if midnight or spacing >= 86400 else "%H:%M"))
        return out


def _arrays(series) -> tuple[np.ndarray, np.ndarray]:
    times, values = series
    return (np.frombuffer(times, dtype=np.float64).copy(),
            np.frombuffer(values, dtype=np.float64).copy())


class SensorTrend(QWidget):
    """Shows one sensor at a time: :meth:`show_sensor`, then :meth:`refresh` on feed notices."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.sensor: SensorInfo | None = None
        self._wanted: int | None = None
        self._fetching = False
        self._again = False
        self.times = np.empty(0)
        self.values = np.empty(0)

        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setStyleSheet("font-weight: bold;")
        # Its text changes with every reading: it must never widen the alert dock.
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setMinimumWidth(1)
        pg.setConfigOptions(antialias=False, background=theme.PANEL, foreground=theme.TEXT_DIM)
        self.plot = pg.PlotWidget(axisItems={"bottom": BeijingTimeAxis()})
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setMinimumHeight(100)
        self.plot.setMinimumWidth(160)
        self.curve = self.plot.plot(pen=pg.mkPen(theme.ACCENT, width=2))
        self.curve.setDownsampling(auto=True, method="peak")
        self.curve.setClipToView(True)
        self.threshold_lines: list[pg.InfiniteLine] = []
        self.threshold_labels: list[pg.TextItem] = []
        box = self.plot.getViewBox()
        box.sigRangeChanged.connect(self._place_labels)
        box.sigResized.connect(self._place_labels)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot, 1)

    # -- loading ---------------------------------------------------------------------------
    @property
    def sensor_id(self) -> int | None:
        return self._wanted

    def show_sensor(self, sensor_id: int | None) -> None:
        """Load ``sensor_id``'s last 24 hours (None clears the plot)."""
        if sensor_id == self._wanted:
            return
        self._wanted = sensor_id
        self.sensor = None
        self.times, self.values = np.empty(0), np.empty(0)
        self.curve.setData([], [])
        self._set_thresholds({})
        self.title.setText("")
        if sensor_id is not None:
            self._fetch(full=True)

    def refresh(self, sensor_ids) -> None:
        """The change feed named these sensors: append the new readings if ours is one."""
        if self._wanted is not None and self._wanted in sensor_ids and self.sensor is not None:
            self._fetch(full=False)

    def _fetch(self, *, full: bool) -> None:
        if self._fetching:
            self._again = True
            return
        self._fetching = True
        database, sensor_id = self._ctx.database, self._wanted
        now = self._ctx.clock.now()  # readings are dated by the database's clock
        since = now - WINDOW
        if not full and self.times.size:
            since = max(since, dt.datetime.fromtimestamp(self.times[-1], dt.UTC))

        def work():
            with database.read() as session:
                info = alerts.sensor_info(session, sensor_id) if full else None
                return info, alerts.sensor_series(session, sensor_id, since)

        self._ctx.reads.run(work, lambda r: self._loaded(sensor_id, full, *r), self._failed)

    def _failed(self, exc: BaseException) -> None:
        self._fetching = False
        self.title.setText(self.tr("The readings could not be read: %1")
                           .replace("%1", getattr(exc, "message", None) or str(exc)))

    def _loaded(self, sensor_id: int, full: bool, info: SensorInfo | None, series) -> None:
        self._fetching = False
        if sensor_id != self._wanted:  # the officer moved on; load what is wanted now
            if self._wanted is not None:
                self._fetch(full=True)
            return
        times, values = _arrays(series)
        if full:
            self.sensor = info
            self.times, self.values = times, values
            self._set_thresholds(info.thresholds if info else {})
        else:
            newer = times > (self.times[-1] if self.times.size else -np.inf)
            self.times = np.concatenate([self.times, times[newer]])
            self.values = np.concatenate([self.values, values[newer]])
        cutoff = self._ctx.clock.now().timestamp() - WINDOW.total_seconds()
        keep = self.times >= cutoff
        if not keep.all():
            self.times, self.values = self.times[keep], self.values[keep]
        self.curve.setData(self.times, self.values)
        self._update_title()
        if self._again:
            self._again = False
            self._fetch(full=False)

    # -- drawing ---------------------------------------------------------------------------
    def _set_thresholds(self, thresholds: dict[str, float]) -> None:
        for line in self.threshold_lines:
            self.plot.removeItem(line)
        for label in self.threshold_labels:
            self.plot.removeItem(label)
        self.threshold_lines, self.threshold_labels = [], []
        for name, value in sorted(thresholds.items(), key=lambda kv: kv[1]):
            colour = THRESHOLD_COLOURS.get(name, theme.TEXT_DIM)
            line = pg.InfiniteLine(
                pos=float(value), angle=0, movable=False,
                pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
            self.plot.addItem(line)
            self.threshold_lines.append(line)
            # The label is the plot's own item, not the line's: close thresholds (4.0 / 4.1 m)
            # would print their labels over each other; _place_labels keeps them apart.
            label = pg.TextItem(f"{self._threshold_name(name)} {value:g}", color=colour,
                                anchor=(1, 0.5))
            label.setZValue(10)
            self.plot.addItem(label, ignoreBounds=True)
            self.threshold_labels.append(label)
        if thresholds:  # keep the highest threshold in view even while readings are low
            top = max(thresholds.values())
            self.plot.setYRange(0, top * 1.3, padding=0)
            self.plot.enableAutoRange(axis="y", enable=False)
        else:
            self.plot.enableAutoRange(axis="y", enable=True)
        self._place_labels()

    def _place_labels(self, *_signal_args) -> None:
        """Put the threshold labels at the plot's right edge, each beside its line, but pushed
        apart vertically (in pixels) so that no two overlap, whatever the range or the size.
        Runs after every range change and resize."""
        labels = self.threshold_labels  # sorted by value, lowest first
        if not labels:
            return
        box = self.plot.getViewBox()
        (_x0, x1), (y0, y1) = box.viewRange()
        rect = box.sceneBoundingRect()
        if rect.height() <= 0 or y1 <= y0:
            return
        per_unit = rect.height() / (y1 - y0)
        heights = [label.textItem.boundingRect().height() for label in labels]
        # Scene y grows downwards. Bottom-up: each label's centre at its line, or just above the
        # label below it; then top-down, so that none leaves the top of the plot.
        centres: list[float] = []
        for value, h in zip(self.threshold_line_values(), heights, strict=True):
            c = rect.bottom() - (value - y0) * per_unit
            if centres:
                below = centres[-1] - heights[len(centres) - 1] / 2
                c = min(c, below - LABEL_GAP - h / 2)
            centres.append(c)
        floor = rect.top()
        for i in range(len(centres) - 1, -1, -1):
            centres[i] = max(centres[i], floor + heights[i] / 2)
            floor = centres[i] + heights[i] / 2 + LABEL_GAP
        for label, c in zip(labels, centres, strict=True):
            label.setPos(x1, y0 + (rect.bottom() - c) / per_unit)

    def threshold_line_values(self) -> list[float]:
        return [float(line.value()) for line in self.threshold_lines]

    def _threshold_name(self, name: str) -> str:
        names = {"blue": self.tr("Blue"), "yellow": self.tr("Yellow"), "orange": self.tr("Orange"),
                 "red": self.tr("Red"), "alarm": self.tr("Alarm"), "cutoff": self.tr("Cut-off")}
        return names.get(name, name)

    def _update_title(self) -> None:
        s = self.sensor
        if s is None:
            return
        last = f"{self.values[-1]:g} {s.unit}" if self.values.size else self.tr("no reading")
        self.title.setText(self.tr("%1 · last 24 h · now %2 · %3 readings")
                           .replace("%1", s.name).replace("%2", last)
                           .replace("%3", str(self.values.size)))
        if self.values.size:
            top = max(max(s.thresholds.values(), default=0.0), float(self.values.max()))
            if s.thresholds:
                self.plot.setYRange(0, top * 1.3, padding=0)
        now = self._ctx.clock.now().timestamp()
        self.plot.setXRange(now - WINDOW.total_seconds(), now, padding=0)


__all__ = ["SensorTrend"]
