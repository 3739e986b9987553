"""One way to run an operation from the UI (after Anki's ``CollectionOp``).

A panel asks :meth:`Operations.run` to do a write: a case step, an alert action, and everything
after them. This module handles, once for all of them:

* **busy**: one operation at a time per widget; a second is answered "still running";
* **offline**: refused at once while the database is unreachable, worded "try again", with the
  request kept so the same one can be sent again;
* the outcome: **done**, **conflict** (someone changed it first), **refused** (role, state,
  data), **offline** (the link dropped), **failed** (unexpected; logged), each worded once
  (:mod:`desktop.core.errors`) in the user's language;
* the change: on success, the records it changed are routed through the context's
  :class:`~desktop.core.changes.ChangeRouter` with the widget as ``origin``, so every panel
  shows it at once and the widget that made it knows it was its own.

The work runs on the context's write lane (``ctx.writes``): a write never waits behind a read.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from db.core.entities import Entity
from desktop.core.errors import Outcome, classify, offline_text

if TYPE_CHECKING:
    from desktop.core.context import AppContext


@dataclass(frozen=True)
class Report:
    """What the widget shows after an operation."""

    outcome: Outcome
    text: str  # worded, in the user's language
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == Outcome.DONE

    @property
    def kind(self) -> str:
        """The message bar's style: success, info or error."""
        return {Outcome.DONE: "success", Outcome.BUSY: "info"}.get(self.outcome, "error")

    @property
    def retry(self) -> bool:
        """The same request may be sent again unchanged (the database was unreachable or
        busy: nothing was written)."""
        return self.outcome in (Outcome.OFFLINE, Outcome.DB_BUSY)


@dataclass
class _Request:
    what: str
    fn: Callable[[], Any]
    changes: Callable[[Any], dict[Entity, list[int]]] | None
    on_done: Callable[[Report], None] | None
    origin: object = field(repr=False, default=None)


def _t(text: str) -> str:
    return QCoreApplication.translate("operations", text)


class Operations:
    """The operation runner of one signed-in window (``ctx.operations``)."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._busy: set[int] = set()  # id() of the widgets with an operation running
        # The last request each widget may retry; weak, so a closed widget takes it along.
        self._last: weakref.WeakKeyDictionary[object, _Request] = weakref.WeakKeyDictionary()

    def busy(self, origin: object) -> bool:
        return id(origin) in self._busy

    def run(self, origin: object, what: str, fn: Callable[[], Any], *,
            changes: Callable[[Any], dict[Entity, list[int]]] | None = None,
            on_done: Callable[[Report], None] | None = None) -> bool:
        """Run ``fn`` (plain values only: it runs on the write lane) for ``origin``.

        ``what`` names the operation in the user's language ("Acknowledge"); ``changes(value)``
        says which records the result changed; ``on_done(report)`` runs on the GUI thread.
        Returns False when the operation was refused at once (busy, offline)."""
        request = _Request(what, fn, changes, on_done, origin)
        key = id(origin)
        if key in self._busy:
            self._finish(request, Report(Outcome.BUSY, _t(QT_TRANSLATE_NOOP(
                "operations", "Another action is still running; wait for it to finish."))))
            return False
        self._last[origin] = request
        if not self._ctx.online:
            self._finish(request, Report(Outcome.OFFLINE, offline_text()))
            return False
        self._busy.add(key)
        self._ctx.writes.run(fn, lambda value: self._succeeded(request, value),
                             lambda exc: self._failed(request, exc))
        return True

    def retry(self, origin: object) -> bool:
        """Send the widget's last request again, unchanged (after "try again")."""
        request = self._last.get(origin)
        if request is None:
            return False
        return self.run(origin, request.what, request.fn, changes=request.changes,
                        on_done=request.on_done)

    def working_text(self, what: str) -> str:
        return _t(QT_TRANSLATE_NOOP("operations", "%1: working…")).replace("%1", what)

    def _succeeded(self, request: _Request, value: Any) -> None:
        self._busy.discard(id(request.origin))
        self._last.pop(request.origin, None)
        text = _t(QT_TRANSLATE_NOOP("operations", "%1 done.")).replace("%1", request.what)
        try:
            if request.changes is not None:
                for entity, ids in request.changes(value).items():
                    self._ctx.changes.publish(entity, ids, origin=request.origin)
        finally:  # the widget hears of its outcome whatever a subscriber did
            self._finish(request, Report(Outcome.DONE, text, value=value))

    def _failed(self, request: _Request, exc: BaseException) -> None:
        self._busy.discard(id(request.origin))
        outcome, text = classify(exc)
        report = Report(outcome, text, error=exc)
        if not report.retry:
            self._last.pop(request.origin, None)
        self._finish(request, report)

    @staticmethod
    def _finish(request: _Request, report: Report) -> None:
        if request.on_done is None:
            return
        try:
            request.on_done(report)
        except RuntimeError:  # the widget was closed meanwhile
            pass
