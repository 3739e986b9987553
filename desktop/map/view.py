"""The live map widget: the page built by :mod:`desktop.map.page`, fed in batches.

The page is loaded once, by URL. After that Python never rebuilds it: every change is merged
into one pending batch and sent as ONE ``runJavaScript`` call on the next turn of the event
loop (after Anki's ``webview.py``: calls made before the page is ready are queued, callbacks
after the widget is gone are dropped, console errors are logged).

The GUI thread only queues and sends: merging and JSON encoding (:func:`encode_batches`, tens of
milliseconds for 20,000 markers) run on the view's own encoder thread, upserts travel as columns
and rows (keys once, coordinates to 6 decimals), and a batch bigger than
:data:`MAX_SCRIPT_CHARS` goes in pieces, one per event-loop turn, so no single call holds the
GUI thread for long.

The page is locked down (issue 12): it is served from the app's own ``cityops://map/``
scheme (:mod:`desktop.map.scheme`), never ``file:``, with a strict content-security policy
(:func:`desktop.map.page.content_security_policy`), on a profile of its own where

* the request interceptor (:class:`MapRequestInterceptor`) lets through the app's scheme and
  images from exactly the configured tile server's ``scheme://host:port`` origins; every
  other request (``file:``, ``qrc:``, ``data:``, another host, another port of the tile
  server's host) is blocked and logged;
* local content may not read ``file:`` URLs; nothing may open windows, read the clipboard,
  start plugins or WebGL; every permission request (camera, microphone, location, screen) is
  denied;
* WebRTC: Qt offers no switch to turn it off, only ``WebRTCPublicInterfacesOnly`` (on: no
  local addresses in ICE candidates). WebRTC's STUN/TURN traffic is not a URL request, so
  neither the policy nor the interceptor sees it. Two locks: Chromium's IP-handling switch
  (:data:`desktop.map.scheme.CHROMIUM_FLAGS`: no UDP outside a proxy, so no STUN), and the
  page loses every ``RTC*`` constructor before any script of its own runs, in its own window
  and in every frame a script makes (:data:`NO_WEBRTC_JS`), which also stops TURN over TCP.
"""
from __future__ import annotations

# Chromium's flags must be set before QtWebEngine starts: desktop.app.run.prepare_environment
# turns the sandbox off only when running as root (containers) and the GPU off only offscreen;
# the tests set both in tests/desktop/conftest.py; desktop.map.scheme.register_scheme adds the
# WebRTC switch.
import datetime as dt  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import weakref  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import shiboken6  # noqa: E402
from PySide6.QtCore import QObject, QPoint, Qt, QTimer, QUrl, Signal, Slot  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWebChannel import QWebChannel  # noqa: E402
from PySide6.QtWebEngineCore import (  # noqa: E402
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)
from PySide6.QtWebEngineWidgets import QWebEngineView  # noqa: E402
from PySide6.QtWidgets import QMenu, QVBoxLayout, QWidget  # noqa: E402

from db.cases import deadline  # noqa: E402
from db.geo.map_data import CasePoint  # noqa: E402
from desktop.core.tasks import TaskRunner  # noqa: E402
from desktop.map.page import LIVE_LAYERS, content_security_policy, tile_origins  # noqa: E402
from desktop.map.scheme import HOST, PAGE_URL, SCHEME, MapSchemeHandler, scheme_registered  # noqa: E402

log = logging.getLogger(__name__)
js_log = logging.getLogger("cityops.map.js")

BRIDGE_NAME = "cityopsBridge"  # channel.objects.cityopsBridge in cityops_map.js
#: A batch bigger than this (characters of JSON) is sent in pieces, one per event-loop turn:
#: handing the page ~1 MB of script costs the GUI thread ~10 ms.
MAX_SCRIPT_CHARS = 300_000
ENCODE_CHUNK_ROWS = 1000  # rows per json.dumps call: the encoder lets go of the GIL between
COORDINATE_KEYS = frozenset({"lat", "lon"})


# ------------------------------------------------------------------------------------------
# Markers
# ------------------------------------------------------------------------------------------

def case_marker(row: CasePoint | dict, status: str) -> dict:
    """The JS upsert item for one case.

    Parameters
    ----------
    row
        A :class:`db.geo.map_data.CasePoint` (or its dict form).
    status
        ``overdue`` / ``due_soon`` / ``on_track`` / ``none``: from
        :func:`case_status` (the case's :func:`db.cases.deadline.countdown`).
    """
    d = row.to_dict() if isinstance(row, CasePoint) else dict(row)
    return {
        "id": int(d["id"]), "lat": float(d["lat"]), "lon": float(d["lon"]),
        "number": d.get("number") or "", "class_name": d.get("class_name") or "",
        "town": d.get("town") or "", "state": d.get("state") or "",
        "urgency": d.get("urgency") or "normal", "status": status,
        "title": d.get("title") or "", "summary": d.get("summary") or "",
        "deadline_at": d.get("deadline_at"),
    }


def case_status(calendar, now: dt.datetime, row: CasePoint) -> str:
    """The deadline status of a map point, by the one rule of :func:`db.cases.deadline.countdown`
    (the queue and the case detail ask the same): only a running clock has one, so parked
    cases and cases reported handled (awaiting check/closing) show as not counting."""
    return deadline.countdown(calendar, now, row.state, row.deadline, row.limit_amount,
                              row.limit_unit).status


def point_marker(point: Any) -> dict:
    """The JS upsert item for a staff / camera / sensor / black-spot point (its fields as-is)."""
    if isinstance(point, dict):
        return dict(point)
    fields = getattr(point, "__dict__", None)
    if fields is not None:  # a flat dataclass: a shallow copy, not asdict's deep one (4,000 a tick)
        return dict(fields)
    return point.to_dict()


# ------------------------------------------------------------------------------------------
# Web engine plumbing
# ------------------------------------------------------------------------------------------

class MapRequestInterceptor(QWebEngineUrlRequestInterceptor):
    """Lets the page load its own assets and the configured tile server's images; blocks the rest.

    Allowed: ``cityops://map/...`` (the scheme handler then serves only its allow-list), and an
    *image* from one of :func:`desktop.map.page.tile_origins` (the tile server's exact scheme,
    host **and** port). Anything else, whatever its scheme (``file:``, ``qrc:``, ``data:``,
    another host, another port of the tile server's host, a fetch to the tile server), is
    blocked and logged. ``requests_seen`` and ``blocked_requests`` are lists of URL strings
    (tests read them).
    """

    def __init__(self, tile_url: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.requests_seen: list[str] = []
        self.blocked_requests: list[str] = []
        self._tiles = frozenset(tile_origins(tile_url))

    def allows(self, url: QUrl, resource_type: QWebEngineUrlRequestInfo.ResourceType) -> bool:
        scheme = url.scheme().lower()
        if scheme == SCHEME:
            return url.host().lower() == HOST
        if scheme in ("http", "https") and self._tiles:
            origin = (scheme, url.host().lower(), url.port(443 if scheme == "https" else 80))
            return (origin in self._tiles and not url.userName()
                    and resource_type == QWebEngineUrlRequestInfo.ResourceType.ResourceTypeImage)
        return False

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:  # noqa: N802 - Qt API
        url = info.requestUrl()
        text = url.toString()
        self.requests_seen.append(text)
        if self.allows(url, info.resourceType()):
            return
        self.blocked_requests.append(text)
        info.block(True)
        log.warning("map: blocked a request to %s (%s)", text, info.resourceType().name)


#: Runs before any script of the page: WebRTC's constructors are gone, so no script on the page
#: can open a peer connection (STUN/TURN traffic to any host and port is no URL request: neither
#: the content-security policy nor the interceptor would see it).
#:
#: A frame has globals of its own, and Qt's document-creation scripts do not run in a frame's
#: first, empty document (``about:blank``, which the policy's ``frame-src 'none'`` does not cover
#: either): a script could take the constructor from there. So every way a page puts nodes into
#: a document (appendChild & co., innerHTML, insertAdjacentHTML, document.write, Range, execCommand,
#: ...) is wrapped to sweep the window's frames, recursively, as soon as the native call returns,
#: and so are the getters that hand a frame's window or document out; a frame's own window gets
#: the same treatment when it is locked. A ``load`` listener catches frames that navigate.
NO_WEBRTC_JS = r"""(function () {
  'use strict';
  var top = window;
  var locked = new WeakSet();
  var define = Object.defineProperty, describe = Object.getOwnPropertyDescriptor;
  var METHODS = [
    ['Node', ['appendChild', 'insertBefore', 'replaceChild']],
    ['Element', ['append', 'prepend', 'before', 'after', 'replaceWith', 'replaceChildren',
                 'insertAdjacentElement', 'insertAdjacentHTML', 'setHTMLUnsafe', 'moveBefore']],
    ['CharacterData', ['before', 'after', 'replaceWith']],
    ['DocumentType', ['before', 'after', 'replaceWith']],
    ['Document', ['append', 'prepend', 'replaceChildren', 'write', 'writeln', 'execCommand']],
    ['DocumentFragment', ['append', 'prepend', 'replaceChildren']],
    ['ShadowRoot', ['setHTMLUnsafe']],
    ['Range', ['insertNode', 'surroundContents']]
  ];
  var SETTERS = [['Element', ['innerHTML', 'outerHTML']], ['ShadowRoot', ['innerHTML']],
                 ['Document', ['body']]];
  var GETTERS = [['HTMLIFrameElement', ['contentWindow', 'contentDocument']],
                 ['HTMLFrameElement', ['contentWindow', 'contentDocument']],
                 ['HTMLObjectElement', ['contentWindow', 'contentDocument']]];

  function strip(win) {
    Object.getOwnPropertyNames(win).forEach(function (name) {
      if (/^(webkit|moz)?RTC/.test(name)) {
        try {
          define(win, name, {value: undefined, writable: false, configurable: false,
                             enumerable: false});
        } catch (e) { /* already locked */ }
      }
    });
  }
  function sweep(win) {
    var count = 0;
    try { count = win.length; } catch (e) { return; }
    for (var i = 0; i < count; i++) {
      var child = null;
      try { child = win[i]; } catch (e) { child = null; }
      if (child) { lock(child); }
    }
  }
  function sweepAll() { sweep(top); }
  function wrap(win) {
    METHODS.forEach(function (entry) {
      var proto = win[entry[0]] && win[entry[0]].prototype;
      if (!proto) { return; }
      entry[1].forEach(function (name) {
        var d = describe(proto, name);
        if (!d || typeof d.value !== 'function') { return; }
        var native = d.value;
        d.value = function () {
          try { return native.apply(this, arguments); } finally { sweepAll(); }
        };
        try { define(proto, name, d); } catch (e) { /* keep going */ }
      });
    });
    SETTERS.forEach(function (entry) {
      var proto = win[entry[0]] && win[entry[0]].prototype;
      if (!proto) { return; }
      entry[1].forEach(function (name) {
        var d = describe(proto, name);
        if (!d || !d.set) { return; }
        var native = d.set;
        d.set = function (value) {
          try { native.call(this, value); } finally { sweepAll(); }
        };
        try { define(proto, name, d); } catch (e) { /* keep going */ }
      });
    });
    GETTERS.forEach(function (entry) {
      var proto = win[entry[0]] && win[entry[0]].prototype;
      if (!proto) { return; }
      entry[1].forEach(function (name) {
        var d = describe(proto, name);
        if (!d || !d.get) { return; }
        var native = d.get;
        d.get = function () { sweepAll(); return native.call(this); };
        try { define(proto, name, d); } catch (e) { /* keep going */ }
      });
    });
    win.addEventListener('load', sweepAll, true);  // a frame that navigated: a new window
  }
  function lock(win) {
    try {
      if (locked.has(win)) { sweep(win); return; }
      locked.add(win);
      strip(win);
      wrap(win);
    } catch (e) {
      return;  // another origin's window: nothing of it is reachable from here
    }
    sweep(win);
  }
  lock(window);
})();"""


def _no_webrtc_script() -> QWebEngineScript:
    script = QWebEngineScript()
    script.setName("cityops-no-webrtc")
    script.setSourceCode(NO_WEBRTC_JS)
    script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
    script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
    script.setRunsOnSubFrames(True)
    return script


# What the page may do: its own scripts and canvases, nothing that reaches outside the page.
_SETTINGS_OFF = (
    "LocalContentCanAccessFileUrls", "LocalContentCanAccessRemoteUrls", "ErrorPageEnabled",
    "FocusOnNavigationEnabled", "JavascriptCanOpenWindows", "JavascriptCanAccessClipboard",
    "JavascriptCanPaste", "LocalStorageEnabled", "PluginsEnabled", "PdfViewerEnabled",
    "WebGLEnabled", "ScreenCaptureEnabled", "AllowRunningInsecureContent",
    "AllowGeolocationOnInsecureOrigins", "NavigateOnDropEnabled", "DnsPrefetchEnabled",
    "HyperlinkAuditingEnabled", "AllowWindowActivationFromJavaScript", "FullScreenSupportEnabled",
)
_SETTINGS_ON = ("WebRTCPublicInterfacesOnly", "JavascriptEnabled")


def lock_down(settings: QWebEngineSettings) -> None:
    """Apply the map page's settings (see the module docstring)."""
    attr = QWebEngineSettings.WebAttribute
    for name in _SETTINGS_OFF:
        settings.setAttribute(getattr(attr, name), False)
    for name in _SETTINGS_ON:
        settings.setAttribute(getattr(attr, name), True)


class LockedProfile(QWebEngineProfile):
    """An off-the-record profile that serves ``page_path`` as ``cityops://map/page.html`` and
    lets nothing in from anywhere but the app's scheme and the tile server (see the module
    docstring). ``interceptor`` and ``scheme_handler`` are its children (Qt takes ownership
    of neither)."""

    def __init__(self, page_path: Path, tile_url: str | None, parent: QObject | None = None) -> None:
        if not scheme_registered():
            raise RuntimeError("the cityops: URL scheme is not registered: call desktop.map."
                               "scheme.register_scheme() before the QApplication exists")
        super().__init__(parent)  # no storage name: off the record
        self.setHttpCacheType(QWebEngineProfile.HttpCacheType.MemoryHttpCache)
        self.setPersistentCookiesPolicy(QWebEngineProfile.PersistentCookiesPolicy.NoPersistentCookies)
        self.setPersistentPermissionsPolicy(
            QWebEngineProfile.PersistentPermissionsPolicy.AskEveryTime)
        self.setSpellCheckEnabled(False)
        self.interceptor = MapRequestInterceptor(tile_url, self)
        self.setUrlRequestInterceptor(self.interceptor)
        self.scheme_handler = MapSchemeHandler(
            page_path, content_security_policy(None, tile_url), self)
        self.installUrlSchemeHandler(SCHEME.encode(), self.scheme_handler)
        self.scripts().insert(_no_webrtc_script())


class MapPage(QWebEnginePage):
    """Sends the page's console to Python logging: warnings and errors at their level; denies
    every permission (camera, microphone, location, notifications, screen capture)."""

    def __init__(self, profile: QWebEngineProfile, parent: QObject | None = None) -> None:
        super().__init__(profile, parent)
        self.permissionRequested.connect(self._deny_permission)

    @staticmethod
    def _deny_permission(permission) -> None:
        log.warning("map: denied the page's request for %s", permission.permissionType().name)
        permission.deny()

    def javaScriptConsoleMessage(self, level, message, line, source) -> None:  # noqa: N802
        where = f"{Path(source).name or source}:{line}" if source else f"line {line}"
        if level == QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel:
            js_log.error("%s (%s)", message, where)
        elif level == QWebEnginePage.JavaScriptConsoleMessageLevel.WarningMessageLevel:
            js_log.warning("%s (%s)", message, where)
        else:
            js_log.debug("%s (%s)", message, where)

    def acceptNavigationRequest(self, url, nav_type, is_main_frame) -> bool:  # noqa: N802
        # The page never navigates away (a link in an attribution, a dropped file) and holds
        # no frames: only the load of our own page, asked for by the view, is allowed.
        if (not is_main_frame or url.toString() != PAGE_URL
                or nav_type not in (QWebEnginePage.NavigationType.NavigationTypeTyped,
                                    QWebEnginePage.NavigationType.NavigationTypeReload)):
            log.warning("map: refused navigation to %s", url.toString())
            return False
        return super().acceptNavigationRequest(url, nav_type, is_main_frame)


class MapBridge(QObject):
    """The object the page talks to over QWebChannel (``channel.objects.cityopsBridge``).

    Signals
    -------
    sig_case_clicked(int), sig_camera_clicked(int)
        A marker was clicked on the page.
    sig_page_ready()
        The page's script is initialised and the channel is up.
    """

    sig_case_clicked = Signal(int)
    sig_camera_clicked = Signal(int)
    sig_page_ready = Signal()

    @Slot(int)
    def caseClicked(self, case_id: int) -> None:  # noqa: N802 - called from JS
        self.sig_case_clicked.emit(int(case_id))

    @Slot(int)
    def cameraClicked(self, camera_id: int) -> None:  # noqa: N802 - called from JS
        self.sig_camera_clicked.emit(int(camera_id))

    @Slot()
    def pageReady(self) -> None:  # noqa: N802 - called from JS
        self.sig_page_ready.emit()


# ------------------------------------------------------------------------------------------
# Batches
# ------------------------------------------------------------------------------------------

class _PendingLayer:
    __slots__ = ("reset", "upsert", "remove")

    def __init__(self) -> None:
        self.reset = False
        self.upsert: dict[int, dict] = {}
        self.remove: set[int] = set()

    def merge(self, part: dict) -> None:
        if part.get("reset"):
            # Everything asked for earlier is superseded: the page clears the layer first.
            self.reset = True
            self.upsert.clear()
            self.remove.clear()
        for raw in part.get("remove") or ():
            key = int(raw)
            self.upsert.pop(key, None)
            self.remove.add(key)
        for item in part.get("upsert") or ():
            key = int(item["id"])
            self.remove.discard(key)
            self.upsert[key] = item  # a later upsert of the same id replaces an earlier one

    def as_json_ready(self) -> dict:
        out: dict[str, Any] = {"upsert": list(self.upsert.values()), "remove": sorted(self.remove)}
        if self.reset:
            out["reset"] = True
        return out


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _columns(items: list[dict]) -> list[str]:
    cols = list(items[0]) if items else []
    seen = set(cols)
    for item in items:
        if len(item) != len(cols) or item.keys() != seen:
            for key in item:
                if key not in seen:
                    seen.add(key)
                    cols.append(key)
    return cols


def _row_chunks(items: list[dict], cols: list[str]) -> list[str]:
    """JSON texts of the rows (``[..],[..]``, no outer brackets), ENCODE_CHUNK_ROWS at a time."""
    rounded = [i for i, c in enumerate(cols) if c in COORDINATE_KEYS]
    out = []
    for start in range(0, len(items), ENCODE_CHUNK_ROWS):
        rows = []
        for item in items[start:start + ENCODE_CHUNK_ROWS]:
            row = [item.get(c) for c in cols]
            for i in rounded:
                if isinstance(row[i], float):
                    row[i] = round(row[i], 6)  # 0.1 m: a shorter text, nothing visible lost
            rows.append(row)
        out.append(_dumps(rows)[1:-1])
    return out


def encode_batches(batches: list[dict], max_chars: int = MAX_SCRIPT_CHARS) -> list[str]:
    """Merge ``batches`` (in order) and encode them for ``cityops.applyBatch``.

    Returns JSON texts to apply one after the other; there is more than one only when the
    batch is bigger than ``max_chars``. A layer's reset and removals come in the first text
    that holds the layer, its upserts (as ``cols`` + ``rows``) follow, possibly over several.
    Pure Python, no Qt: runs on the map view's encoder thread.
    """
    merged: dict[str, _PendingLayer] = {}
    for batch in batches:
        for name, part in batch.items():
            if part:
                merged.setdefault(name, _PendingLayer()).merge(part)
    texts: list[str] = []
    current: dict[str, dict] = {}
    size = 0

    def close() -> None:
        nonlocal size
        fields = []
        for name, part in current.items():
            inner = [f'"{k}":{_dumps(v)}' for k, v in part["head"].items()]
            if part["rows"]:
                inner.append(f'"cols":{_dumps(part["cols"])},"rows":[{",".join(part["rows"])}]')
            fields.append(f'{_dumps(name)}:{{{",".join(inner)}}}')
        texts.append("{" + ",".join(fields) + "}")
        current.clear()
        size = 0

    for name, layer in merged.items():
        head: dict[str, Any] = {}
        if layer.reset:
            head["reset"] = True
        if layer.remove:
            head["remove"] = sorted(layer.remove)
        items = list(layer.upsert.values())
        cols = _columns(items)
        entry = current[name] = {"head": head, "cols": cols, "rows": []}
        size += 40 + 8 * len(layer.remove)
        for chunk in _row_chunks(items, cols):
            if size + len(chunk) > max_chars and any(p["rows"] for p in current.values()):
                close()
                entry = current[name] = {"head": {}, "cols": cols, "rows": []}
            entry["rows"].append(chunk)
            size += len(chunk) + 1
    if current or not texts:
        close()
    return texts


class MapView(QWidget):
    """The map: a ``QWebEngineView`` showing the page at ``page_path``.

    Signals
    -------
    sig_case_clicked(int)
        The user clicked a case marker (select it in the queue, show its detail).
    sig_camera_clicked(int)
        The user clicked a camera marker.
    sig_cameras_near(float, float)
        The user asked (right-click menu) for the cameras nearest this place (lat, lon).
    sig_ready()
        The page has loaded and the channel is up; batches queued until now go next. Fires
        again if the page had to be reloaded after its renderer died: the page is empty then,
        so answer it by sending every layer again with ``reset``.
    sig_batch_applied(object)
        The page applied a batch (all its pieces); the argument is ``cityops.stats()``
        (counts per layer).
    """

    sig_case_clicked = Signal(int)
    sig_camera_clicked = Signal(int)
    sig_cameras_near = Signal(float, float)
    sig_ready = Signal()
    sig_batch_applied = Signal(object)

    def __init__(self, page_path: Path, parent: QWidget | None = None, *,
                 tile_url: str | None = None) -> None:
        super().__init__(parent)
        self._page_path = Path(page_path)
        self._ready = False
        self._queued: list[dict] = []  # batches not yet handed to the encoder
        self._encoding = False
        self._scripts: list[tuple[str, bool]] = []  # encoded pieces: (JSON, last of its batch)
        self._epoch = 0  # bumps when the page reloads: encodings for the old page are dropped
        # Calls that move the view (selectCase, showPlace): the latest of each, in the order
        # last asked, sent after the markers they may need.
        self._view_calls: dict[str, str] = {}
        self._flush_scheduled = False
        self.batches_sent = 0  # runJavaScript calls made for batches (tests check coalescing)
        self._encoder = TaskRunner("map-encode", self)

        # The view first, then the profile: children are destroyed in creation order, and a
        # profile destroyed before its page makes Qt warn and may crash.
        self.view = QWebEngineView(self)
        # A profile of our own, off the record: no disk cache shared with anything else.
        self.profile = LockedProfile(self._page_path, tile_url, self)
        self.interceptor = self.profile.interceptor
        self.scheme_handler = self.profile.scheme_handler
        self.page = MapPage(self.profile, self.view)
        lock_down(self.page.settings())
        self.page.setBackgroundColor(_qcolor("#0a0e14"))

        self.bridge = MapBridge(self)
        self.bridge.sig_case_clicked.connect(self.sig_case_clicked)
        self.bridge.sig_camera_clicked.connect(self.sig_camera_clicked)
        self.bridge.sig_page_ready.connect(self._on_page_ready)
        self.channel = QWebChannel(self.page)
        self.channel.registerObject(BRIDGE_NAME, self.bridge)
        self.page.setWebChannel(self.channel)
        self.page.loadFinished.connect(self._on_load_finished)
        self.page.renderProcessTerminated.connect(self._on_render_process_terminated)
        self.view.setPage(self.page)
        # Right-click: the application's own menu (translated), never Chromium's English
        # browser menu (Back, Reload, View page source).
        self.context_menu: QMenu | None = None  # the last one shown (tests read it)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self.show_context_menu)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.setFocusProxy(self.view)  # F6 to the map lands on the page (its keys pan and zoom)
        self.view.setUrl(QUrl(PAGE_URL))

    # -- public API ---------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self._ready

    @property
    def idle(self) -> bool:
        """Nothing queued, being encoded or waiting to be sent."""
        return not (self._queued or self._encoding or self._scripts or self._flush_scheduled)

    @property
    def blocked_requests(self) -> list[str]:
        return self.interceptor.blocked_requests

    @property
    def requests_seen(self) -> list[str]:
        return self.interceptor.requests_seen

    def apply_batch(self, batch: dict) -> None:
        """Queue changes for the page: ``{layer: {reset?, upsert: [...], remove: [ids]}}``.

        Layers: cases, staff, cameras, sensors, black_spots. Calls in the same event-loop turn
        (or before the page is ready, or while the previous batch is being encoded) are
        merged, later upserts of an id replacing earlier ones, and go to the page as one call
        (in pieces if it is very big). The batch is read later, on another thread: do not
        change it after handing it over.
        """
        for name in batch:
            if name not in LIVE_LAYERS:
                raise ValueError(f"unknown map layer {name!r}; expected one of {LIVE_LAYERS}")
        self._queued.append(batch)
        self._schedule()

    def select_case(self, case_id: int | None) -> None:
        """Highlight the case on the map and pan to it unless it is well in view
        (``None`` clears the highlight)."""
        self._view_call("selectCase", None if case_id is None else int(case_id))

    def show_place(self, lat: float, lon: float) -> None:
        """Pan (and zoom in) to a place unless it is well in view: what is selected has a
        place but no marker of its own, such as an alert."""
        self._view_call("showPlace", float(lat), float(lon))

    def _view_call(self, name: str, *args) -> None:
        self._view_calls.pop(name, None)  # asked again: goes after the others
        self._view_calls[name] = f"window.cityops.{name}({','.join(json.dumps(a) for a in args)});"
        self._schedule()

    def run_js(self, script: str, callback=None) -> None:
        """Run script on the page (tests and diagnostics); the callback is dropped if this
        widget is gone by the time the result arrives."""
        self.page.runJavaScript(script, 0, _guarded(self, callback))

    def eval_json(self, expression: str, callback) -> None:
        """Evaluate a JS expression and pass its value, through JSON, to ``callback``
        (PySide6 turns JS objects into empty strings otherwise)."""
        def decode(text):
            callback(json.loads(text) if isinstance(text, str) and text else None)

        self.run_js(f"JSON.stringify(({expression}))", decode)

    # -- right-click menu ---------------------------------------------------------------------
    def show_context_menu(self, pos: QPoint) -> None:
        """Ask the page what is under ``pos`` (view coordinates = the page's CSS pixels) and
        pop up the menu built from the answer (:meth:`build_context_menu`)."""
        if not self._ready:
            return
        at = self.view.mapToGlobal(pos)
        self.eval_json(f"cityops.hitTest({int(pos.x())}, {int(pos.y())})",
                       lambda hit: self._popup(hit, at))

    def _popup(self, hit: dict | None, at: QPoint) -> None:
        if not hit:
            return
        if self.context_menu is not None and shiboken6.isValid(self.context_menu):
            self.context_menu.deleteLater()
        self.context_menu = self.build_context_menu(hit)
        self.context_menu.popup(at)

    def build_context_menu(self, hit: dict) -> QMenu:
        """The menu for a point of the map: ``hit`` is ``cityops.hitTest``'s answer
        (``lat``, ``lon``, ``case_id`` when a case marker is under the point)."""
        lat, lon, case_id = float(hit["lat"]), float(hit["lon"]), hit.get("case_id")
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if case_id is not None:
            action = menu.addAction(self.tr("Open case"))
            action.setObjectName("open_case")
            action.triggered.connect(lambda: self.sig_case_clicked.emit(int(case_id)))
            menu.addSeparator()
        action = menu.addAction(self.tr("Play the nearest cameras"))
        action.setObjectName("cameras_near")
        action.triggered.connect(lambda: self.sig_cameras_near.emit(lat, lon))
        action = menu.addAction(self.tr("Copy coordinates"))
        action.setObjectName("copy_coordinates")
        action.triggered.connect(
            lambda: QGuiApplication.clipboard().setText(f"{lat:.5f}, {lon:.5f}"))
        return menu

    # -- internals ----------------------------------------------------------------------------
    def _schedule(self) -> None:
        if self._ready and not self._flush_scheduled:
            self._flush_scheduled = True
            QTimer.singleShot(0, self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._ready or not shiboken6.isValid(self.page):
            return  # not loaded yet, or the window closed while a batch waited for its turn
        if self._scripts:
            text, last = self._scripts.pop(0)
            self._send(text, last)
        elif not self._encoding and self._queued:
            batches, self._queued = self._queued, []
            self._encoding = True
            epoch, limit = self._epoch, MAX_SCRIPT_CHARS
            # The worker gets plain data only; the callbacks stay on this (GUI) side.
            self._encoder.run(lambda: encode_batches(batches, limit),
                              lambda texts: self._encoded(epoch, texts), self._encode_failed)
        elif not self._encoding and self._view_calls:
            self._send(None, False)
        if self._scripts or (self._queued and not self._encoding):
            self._schedule()  # the next piece (or batch) on the next turn of the event loop

    def _encoded(self, epoch: int, texts: list[str]) -> None:
        self._encoding = False
        if epoch != self._epoch:  # encoded for a page that has since been reloaded
            self._schedule()
            return
        self._scripts.extend((text, i == len(texts) - 1) for i, text in enumerate(texts))
        self._schedule()

    def _encode_failed(self, exc: BaseException) -> None:
        self._encoding = False
        log.error("map: a batch could not be encoded and was dropped: %s", exc)
        self._schedule()

    def _send(self, batch_json: str | None, last: bool) -> None:
        parts = []
        if batch_json is not None:
            parts.append(f"s=window.cityops.applyBatch({batch_json});")
            self.batches_sent += 1
        if self._view_calls and not self._scripts:
            parts.extend(self._view_calls.values())
            self._view_calls = {}
        if not parts:
            return
        # Results come back as JSON text: PySide6 does not convert JS objects reliably.
        script = ("(function(){var s=null;try{" + "".join(parts) + "}catch(e){"
                  "console.error('cityops batch failed: '+(e&&e.stack||e));}"
                  "return JSON.stringify(s);})()")
        callback = self._after_flush if last else None  # one signal per batch, not per piece
        self.page.runJavaScript(script, 0, _guarded(self, callback))

    def _after_flush(self, result) -> None:
        stats = json.loads(result) if isinstance(result, str) and result else None
        if stats:
            self.sig_batch_applied.emit(stats)

    def _on_load_finished(self, ok: bool) -> None:
        if not ok:
            log.error("map: the page %s did not load", self._page_path)

    def _on_render_process_terminated(self, status, exit_code: int) -> None:
        normal = QWebEnginePage.RenderProcessTerminationStatus.NormalTerminationStatus
        if status == normal or not shiboken6.isValid(self.page):
            return
        # A 12-hour shift outlives a renderer crash: load the page again. Its markers are gone,
        # so sig_ready fires again and the owner re-sends everything (with reset).
        log.error("map: the page's renderer stopped (%s, exit code %s); reloading", status, exit_code)
        self._ready = False
        self._queued.clear()
        self._scripts.clear()
        self._epoch += 1
        self.view.setUrl(QUrl(PAGE_URL))

    def _on_page_ready(self) -> None:
        if self._ready:
            return
        self._ready = True
        self.sig_ready.emit()
        self._schedule()


def _guarded(owner: QObject, callback):
    """Wrap a runJavaScript callback so it does nothing once ``owner`` is destroyed."""
    if callback is None:
        return lambda _result: None
    ref = weakref.ref(owner)

    def call(result):
        target = ref()
        if target is None or not shiboken6.isValid(target):
            return
        try:
            callback(result)
        except RuntimeError as exc:  # "Internal C++ object already deleted"
            log.debug("map: dropped a callback for a closed view: %s", exc)

    return call


def _qcolor(name: str):
    from PySide6.QtGui import QColor

    return QColor(name)


__all__ = ["LockedProfile", "MapBridge", "MapPage", "MapRequestInterceptor", "MapView",
           "NO_WEBRTC_JS", "case_marker", "case_status", "lock_down", "point_marker"]
