"""Section 4, start-up: from starting the process to a usable window on the demo database.

``python -m desktop.bench startup`` is the probe: it starts the window the way ``cityops`` does
(:func:`desktop.app.startup.start`: open and migrate, demo sign-in, the window, the feed) and
stops the clock when the window is usable: shown, the queue's first rows painted with their
data, and the map page up with every case on it (asked of the page). The clock starts in the
runner just before it spawns the process (``--spawned-ns``), so interpreter start-up and
imports count. The runner takes it cold (page cache emptied of the database file and the Qt
libraries first, see :func:`desktop.bench.runner.evict`) and warm.

Baseline (``python -m desktop.bench blank``): the same interpreter and Qt showing an empty
QtWebEngine page: the floor no Qt/Chromium application can go under.
"""
from __future__ import annotations

import inspect
import time

from PySide6.QtCore import QUrl

from db.bench.report import Figure
from desktop.bench.harness import js, make_app, map_idle, must, pump, say

SECTION = "4 start-up"


def _since(spawned_ns: int) -> float:
    return (time.monotonic_ns() - spawned_ns) / 1e6


def probe(url: str, mode: str, spawned_ns: int) -> tuple[list[Figure], dict]:
    imported_ms = _since(spawned_ns)
    app = make_app()
    if mode == "blank":
        from PySide6.QtWebEngineWidgets import QWebEngineView

        view = QWebEngineView()
        view.resize(1600, 900)
        done = []
        view.loadFinished.connect(done.append)
        view.setUrl(QUrl("about:blank"))
        view.show()
        must(lambda: bool(done), "the blank page")
        pump(0.05)
        ms = _since(spawned_ns)
        view.close()
        return [], {"usable_ms": ms, "imported_ms": imported_ms}

    from desktop.app.startup import start
    from desktop.queue.panel import QueuePanel  # noqa: F401 - counted: the window needs it anyway

    kwargs = {"cameras": False} if "cameras" in inspect.signature(start).parameters else {}
    window = start(url, interactive=False, simulator=False, **kwargs)
    window.resize(1600, 900)
    window.show()
    window_ms = _since(spawned_ns)
    model, table = window.queue.model, window.queue.table

    def queue_painted() -> bool:
        if not model.loaded:
            return False
        top, cached = table.rowAt(0), model.cached_ids()
        bottom = table.rowAt(table.viewport().height() - 1)
        bottom = model.rowCount() - 1 if bottom < 0 else bottom
        return top < 0 or all(model.case_id_at(r) in cached for r in range(top, bottom + 1))

    must(queue_painted, "the queue's first rows", 300)
    table.viewport().repaint()
    queue_ms = _since(spawned_ns)

    def map_loaded() -> bool:
        view = window.map_view
        return view is not None and view.ready and view.batches_sent > 0 and map_idle(view)

    while True:
        must(map_loaded, "the map with its markers", 300)
        if js(window.map_view, "cityops.stats().cases") > 0:
            break
        pump(0.02)
    map_ms = _since(spawned_ns)
    usable_ms = max(queue_ms, map_ms)
    say(f"  start-up ({mode}): imports {imported_ms:.0f} ms, window {window_ms:.0f} ms, "
        f"queue {queue_ms:.0f} ms, map {map_ms:.0f} ms")
    window.close()
    app.processEvents()
    return [], {"usable_ms": usable_ms, "imported_ms": imported_ms, "window_ms": window_ms,
                "queue_ms": queue_ms, "map_ms": map_ms}
