"""Database work off the GUI thread, results back on it (after Anki's ``taskman``).

A :class:`TaskRunner` owns one worker thread, so operations run in the order they were asked
for; the callbacks run on the GUI thread through a queued signal.

The worker never holds a callback: the callbacks stay in a table on the GUI side, keyed by a
task number, and the worker only hands back ``(number, outcome)``. Otherwise the worker could
drop the last reference to a widget (through a bound method) and Qt would destroy it on the
wrong thread, which crashes. For the same reason ``fn`` must not capture widgets: give it
plain values.
"""
from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)
SHUTDOWN_WAIT_S = 2.0


class TaskRunner(QObject):
    """Runs callables on one background thread.

    Signals
    -------
    sig_failed(str)
        A task without its own failure handler raised; the text is for the status bar.
    """

    sig_failed = Signal(str)
    _sig_done = Signal(int, bool, object)  # task number, succeeded, value or exception

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._closed = False
        self._numbers = itertools.count(1)
        self._callbacks: dict[int, tuple[Callable | None, Callable | None]] = {}
        self._sig_done.connect(self._deliver)

    @property
    def pending(self) -> int:
        """Tasks asked for whose callbacks have not run yet (tests wait on this)."""
        return len(self._callbacks)

    def run(self, fn: Callable[[], Any], on_success: Callable[[Any], None] | None = None,
            on_failure: Callable[[BaseException], None] | None = None) -> None:
        if self._closed:
            return
        number = next(self._numbers)
        self._callbacks[number] = (on_success, on_failure)
        self._pool.submit(self._work, number, fn)

    def _work(self, number: int, fn: Callable[[], Any]) -> None:  # worker thread
        try:
            value = fn()
        except BaseException as exc:  # handed to the GUI thread, which decides
            self._emit(number, False, exc)
        else:
            self._emit(number, True, value)

    def _emit(self, number: int, ok: bool, value: Any) -> None:
        try:
            self._sig_done.emit(number, ok, value)
        except RuntimeError:  # the runner itself is gone (application closing)
            pass

    @Slot(int, bool, object)
    def _deliver(self, number: int, ok: bool, value: Any) -> None:  # GUI thread
        on_success, on_failure = self._callbacks.pop(number, (None, None))
        if self._closed:
            return
        callback = on_success if ok else (on_failure or self._report)
        if callback is None:
            return
        try:
            callback(value)
        except RuntimeError as exc:  # "Internal C++ object already deleted": owner closed
            log.debug("dropped a callback for a closed widget: %s", exc)

    def _report(self, exc: BaseException) -> None:
        log.warning("background task failed: %s", exc, exc_info=exc)
        self.sig_failed.emit(getattr(exc, "message", None) or str(exc))

    def shutdown(self) -> None:
        """Drop queued tasks, forget every callback, and give the running one a moment."""
        self._closed = True
        self._callbacks.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
        for thread in list(getattr(self._pool, "_threads", ())):
            thread.join(SHUTDOWN_WAIT_S)
