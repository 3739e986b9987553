"""The demo's simulator, kept alive beside the window.

The simulator runs in its own process (:func:`desktop.app.startup.start_simulator`). It waits
out a lost database by itself, but a process can still die (a crash, an out-of-memory kill, a
database that was not there when it started: exit code 3). :class:`SimulatorSupervisor` looks at
it once a second and starts it again after a back-off with jitter (:class:`db.core.backoff.
Backoff`), so a demo wall left running overnight is still a living city in the morning. It says
so in the log and in a short line the window shows; the simulator's own log lines (its outages
and reconnections) are passed on to this process's log. A simulator the database refuses (exit
code 2: not a demo database, a privileged connection) is not started again: that will not
change by waiting. :meth:`SimulatorSupervisor.stop` (the window's close) ends it with SIGTERM.
"""
from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from db.core.backoff import Backoff

log = logging.getLogger(__name__)
POLL_MS = 1000
RESTART_FIRST_S = 1.0  # back-off ceiling after the first exit (full jitter below it) ...
RESTART_CAP_S = 60.0  # ... doubling up to this
STABLE_AFTER_S = 30.0  # a restarted simulator that ran this long starts the back-off over
REFUSED_EXIT = 2  # cityops simulate: the database refuses it (no point in trying again)


class SimulatorSupervisor(QObject):
    """Starts the simulator, restarts it when it dies, stops it on :meth:`stop`.

    Signals
    -------
    sig_status(str)
        A short line for the window, already translated; "" once all is well again.
    """

    sig_status = Signal(str)

    def __init__(self, url: str, parent: QObject | None = None, *,
                 backoff: Backoff | None = None, poll_ms: int = POLL_MS,
                 stable_after: float = STABLE_AFTER_S,
                 launch: Callable[..., subprocess.Popen] | None = None) -> None:
        super().__init__(parent)
        self._url = url
        self._backoff = backoff or Backoff(RESTART_FIRST_S, RESTART_CAP_S)
        self._stable_after = stable_after
        self._launch = launch
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self.status = ""
        self._started_at = 0.0
        self._stopped = False
        self._poll = QTimer(self, interval=poll_ms)
        self._poll.timeout.connect(self._check)
        self._restart = QTimer(self, singleShot=True)
        self._restart.timeout.connect(self._start_again)

    def start(self) -> None:
        """Start the simulator (the URL is checked first: a password in it raises)."""
        self._spawn()
        self._poll.start()

    def stop(self) -> None:
        """SIGTERM: it finishes the transaction under way and exits. Reaped on a thread so the
        closing window never waits for it; killed if it has not gone within 10 s."""
        self._stopped = True
        self._poll.stop()
        self._restart.stop()
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            from desktop.app.startup import _reap

            threading.Thread(target=_reap, args=(process,), daemon=True).start()

    # -- internals ---------------------------------------------------------------------
    def _spawn(self) -> None:
        from desktop.app.startup import start_simulator

        launch = self._launch or start_simulator
        process = launch(self._url, stderr=subprocess.PIPE)
        self.process = process
        self._started_at = time.monotonic()
        threading.Thread(target=_forward_log, args=(process,), daemon=True,
                         name="cityops-simulator-log").start()

    def _check(self) -> None:
        process = self.process
        if process is None or self._restart.isActive():
            return
        code = process.poll()
        if code is None:
            if self._backoff.failing and \
                    time.monotonic() - self._started_at >= self._stable_after:
                self._backoff.reset()
                self._set_status("")
            return
        if code == REFUSED_EXIT:
            log.warning("simulator (pid %d) refused by the database (exit code %d); not "
                        "restarted", process.pid, code)
            self._poll.stop()
            self._set_status(self.tr("Simulator stopped: the database refuses it"))
            return
        delay = self._backoff.next_delay()
        log.warning("simulator (pid %d) exited with code %s; restarting in %.1f s",
                    process.pid, code, delay)
        self._set_status(self.tr("Simulator stopped; restarting in %1 s")
                         .replace("%1", str(max(1, round(delay)))))
        self._restart.start(max(1, round(delay * 1000)))

    def _start_again(self) -> None:
        if self._stopped:
            return
        try:
            self._spawn()
        except OSError as exc:  # the interpreter itself could not be started: try later
            delay = self._backoff.next_delay()
            log.warning("simulator could not be started (%s); trying again in %.1f s", exc, delay)
            self._restart.start(max(1, round(delay * 1000)))
            return
        self.restarts += 1
        log.warning("simulator restarted (pid %d, restart %d)", self.process.pid, self.restarts)
        self._set_status(self.tr("Simulator restarted"))

    def _set_status(self, text: str) -> None:
        if text != self.status:
            self.status = text
            self.sig_status.emit(text)


def _forward_log(process: subprocess.Popen) -> None:
    """The simulator's stderr (its outage and reconnection lines), line by line into this
    process's log; ends when the process does."""
    stream = process.stderr
    if stream is None:
        return
    with stream:
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:  # its warnings (an outage, a reconnection) stay warnings here
                level = logging.WARNING if " WARNING " in line or " ERROR " in line \
                    else logging.INFO
                log.log(level, "simulator %d: %s", process.pid, line)


__all__ = ["SimulatorSupervisor"]
