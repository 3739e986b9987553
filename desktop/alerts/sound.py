"""The audible alarm for critical alerts, with a silence button that re-arms itself.

*Silence* (静音) stops the sound for the critical alerts on screen now; a **new** critical
alert sounds again. That is how alarm panels behave: an officer may silence a known alarm, but
must not miss the next one because of a button pressed hours ago.

The tone is generated (a two-tone chime, 16-bit mono WAV written once to a temp file), so no
sound file is shipped or downloaded. Without an audio output (a headless machine, CI) the alarm
is unavailable and says so; nothing else changes.
"""
from __future__ import annotations

import math
import struct
import tempfile
import wave
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, QUrl, Signal

RATE = 22_050
REPEAT_MS = 4_000  # the chime repeats while a critical alert waits for acknowledgement


def chime_wav(path: Path) -> Path:
    """Write a 0.7 s two-tone chime (880 Hz then 660 Hz, with soft edges) to ``path``."""
    frames = bytearray()
    for freq, seconds in ((880.0, 0.35), (660.0, 0.35)):
        n = int(RATE * seconds)
        for i in range(n):
            edge = min(1.0, i / 400, (n - i) / 400)  # no clicks at the tone boundaries
            frames += struct.pack("<h", int(0.6 * 32767 * edge * math.sin(2 * math.pi * freq * i / RATE)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))
    return path


def audio_output_available() -> bool:
    from PySide6.QtMultimedia import QMediaDevices
    return bool(QMediaDevices.audioOutputs())


class AlarmSound(QObject):
    """Sounds while :meth:`update` is told there are critical alerts no one acknowledged.

    Signals
    -------
    sig_changed()
        ``sounding``, ``silenced`` or ``available`` changed (the panel redraws its button).
    """

    sig_changed = Signal()

    def __init__(self, parent: QObject | None = None, *, enabled: bool = True) -> None:
        super().__init__(parent)
        self.available = enabled and audio_output_available()
        self.silenced = False
        self.sounding = False
        self.plays = 0  # how many times the chime started (tests read it)
        self._known: set[int] = set()  # the critical alert ids that were ringing
        self._silenced_ids: set[int] = set()  # what the officer silenced
        self._effect = None
        self._timer = QTimer(self)
        self._timer.setInterval(REPEAT_MS)
        self._timer.timeout.connect(self._play)
        if self.available:
            from PySide6.QtMultimedia import QSoundEffect
            path = chime_wav(Path(tempfile.gettempdir()) / "cityops-alarm.wav")
            self._effect = QSoundEffect(self)
            self._effect.setSource(QUrl.fromLocalFile(str(path)))
            self._effect.setVolume(0.8)

    def update(self, ringing_ids: set[int]) -> None:
        """``ringing_ids``: the critical, unacknowledged alerts now on screen."""
        if self.silenced and ringing_ids - self._silenced_ids:
            self.silenced = False  # a critical alert not silenced yet re-arms the alarm
            self._silenced_ids = set()
        self._known = set(ringing_ids)
        should = bool(ringing_ids) and not self.silenced
        if should == self.sounding:
            return
        self.sounding = should
        if should:
            self._play()
            self._timer.start()
        else:
            self._timer.stop()
            if self._effect is not None:
                self._effect.stop()
        self.sig_changed.emit()

    def silence(self) -> None:
        """Silence the alarms ringing now (a new critical alert sounds again)."""
        if not self._known:
            return
        self.silenced = True
        self._silenced_ids = set(self._known)
        self.update(self._known)
        self.sig_changed.emit()

    def _play(self) -> None:
        self.plays += 1
        if self._effect is not None:
            self._effect.play()

    def shutdown(self) -> None:
        self._timer.stop()
        if self._effect is not None:
            self._effect.stop()


__all__ = ["AlarmSound", "audio_output_available", "chime_wav"]
