"""Database work off the GUI thread, results back on it (after Anki's ``taskman``).

A :class:`TaskRunner` owns one worker thread, so operations run in the order they were asked
for; the callbacks run on the GUI thread through a queued signal. A callback whose owner was
closed meanwhile is dropped instead of touching a dead widget.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)


class TaskRunner(QObject):
    """Runs callables on one background thread.

    Signals
    -------
    sig_failed(str)
        A task without its own failure handler raised; the text is for the status bar.
    """

    sig_failed = Signal(str)
    _sig_done = Signal(object)  # (callback, value): delivered on the GUI thread

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._closed = False
        self._pending = 0
        self._sig_done.connect(self._deliver)

    @property
    def pending(self) -> int:
        """Tasks asked for whose callbacks have not run yet (tests wait on this)."""
        return self._pending

    def run(self, fn: Callable[[], Any], on_success: Callable[[Any], None] | None = None,
            on_failure: Callable[[BaseException], None] | None = None) -> None:
        if self._closed:
            return
        self._pending += 1
        future = self._pool.submit(fn)
        future.add_done_callback(lambda f: self._finished(f, on_success, on_failure))

    def _finished(self, future: Future, on_success, on_failure) -> None:  # worker thread
        exc = future.exception()
        if exc is None:
            self._sig_done.emit((on_success, future.result()))
        else:
            self._sig_done.emit((on_failure or self._report, exc))

    @Slot(object)
    def _deliver(self, item) -> None:  # GUI thread
        self._pending -= 1
        callback, value = item
        if self._closed or callback is None:
            return
        try:
            callback(value)
        except RuntimeError as exc:  # "Internal C++ object already deleted": owner closed
            log.debug("dropped a callback for a closed widget: %s", exc)

    def _report(self, exc: BaseException) -> None:
        log.warning("background task failed: %s", exc, exc_info=exc)
        self.sig_failed.emit(getattr(exc, "message", None) or str(exc))

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
