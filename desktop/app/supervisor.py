"""The demo's child processes, kept alive beside the window: the simulator and the camera server.

Each runs in its own process, started here (:func:`start_simulator`,
:func:`start_camera_server`). The simulator waits out a lost database by
itself, and the camera tiles reconnect by themselves, but a process can still die (a crash, an
out-of-memory kill, a database that was not there when the simulator started: exit code 3).
:class:`ChildSupervisor` looks at its process once a second and starts it again after a back-off
with jitter (:class:`db.core.backoff.Backoff`), so a demo wall left running overnight is still a
living city in the morning. It says so in the log and in a short line the window shows
(``sig_status``); a child's own log lines (the simulator's outages and reconnections) are passed
on to this process's log. A simulator the database refuses (exit code 2: not a demo database, a
privileged connection) is not started again: that will not change by waiting.
:meth:`ChildSupervisor.stop` (the window's close, the application's end) ends it with SIGTERM.
"""
from __future__ import annotations

import atexit
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from db.admin.passwords import refuse_password_in_url
from db.core.backoff import Backoff

log = logging.getLogger(__name__)
POLL_MS = 1000
RESTART_FIRST_S = 1.0  # back-off ceiling after the first exit (full jitter below it) ...
RESTART_CAP_S = 60.0  # ... doubling up to this
STABLE_AFTER_S = 30.0  # a restarted child that ran this long starts the back-off over
REFUSED_EXIT = 2  # cityops simulate: the database refuses it (no point in trying again)
CAMERA_PORT = 8890  # the demo cameras' stream URLs point here (db/demo.py)


def start_simulator(url: str, *, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    """The demo's living city: the simulator in its own process, so it never touches the GUI
    thread (nor its GIL); it writes through the same db/ operations as a workstation. A URL that
    holds a password is refused: a child's arguments are visible to every user of the machine
    (the child's libpq finds the password where this process's did). The window keeps it alive
    with :func:`simulator_supervisor`, which reads its ``stderr``."""
    refuse_password_in_url(url)
    return subprocess.Popen([sys.executable, "-m", "desktop", "simulate", "--db", url],
                            stdout=subprocess.DEVNULL, stderr=stderr)


def camera_port_free(port: int = CAMERA_PORT, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on ``host:port`` (a camera server already there is fine too:
    the demo's cameras are served either way)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def start_camera_server(port: int = CAMERA_PORT, media_dir=None) -> subprocess.Popen | None:
    """The demo's cameras: the sample clips served as live streams at the demo cameras'
    addresses (``cityops cameras``), in their own process so that pacing nine streams never
    touches the GUI thread. None when there are no clips (the tiles then say "signal lost")
    or the port is taken (by an earlier camera server, say)."""
    from desktop.demo.stream_server import default_media_dir, find_clips

    folder = media_dir or default_media_dir()
    if not find_clips(folder):
        log.info("no sample clips in %s: demo cameras will show 'signal lost' "
                 "(scripts/make-sample-media.sh makes them)", folder)
        return None
    if not camera_port_free(port):
        log.info("port %d is taken: not starting the demo camera server", port)
        return None
    return subprocess.Popen([sys.executable, "-m", "desktop", "cameras", "--port", str(port),
                             "--media", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_with_application(supervisor) -> None:
    """Stop a :class:`ChildSupervisor` (SIGTERM to its child, reaped on
    a thread, killed after 10 s) when the application quits, so that closing never waits."""

    def stop() -> None:
        try:
            supervisor.stop()
        except RuntimeError:  # at exit Qt may have gone first; the child was signalled before
            pass

    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(stop)
    atexit.register(stop)  # however the process ends


def _reap(process: subprocess.Popen) -> None:
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()



class ChildSupervisor(QObject):
    """Starts a child process with ``launch``, restarts it when it dies, stops it on
    :meth:`stop`. ``launch`` returns None when the child is not wanted after all (the camera
    server: no clips, or its port taken by another one); supervision then ends. ``name`` is the
    child's translated name, for the status line.

    Signals
    -------
    sig_status(str)
        A short line for the window, already translated; "" once all is well again.
    """

    sig_status = Signal(str)

    def __init__(self, launch: Callable[[], subprocess.Popen | None], name: str,
                 parent: QObject | None = None, *, backoff: Backoff | None = None,
                 poll_ms: int = POLL_MS, stable_after: float = STABLE_AFTER_S,
                 refused_exit: int | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._launch = launch
        self._backoff = backoff or Backoff(RESTART_FIRST_S, RESTART_CAP_S)
        self._stable_after = stable_after
        self._refused_exit = refused_exit
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
        """Start the child (``launch``'s own checks may raise, e.g. a password in a URL)."""
        if self._spawn():
            self._poll.start()

    def stop(self) -> None:
        """SIGTERM: the simulator finishes the transaction under way and exits. Reaped on a
        thread so the closing window never waits for it; killed if it has not gone in 10 s."""
        if self._stopped:
            return
        self._stopped = True
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            threading.Thread(target=_reap, args=(process,), daemon=True).start()
        self._poll.stop()
        self._restart.stop()

    # -- internals ---------------------------------------------------------------------
    def _spawn(self) -> bool:
        process = self._launch()
        if process is None:
            log.info("%s not started: not needed here", self.name)
            self._poll.stop()
            return False
        self.process = process
        self._started_at = time.monotonic()
        if process.stderr is not None:
            threading.Thread(target=_forward_log, args=(process,), daemon=True,
                             name="cityops-child-log").start()
        return True

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
        if code == self._refused_exit:
            log.warning("%s (pid %d) refused by the database (exit code %d); not restarted",
                        self.name, process.pid, code)
            self._poll.stop()
            self._set_status(self.tr("%1 stopped: the database refuses it")
                             .replace("%1", self.name))
            return
        delay = self._backoff.next_delay()
        log.warning("%s (pid %d) exited with code %s; restarting in %.1f s", self.name,
                    process.pid, code, delay)
        self._set_status(self.tr("%1 stopped; restarting in %2 s").replace("%1", self.name)
                         .replace("%2", str(max(1, round(delay)))))
        self._restart.start(max(1, round(delay * 1000)))

    def _start_again(self) -> None:
        if self._stopped:
            return
        try:
            started = self._spawn()
        except OSError as exc:  # the interpreter itself could not be started: try later
            delay = self._backoff.next_delay()
            log.warning("%s could not be started (%s); trying again in %.1f s", self.name, exc,
                        delay)
            self._restart.start(max(1, round(delay * 1000)))
            return
        if not started:
            self._set_status("")
            return
        self.restarts += 1
        log.warning("%s restarted (pid %d, restart %d)", self.name, self.process.pid,
                    self.restarts)
        self._set_status(self.tr("%1 restarted").replace("%1", self.name))

    def _set_status(self, text: str) -> None:
        if text != self.status:
            self.status = text
            self.sig_status.emit(text)


def simulator_supervisor(url: str, parent: QObject | None = None, **options) -> ChildSupervisor:
    """The demo's simulator on ``url``, its log lines passed on to this process's log."""
    return ChildSupervisor(lambda: start_simulator(url, stderr=subprocess.PIPE),
                           QCoreApplication.translate("ChildSupervisor", "Simulator"), parent,
                           refused_exit=REFUSED_EXIT, **options)


def camera_server_supervisor(parent: QObject | None = None, *, port: int | None = None,
                             media_dir=None, **options) -> ChildSupervisor:
    """The demo's camera server (``cityops cameras``); not started without clips or when its
    port is taken (see :func:`start_camera_server`)."""
    return ChildSupervisor(lambda: start_camera_server(port or CAMERA_PORT, media_dir),
                           QCoreApplication.translate("ChildSupervisor", "Camera server"),
                           parent, **options)


def _forward_log(process: subprocess.Popen) -> None:
    """The child's stderr, line by line into this process's log (its warnings, such as the
    simulator's outages and reconnections, stay warnings); ends when the process does."""
    stream = process.stderr
    if stream is None:
        return
    with stream:
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                level = logging.WARNING if " WARNING " in line or " ERROR " in line \
                    else logging.INFO
                log.log(level, "child %d: %s", process.pid, line)


__all__ = ["ChildSupervisor", "camera_server_supervisor", "simulator_supervisor"]
