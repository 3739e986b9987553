"""What every Qt section of the benchmark needs: an offscreen application that counts how
long the GUI thread is busy, waiting without sleeping, the page's JavaScript, and memory.

Import this module only in the benchmark's own process (``python -m desktop.bench``): it sets
the Qt environment up before Qt starts.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if hasattr(os, "geteuid") and os.geteuid() == 0:
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")
else:
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWebEngineCore import QWebEngineProfile  # noqa: E402,F401 - before QApplication
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.map.scheme import register_scheme  # noqa: E402

_NOISE = ("propagateSizeHints", "QRhiGles2", "Failed to create RHI", "Failed to connect to the bus",
          "GPUInfo not initialized", "no QWebChannel transport", "Could not open media",
          "pipewire", "Using Qt multimedia with FFmpeg", "Release of profile requested")


def gui_busy_ns() -> int:
    """CPU time of the calling thread (call it on the GUI thread): the time the GUI thread has
    spent working, whatever on (our slots, painting, QtWebEngine's browser side, which runs
    on this thread too), and none of the time it waited for events, I/O or the GIL."""
    return time.thread_time_ns()


class LagProbe:
    """How late a 10 ms timer fires: what a user's click or a repaint waits for."""

    def __init__(self, interval_ms: int = 10) -> None:
        self.interval = interval_ms / 1000
        self.lags: list[float] = []
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._fire)
        self._last = 0.0

    def start(self) -> None:
        self.lags.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> list[float]:
        self._timer.stop()
        return list(self.lags)

    def _fire(self) -> None:
        now = time.perf_counter()
        self.lags.append(max(0.0, (now - self._last - self.interval) * 1000))
        self._last = now


_app: QApplication | None = None


def make_app() -> QApplication:
    """The application, with settings in a throwaway folder (never the user's layouts)."""
    global _app
    if _app is not None:
        return _app
    from PySide6.QtCore import qInstallMessageHandler

    def quiet(_mode, _context, message: str) -> None:
        if not any(n in message for n in _NOISE):
            print(f"qt: {message}", flush=True)

    qInstallMessageHandler(quiet)
    settings_dir = Path(tempfile.mkdtemp(prefix="cityops-bench-settings-"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(settings_dir))
    register_scheme()  # the map page's cityops: scheme, before the QApplication (Qt's rule)
    _app = QApplication(["cityops-bench"])
    _app.setApplicationName("CityOpsBench")
    _app.setOrganizationName("CityOpsBench")
    from desktop.core import i18n, theme

    i18n.install(_app, i18n.DEFAULT_LANGUAGE)
    theme.apply_theme(_app, 1.0)
    return _app


def wait_until(cond: Callable[[], bool], timeout: float = 60.0, poll_ms: int = 2) -> bool:
    """Run the event loop until ``cond()`` is true (checked every ``poll_ms``) or ``timeout``
    seconds pass; return whether it came true."""
    if cond():
        return True
    loop = QEventLoop()
    deadline = time.monotonic() + timeout
    outcome: list = [False, None]
    timer = QTimer()
    timer.setInterval(poll_ms)

    def check() -> None:
        try:
            if cond():
                outcome[0] = True
                loop.quit()
            elif time.monotonic() > deadline:
                loop.quit()
        except Exception as exc:  # raised in the caller, not lost in Qt's event loop
            outcome[1] = exc
            loop.quit()

    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    if outcome[1] is not None:
        raise outcome[1]
    return outcome[0]


def pump(seconds: float) -> None:
    """Run the event loop for ``seconds``."""
    wait_until(lambda: False, timeout=seconds, poll_ms=100)


def must(cond: Callable[[], bool], what: str, timeout: float = 120.0, poll_ms: int = 2) -> None:
    """:func:`wait_until` or TimeoutError. Polling costs the GUI thread ~20 µs a check: waits
    that span a measurement of the GUI thread poll every 100 ms or so."""
    if not wait_until(cond, timeout, poll_ms):
        raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def js(view, expression: str, timeout: float = 30.0):
    """The JSON value of a JavaScript expression on a :class:`~desktop.map.view.MapView`."""
    box: list = []
    view.eval_json(expression, box.append)
    must(lambda: bool(box), f"the page to answer {expression[:60]!r}", timeout)
    return box[0]


def wait_js(view, expression: str, what: str, timeout: float = 60.0) -> None:
    """Ask the page ``expression`` until it is truthy."""
    deadline = time.monotonic() + timeout
    while not js(view, expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        pump(0.02)


# -- memory ------------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command may hold spaces and brackets: the ppid is the 2nd field after the last ")"
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(entry.name))
    return kids


def process_tree(pid: int | None = None) -> list[int]:
    """``pid`` (default: this process) and every process below it (QtWebEngineProcess …)."""
    root = pid or os.getpid()
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


def memory_mb(pids: list[int] | None = None) -> dict:
    """Resident memory of the processes: ``rss`` (counting shared pages in each process) and
    ``pss`` (shared pages divided among the processes sharing them: the honest total of a
    Chromium process family), in MB; ``app_rss``/``app_pss`` for the first process alone."""
    pids = pids or process_tree()
    total_rss = total_pss = 0.0
    first = {}
    for i, pid in enumerate(pids):
        rss = pss = 0.0
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) / 1024
        except OSError:
            continue
        total_rss += rss
        total_pss += pss
        if i == 0:
            first = {"app_rss": round(rss, 1), "app_pss": round(pss, 1)}
    return {"rss": round(total_rss, 1), "pss": round(total_pss, 1), "processes": len(pids), **first}


def self_rss_mb() -> float:
    """This process's resident memory now (MB), from /proc/self/statm."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def write_result(path: str, figures: list, detail: dict) -> None:
    Path(path).write_text(json.dumps({"figures": [f.to_dict() for f in figures],
                                      "detail": detail}, indent=1, default=str),
                          encoding="utf-8")


def say(*parts) -> None:
    print(*parts, flush=True)


#: Times ``cityops.applyBatch`` and every canvas redraw on the page (the redraw runs in the
#: next animation frame, outside applyBatch). Works on any version of the page: it wraps
#: Leaflet's own ``L.Canvas.prototype._redraw``.
JS_TIMING = """(function () {
  if (window.__bench) { return true; }
  var log = window.__bench = [];
  var redraw = L.Canvas.prototype._redraw;
  L.Canvas.prototype._redraw = function () {
    var t = performance.now();
    var out = redraw.apply(this, arguments);
    log.push(['draw', t, performance.now() - t]);
    return out;
  };
  var apply = window.cityops.applyBatch;
  window.cityops.applyBatch = function (batch) {
    var t = performance.now();
    var out = apply.apply(this, arguments);
    log.push(['apply', t, performance.now() - t]);
    return out;
  };
  return true;
})()"""


def bench_context(url: str):
    """The scratch database opened as the window opens it, signed in as the demo duty
    officer (the benchmark's databases are demo cities): ``(database, ctx)``."""
    from db.auth.accounts import demo_account
    from desktop.app.startup import make_context, open_and_prepare

    database, city_id = open_and_prepare(url)
    account = demo_account(database)
    if account is None:
        raise RuntimeError("the benchmark needs a demo database (its scratch city is one)")
    ctx = make_context(database, city_id, account, demo=True)
    ctx.settings_scope = "bench"
    return database, ctx


def map_idle(view) -> bool:
    """The map view has nothing queued, encoding or unsent (a view without the attribute,
    from before it had an encoder, sends at once: idle)."""
    return getattr(view, "idle", True)
