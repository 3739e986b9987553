"""Database work off the GUI thread, results back on it (after Anki's ``taskman``).

A :class:`TaskRunner` owns one worker thread, so operations run in the order they were asked
for; the callbacks run on the GUI thread through a queued signal.

The worker never holds a callback: the callbacks stay in a table on the GUI side, keyed by a
task number, and the worker only hands back ``(number, outcome)``. Otherwise the worker could
drop the last reference to a widget (through a bound method) and Qt would destroy it on the
wrong thread, which crashes. For the same reason ``fn`` must not capture widgets: give it
plain values.

The worker never emits on the runner either: a runner can be deleted with its parent (a map
view closing) while its worker is still busy, and a signal emitted from another thread on a
QObject being deleted crashed the process. The worker emits on one module-wide bridge that is
never deleted; the bridge hands the outcome to the runner if it still exists.
"""
from __future__ import annotations

import itertools
import logging
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)
SHUTDOWN_WAIT_S = 2.0


class _Bridge(QObject):
    """Carries outcomes from worker threads to the GUI thread; made once, never deleted."""

    sig_done = Signal(int, int, bool, object)  # runner key, task number, succeeded, value

    def __init__(self) -> None:
        super().__init__()
        self.runners: dict[int, weakref.ref] = {}
        self.sig_done.connect(self._deliver)

    @Slot(int, int, bool, object)
    def _deliver(self, key: int, number: int, ok: bool, value: Any) -> None:  # GUI thread
        ref = self.runners.get(key)
        runner = ref() if ref is not None else None
        if runner is None or not shiboken6.isValid(runner):
            self.runners.pop(key, None)
            return
        runner._deliver(number, ok, value)


_bridge: _Bridge | None = None
_runner_keys = itertools.count(1)


def _the_bridge() -> _Bridge:
    global _bridge
    if _bridge is None:  # first runner, made on the GUI thread: the bridge lives there
        _bridge = _Bridge()
    return _bridge


class TaskRunner(QObject):
    """Runs callables on one background thread.

    Signals
    -------
    sig_failed(str)
        A task without its own failure handler raised; the text is for the status bar.
    """

    sig_failed = Signal(str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._closed = False
        self._numbers = itertools.count(1)
        self._callbacks: dict[int, tuple[Callable | None, Callable | None]] = {}
        self._bridge = _the_bridge()
        self._key = next(_runner_keys)
        self._bridge.runners[self._key] = weakref.ref(self)

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

    def _emit(self, number: int, ok: bool, value: Any) -> None:  # worker thread
        if self._closed:
            return  # shut down: nobody waits for this outcome
        try:
            self._bridge.sig_done.emit(self._key, number, ok, value)
        except RuntimeError:  # the application is closing
            pass

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
