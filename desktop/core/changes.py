"""Changes routed by subscription: each panel subscribes a handler per entity.

The live feed's batches (``{entity name: ids}``, from every workstation) and this window's own
operations (:mod:`desktop.core.operations`) both go through one :class:`ChangeRouter`. A handler
is called as ``handler(ids, origin)``: ``origin`` is the widget whose operation made the change
(``None`` for the feed), so that widget can skip reading again what it has just read. A new
entity shown somewhere (an incident, a notice) is one ``subscribe`` where it is shown; the window
does not route anything by hand.

Handlers are held weakly when they are bound methods, so a closed panel never keeps itself alive
through the router nor is called after it is gone.
"""
from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable

import shiboken6

from db.core.entities import Entity

log = logging.getLogger(__name__)
Handler = Callable[[set, object], None]


class ChangeRouter:
    """Entity → handlers, in subscription order."""

    def __init__(self) -> None:
        self._handlers: dict[Entity, list[Callable[[], Handler | None]]] = {}

    def subscribe(self, entity: Entity, handler: Handler) -> None:
        """Call ``handler(ids, origin)`` for every change of ``entity``. ``Entity.ALL`` means
        "reload everything" (the feed lost track, the demo was rebuilt)."""
        entity = Entity(entity)
        if hasattr(handler, "__self__") and hasattr(handler, "__func__"):
            ref = weakref.WeakMethod(handler)
        else:
            ref = (lambda h: (lambda: h))(handler)
        self._handlers.setdefault(entity, []).append(ref)

    def subscribed(self, entity: Entity) -> int:
        """How many live handlers ``entity`` has (tests and diagnostics)."""
        return sum(1 for ref in self._handlers.get(Entity(entity), ()) if _alive(ref()))

    def dispatch(self, batch: dict, origin: object | None = None) -> None:
        """Hand each entity's ids to its handlers. ``batch`` maps entity names (or members) to
        ids; names this build does not know (a newer workstation's records) are skipped."""
        if Entity.ALL.value in batch or Entity.ALL in batch:
            self._call(Entity.ALL, set(), origin)
            return
        for name, ids in batch.items():
            try:
                entity = Entity(name)
            except ValueError:
                log.debug("no subscriber can know entity %r", name)
                continue
            self._call(entity, set(ids), origin)

    def publish(self, entity: Entity, ids: Iterable[int], origin: object | None = None) -> None:
        """This window's own change, routed at once (the feed's echo follows later)."""
        self._call(Entity(entity), set(ids), origin)

    def _call(self, entity: Entity, ids: set, origin: object | None) -> None:
        refs = self._handlers.get(entity)
        if not refs:
            return
        for ref in list(refs):  # a copy: a handler may subscribe meanwhile
            handler = ref()
            if not _alive(handler):
                if ref in refs:
                    refs.remove(ref)
                continue
            try:
                handler(ids, origin)
            except RuntimeError as exc:  # the widget's C++ side is gone (window closing)
                log.debug("dropped a change for a closed widget: %s", exc)
            except Exception:  # one panel's bug must not keep the others stale
                log.exception("a handler of %s changes failed", entity.value)


def _alive(handler) -> bool:
    if handler is None:
        return False
    owner = getattr(handler, "__self__", None)
    if owner is not None and isinstance(owner, shiboken6.Shiboken.Object):
        return shiboken6.isValid(owner)
    return True
