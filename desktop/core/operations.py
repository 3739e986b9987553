"""One way to run an operation from the UI (after Anki's ``CollectionOp``).

A panel asks :meth:`Operations.run` to do a write: a case step, an alert action, and everything
after them. This module handles, once for all of them:

* **busy**: one operation at a time per widget; a second is answered "still running";
* **offline**: refused at once while the database is unreachable, worded "try again", with the
  request kept so the same one can be sent again;
* **exactly once**: each request gets a request id (:mod:`db.core.requests`) that ``fn`` hands
  to the data layer; "try again" sends the same id, so a write that did happen is never done
  twice. A link lost during the write is settled by the data layer (done or not done); when
  even that cannot be asked, the outcome is **unknown**, the request is kept, and it is asked
  again (:meth:`Operations.settle_unknown`) as soon as the window is back online;
* the outcome: **done**, **conflict** (someone changed it first), **refused** (role, state,
  data), **offline** (the link dropped; nothing was written), **unknown** (see above),
  **failed** (unexpected; logged), each worded once (:mod:`desktop.core.errors`) in the
  user's language;
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

from db.core import requests
from db.core.entities import Entity
from db.core.requests import new_request_id
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
        """The same request may be sent again unchanged: the database was unreachable or busy
        (nothing was written), or the outcome is unknown (the same request id makes a second
        send return the first result if the first was written)."""
        return self.outcome in (Outcome.OFFLINE, Outcome.DB_BUSY, Outcome.UNKNOWN)


@dataclass
class _Request:
    what: str
    fn: Callable[[str], Any]  # takes the request id
    changes: Callable[[Any], dict[Entity, list[int]]] | None
    on_done: Callable[[Report], None] | None
    origin: object = field(repr=False, default=None)
    request_id: str = field(default_factory=new_request_id)


def _t(text: str) -> str:
    return QCoreApplication.translate("operations", text)


class Operations:
    """The operation runner of one signed-in window (``ctx.operations``)."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._busy: set[int] = set()  # id() of the widgets with an operation running
        # The last request each widget may retry; weak, so a closed widget takes it along.
        self._last: weakref.WeakKeyDictionary[object, _Request] = weakref.WeakKeyDictionary()
        # Requests whose outcome is unknown, by request id, until the database says.
        self._unsettled: dict[str, _Request] = {}

    def busy(self, origin: object) -> bool:
        return id(origin) in self._busy

    def run(self, origin: object, what: str, fn: Callable[[str], Any], *,
            changes: Callable[[Any], dict[Entity, list[int]]] | None = None,
            on_done: Callable[[Report], None] | None = None) -> bool:
        """Run ``fn(request_id)`` (plain values only: it runs on the write lane) for ``origin``;
        ``fn`` passes the request id to the data layer's write (``request_id=``).

        ``what`` names the operation in the user's language ("Acknowledge"); ``changes(value)``
        says which records the result changed; ``on_done(report)`` runs on the GUI thread.
        Returns False when the operation was refused at once (busy, offline)."""
        return self._send(_Request(what, fn, changes, on_done, origin))

    def _send(self, request: _Request) -> bool:
        origin = request.origin
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
        self._unsettled.pop(request.request_id, None)  # sent again: its answer settles it
        self._ctx.writes.run(lambda: request.fn(request.request_id),
                             lambda value: self._succeeded(request, value),
                             lambda exc: self._failed(request, exc))
        return True

    def retry(self, origin: object) -> bool:
        """Send the widget's last request again, unchanged and under the same request id
        (after "try again"): if the first send was written, this returns its result."""
        request = self._last.get(origin)
        if request is None:
            return False
        return self._send(request)

    @property
    def unsettled(self) -> int:
        """How many requests have an unknown outcome."""
        return len(self._unsettled)

    def settle_unknown(self) -> None:
        """Ask the database what became of each request with an unknown outcome (call when the
        window is back online). Done: reported as done, with the first result; not done:
        reported so, "try again" allowed, never done behind the officer's back; still
        unreachable: asked again next time."""
        database = self._ctx.database
        for rid, request in list(self._unsettled.items()):
            self._ctx.writes.run(lambda rid=rid: requests.outcome(database, rid),
                                 lambda found, request=request: self._settled(request, found),
                                 lambda _exc: None)

    def _settled(self, request: _Request, found: requests.Outcome) -> None:
        if self._unsettled.pop(request.request_id, None) is None or id(request.origin) in self._busy:
            return  # settled meanwhile (sent again, or asked twice)
        if found.done:  # sent again under its id: the data layer returns the first result
            self._send(request)
            return
        text = _t(QT_TRANSLATE_NOOP(
            "operations", "%1 was not done: the connection dropped before it was saved. Try "
            "again.")).replace("%1", request.what)
        self._finish(request, Report(Outcome.OFFLINE, text))

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
        if outcome == Outcome.UNKNOWN:
            self._unsettled[request.request_id] = request
        self._finish(request, report)

    @staticmethod
    def _finish(request: _Request, report: Report) -> None:
        if request.on_done is None:
            return
        try:
            request.on_done(report)
        except RuntimeError:  # the widget was closed meanwhile
            pass
