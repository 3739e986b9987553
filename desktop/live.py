"""The change feed, turned into Qt signals.

A :class:`FeedWorker` lives on its own QThread and blocks in :class:`db.feed.ChangeFollower`;
:class:`LiveFeed` (GUI thread) gathers what arrives and emits at most one batch every
:data:`COALESCE_MS`, so a burst of thousands of changes costs the screen at most ~20 refreshes
a second.
"""
from __future__ import annotations

import datetime as dt
import logging
import time

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from db.engine import Database
from db.feed import RELOAD, ChangeFollower

log = logging.getLogger(__name__)
COALESCE_MS = 50
WAIT_SECONDS = 0.5  # how often the worker looks at its stop flag


class FeedWorker(QObject):
    """Follows the feed on a worker thread. Signals carry plain Python values."""

    sig_changes = Signal(object)  # dict[str, set[int | None]]: entity -> ids ("*": reload)
    sig_online = Signal(bool)

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._stop = False

    @Slot()
    def run(self) -> None:
        from db.engine import open_database

        database: Database | None = None
        follower: ChangeFollower | None = None
        online: bool | None = None
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

    def __init__(self, url: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: dict[str, set] = {}
        self._timer = QTimer(self, singleShot=True, interval=COALESCE_MS)
        self._timer.timeout.connect(self._flush)
        self.online = True
        self.offline_since: dt.datetime | None = None
        self._thread = QThread(self)
        self._thread.setObjectName("cityops-feed")
        self._worker = FeedWorker(url)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.sig_changes.connect(self._collect)
        self._worker.sig_online.connect(self._on_online)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._worker.stop()
        self._thread.quit()
        self._thread.wait(5000)

    @Slot(object)
    def _collect(self, grouped: dict) -> None:
        for key, ids in grouped.items():
            self._pending.setdefault(key, set()).update(ids)
        if not self._timer.isActive():
            self._timer.start()

    def _flush(self) -> None:
        batch, self._pending = self._pending, {}
        if batch:
            self.sig_batch.emit(batch)

    @Slot(bool)
    def _on_online(self, online: bool) -> None:
        if online == self.online:
            return
        self.online = online
        self.offline_since = None if online else dt.datetime.now(dt.timezone.utc)
        self.sig_online_changed.emit(online, self.offline_since)
