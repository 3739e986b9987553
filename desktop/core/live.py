"""The change feed, turned into Qt signals.

A :class:`FeedWorker` lives on its own QThread and blocks in :class:`db.core.feed.ChangeFollower`;
:class:`LiveFeed` (GUI thread) gathers what arrives and emits at most one batch every
:data:`COALESCE_MS`, so a burst of thousands of changes costs the screen at most ~20 refreshes
a second. A change after a quiet spell goes out at once (the wait is only for the next batch
within those 50 ms), so a single new case reaches the screen without a coalescing delay.

The worker also runs the scheduled jobs (:func:`db.core.jobs.run_due`, every
:data:`JOBS_EVERY_S`, off the GUI thread): among them ``feed.prune``, which keeps the change log
short. A job that is due runs on one workstation only; the others skip it.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from db.core import jobs
from db.core.backoff import Backoff
from db.core.engine import Database
from db.core.feed import RECONNECT_CAP_S, RELOAD, ChangeFollower

log = logging.getLogger(__name__)
COALESCE_MS = 50
WAIT_SECONDS = 0.5  # how often the worker looks at its stop flag
SILENCE_LIMIT_S = 5.0  # no heartbeat for this long: the database counts as unreachable
JOBS_EVERY_S = 15.0  # how often a workstation looks for due jobs (a one-table read)
JOBS_DELAY_S = 60.0  # no jobs during start-up
BACKLOG_EVERY_S = 2.0  # a job that stopped at its per-run limit goes on this soon
_stuck_threads: list = []  # feed threads that would not stop: kept, never destroyed running


def stuck_threads() -> bool:
    """True when a feed thread could not be stopped (see :meth:`LiveFeed.stop`)."""
    return any(thread.isRunning() for thread, _ in _stuck_threads)


class FeedWorker(QObject):
    """Follows the feed on a worker thread. Signals carry plain Python values."""

    sig_changes = Signal(object)  # dict[str, set[int | None]]: entity -> ids ("*": reload)
    sig_online = Signal(bool)
    sig_alive = Signal()  # once per loop: silence means the worker is stuck on a dead link

    def __init__(self, url: str, *, jobs_registry: jobs.Registry | None = None,
                 jobs_every: float = JOBS_EVERY_S, jobs_delay: float = JOBS_DELAY_S) -> None:
        super().__init__()
        self._url = url
        self._stop = threading.Event()
        self._backoff = Backoff(WAIT_SECONDS, RECONNECT_CAP_S)  # opening the database again
        self._jobs = jobs_registry
        self._jobs_every = jobs_every
        self._jobs_delay = jobs_delay
        self._backlog: list[str] = []

    @Slot()
    def run(self) -> None:
        from db.core.engine import open_database

        database: Database | None = None
        follower: ChangeFollower | None = None
        online: bool | None = None
        next_jobs = time.monotonic() + self._jobs_delay
        while not self._stop.is_set():
            unopened = False
            try:
                if follower is None:
                    if database is None:
                        database = open_database(self._url, migrate=False)
                    follower = ChangeFollower(database)
                    if self._backoff.failing:
                        log.info("change feed started after %.1f s without a database",
                                 self._backoff.reset() or 0.0)
                changes = follower.wait(WAIT_SECONDS)
                now_online = follower.connected
            except Exception as exc:  # the database is not there yet: try again later
                if not self._backoff.failing:
                    log.warning("change feed cannot reach the database, retrying with "
                                "back-off: %s", exc)
                changes, now_online, unopened = [], False, True
            if database is not None and now_online and time.monotonic() >= next_jobs:
                backlog = self._run_jobs(database)
                next_jobs = time.monotonic() + (BACKLOG_EVERY_S if backlog else self._jobs_every)
            self.sig_alive.emit()
            if now_online != online:
                online = now_online
                self.sig_online.emit(online)
            if changes:
                grouped: dict[str, set] = {}
                for change in changes:
                    key = "*" if change.op == RELOAD else change.entity
                    grouped.setdefault(key, set()).add(change.entity_id)
                self.sig_changes.emit(grouped)
            if unopened:
                self._backoff.wait(self._stop)  # stop() ends the wait at once
        if follower is not None:
            follower.close()
        if database is not None:
            database.dispose()

    def _run_jobs(self, database: Database) -> bool:
        """Run what is due (or, after a backlog, go on with it); True when a backlog is left.
        Each job's failure is logged and recorded by db.core.jobs itself."""
        try:
            if self._backlog:
                runs = [jobs.run(database, name, reg=self._jobs) for name in self._backlog]
            else:
                runs = jobs.run_due(database, reg=self._jobs)
        except Exception as exc:  # a busy or lost database: try again next time
            log.debug("scheduled jobs not run: %s", exc)
            runs = []
        self._backlog = [r.name for r in runs if r.backlog]
        return bool(self._backlog)

    def stop(self) -> None:
        self._stop.set()


class LiveFeed(QObject):
    """Owns the worker thread; emits coalesced batches on the GUI thread.

    Signals
    -------
    sig_batch(dict)
        entity -> set of ids changed since the last batch; key ``"*"`` means reload all.
    sig_online_changed(bool, object)
        reachability and, when offline, the aware UTC time it was lost.
    """

    sig_batch = Signal(object)
    sig_online_changed = Signal(bool, object)

    def __init__(self, url: str, parent: QObject | None = None, *,
                 jobs_registry: jobs.Registry | None = None, jobs_every: float = JOBS_EVERY_S,
                 jobs_delay: float = JOBS_DELAY_S) -> None:
        super().__init__(parent)
        self._pending: dict[str, set] = {}
        self._timer = QTimer(self, singleShot=True, interval=COALESCE_MS)
        self._timer.timeout.connect(self._flush)
        self._last_emit = 0.0
        self.online = True
        self.offline_since: dt.datetime | None = None
        self._thread = QThread(self)
        self._thread.setObjectName("cityops-feed")
        self._worker = FeedWorker(url, jobs_registry=jobs_registry, jobs_every=jobs_every,
                                  jobs_delay=jobs_delay)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.sig_changes.connect(self._collect)
        self._worker.sig_online.connect(self._on_worker_online)
        self._worker.sig_alive.connect(self._on_alive)
        self._worker_online = True
        self._last_alive = time.monotonic()
        self._watchdog = QTimer(self, interval=1000)
        self._watchdog.timeout.connect(self._check_silence)

    def start(self) -> None:
        self._last_alive = time.monotonic()
        self._thread.start()
        self._watchdog.start()

    def stop(self) -> None:
        self._watchdog.stop()
        self._worker.stop()
        self._thread.quit()
        if not self._thread.wait(5000):
            # Stuck in a network call: destroying a running QThread aborts the process, so
            # keep it (and its worker) alive until the call gives up; it then ends by itself.
            log.warning("change-feed thread still busy at close; leaving it to finish")
            self._thread.setParent(None)
            _stuck_threads.append((self._thread, self._worker))

    @Slot(object)
    def _collect(self, grouped: dict) -> None:
        for key, ids in grouped.items():
            self._pending.setdefault(key, set()).update(ids)
        if self._timer.isActive():
            return  # rides along with the batch already due
        wait_ms = COALESCE_MS - (time.monotonic() - self._last_emit) * 1000
        if wait_ms <= 0:
            self._flush()  # quiet until now: no reason to make this one wait
        else:
            self._timer.start(int(wait_ms) + 1)

    def _flush(self) -> None:
        batch, self._pending = self._pending, {}
        if batch:
            self._last_emit = time.monotonic()
            self.sig_batch.emit(batch)

    @Slot()
    def _on_alive(self) -> None:
        self._last_alive = time.monotonic()
        self._update_online()

    @Slot(bool)
    def _on_worker_online(self, online: bool) -> None:
        self._worker_online = online
        self._update_online()

    def _check_silence(self) -> None:
        self._update_online()

    def _update_online(self) -> None:
        silent = time.monotonic() - self._last_alive > SILENCE_LIMIT_S
        self._on_online(self._worker_online and not silent)

    def _on_online(self, online: bool) -> None:
        if online == self.online:
            return
        self.online = online
        self.offline_since = None if online else dt.datetime.now(dt.UTC)
        self.sig_online_changed.emit(online, self.offline_since)
