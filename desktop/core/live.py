"""The change feed, turned into Qt signals.

A :class:`FeedWorker` lives on its own QThread and blocks in :class:`db.core.feed.ChangeFollower`;
:class:`LiveFeed` (GUI thread) gathers what arrives and emits at most one batch every
:data:`COALESCE_MS`, so a burst of thousands of changes costs the screen at most ~20 refreshes
a second. A change after a quiet spell goes out at once (the wait is only for the next batch
within those 50 ms), so a single new case reaches the screen without a coalescing delay.

The worker also keeps the change log short: every :data:`PRUNE_EVERY_S` it drops rows older
than :data:`db.core.feed.RETENTION` (:func:`db.core.feed.prune_expired`).
"""
from __future__ import annotations

import datetime as dt
import logging
import time

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from db.core.engine import Database
from db.core.feed import RELOAD, RETENTION, ChangeFollower, prune_expired

log = logging.getLogger(__name__)
COALESCE_MS = 50
WAIT_SECONDS = 0.5  # how often the worker looks at its stop flag
SILENCE_LIMIT_S = 5.0  # no heartbeat for this long: the database counts as unreachable
PRUNE_EVERY_S = 300.0  # how often a workstation trims the change log (one at a time on PG)
PRUNE_LIMIT = 100_000  # rows a turn at most (~1 s): the loop must keep its heartbeat going
_stuck_threads: list = []  # feed threads that would not stop: kept, never destroyed running


def stuck_threads() -> bool:
    """True when a feed thread could not be stopped (see :meth:`LiveFeed.stop`)."""
    return any(thread.isRunning() for thread, _ in _stuck_threads)


class FeedWorker(QObject):
    """Follows the feed on a worker thread. Signals carry plain Python values."""

    sig_changes = Signal(object)  # dict[str, set[int | None]]: entity -> ids ("*": reload)
    sig_online = Signal(bool)
    sig_alive = Signal()  # once per loop: silence means the worker is stuck on a dead link

    def __init__(self, url: str, *, prune_every: float = PRUNE_EVERY_S,
                 retention: dt.timedelta = RETENTION) -> None:
        super().__init__()
        self._url = url
        self._stop = False
        self._prune_every = prune_every
        self._retention = retention

    @Slot()
    def run(self) -> None:
        from db.core.engine import open_database

        database: Database | None = None
        follower: ChangeFollower | None = None
        online: bool | None = None
        next_prune = time.monotonic() + min(60.0, self._prune_every)  # not during start-up
        while not self._stop:
            try:
                if follower is None:
                    database = open_database(self._url, migrate=False)
                    follower = ChangeFollower(database)
                changes = follower.wait(WAIT_SECONDS)
                now_online = follower.connected
            except Exception as exc:  # the database is not there yet: try again shortly
                log.debug("feed worker cannot start: %s", exc)
                changes, now_online = [], False
                time.sleep(WAIT_SECONDS)
            if database is not None and now_online and time.monotonic() >= next_prune:
                next_prune = time.monotonic() + self._prune_every
                try:
                    removed = prune_expired(database, self._retention, limit=PRUNE_LIMIT)
                    if removed:
                        log.info("change log: %d rows older than %s pruned", removed,
                                 self._retention)
                    if removed >= PRUNE_LIMIT:  # a backlog (months unpruned): more soon
                        next_prune = time.monotonic() + WAIT_SECONDS * 4
                except Exception as exc:  # a busy or lost database: try again next time
                    log.debug("change log not pruned: %s", exc)
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
        if follower is not None:
            follower.close()
        if database is not None:
            database.dispose()

    def stop(self) -> None:
        self._stop = True


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
                 prune_every: float = PRUNE_EVERY_S, retention: dt.timedelta = RETENTION) -> None:
        super().__init__(parent)
        self._pending: dict[str, set] = {}
        self._timer = QTimer(self, singleShot=True, interval=COALESCE_MS)
        self._timer.timeout.connect(self._flush)
        self._last_emit = 0.0
        self.online = True
        self.offline_since: dt.datetime | None = None
        self._thread = QThread(self)
        self._thread.setObjectName("cityops-feed")
        self._worker = FeedWorker(url, prune_every=prune_every, retention=retention)
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
        self.offline_since = None if online else dt.datetime.now(dt.timezone.utc)
        self.sig_online_changed.emit(online, self.offline_since)
