"""The map page's own URL scheme, ``cityops://map/``: the page and its vendored assets, nothing else.

Why not ``file:``: a page loaded from ``file:`` is a *local* page, and a script on it (a hostile
case text that slipped past escaping one day, a compromised vendored file) may read any file
the workstation's user can read, ``file:///etc/passwd`` or the database key, and hand it to
whatever the page may reach. Served from a scheme of its own the page is an ordinary origin:

* the scheme is registered *without* ``LocalScheme`` / ``LocalAccessAllowed``, so Chromium
  refuses every ``file:`` and ``qrc:`` load from it before any request is made;
* :class:`MapSchemeHandler` answers only the paths of :data:`ASSETS` (the vendored Leaflet,
  the page's own scripts and styles, Qt's ``qwebchannel.js``) and ``/page.html`` (the page
  built by :mod:`desktop.map.page`); any other path fails as not found, any method but GET
  is refused;
* the page's content-security policy (:func:`desktop.map.page.content_security_policy`) is
  written into the page, and sent with it as a header (without the inline scripts' hashes:
  see there why).

:func:`register_scheme` must run before the ``QApplication`` is created (Qt's rule for custom
schemes): ``desktop.app.run``, ``desktop.bench.harness`` and ``tests/desktop/conftest.py`` call
it. :class:`~desktop.map.view.MapView` refuses to start without it.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QFile, QIODevice, QObject
from PySide6.QtWebEngineCore import (
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)

log = logging.getLogger(__name__)

SCHEME = "cityops"
HOST = "map"
ORIGIN = f"{SCHEME}://{HOST}"
PAGE_PATH = "/page.html"
PAGE_URL = ORIGIN + PAGE_PATH

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
LEAFLET_DIR = RESOURCES / "vendor" / "leaflet-1.9.4"
MAP_DIR = RESOURCES / "map"
QWEBCHANNEL_QRC = ":/qtwebchannel/qwebchannel.js"  # compiled into QtWebChannel

_MIME = {".js": b"text/javascript", ".css": b"text/css", ".png": b"image/png",
         ".html": b"text/html"}


def _assets() -> dict[str, str | Path]:
    """URL path -> the file served for it (a ``Path``, or a Qt resource path ``:/...``)."""
    found: dict[str, str | Path] = {
        "/vendor/leaflet-1.9.4/leaflet.js": LEAFLET_DIR / "leaflet.js",
        "/vendor/leaflet-1.9.4/leaflet.css": LEAFLET_DIR / "leaflet.css",
        "/map/cityops_canvas.js": MAP_DIR / "cityops_canvas.js",
        "/map/cityops_map.js": MAP_DIR / "cityops_map.js",
        "/map/cityops_map.css": MAP_DIR / "cityops_map.css",
        "/qtwebchannel/qwebchannel.js": QWEBCHANNEL_QRC,
    }
    # Leaflet's stylesheet names its images relative to itself (images/layers.png, ...).
    for image in sorted((LEAFLET_DIR / "images").glob("*.png")):
        found[f"/vendor/leaflet-1.9.4/images/{image.name}"] = image
    return found


#: Every asset the page may load, by URL path: the allow-list the handler serves from.
ASSETS: dict[str, str | Path] = _assets()


def asset_url(path: str) -> str:
    """The ``cityops://map/...`` URL of an asset of :data:`ASSETS`."""
    if path not in ASSETS:
        raise KeyError(f"{path} is not one of the map's assets")
    return ORIGIN + path


#: Chromium switches for the map's web engine. Qt has no setting that turns WebRTC off; its one
#: setting (``WebRTCPublicInterfacesOnly``) only hides local addresses. This switch, which
#: QtWebEngine honours, stops WebRTC from sending any UDP that does not go through a proxy
#: (there is none): no STUN request to any host or port. TURN over TCP is not covered by any
#: switch; :data:`desktop.map.view.NO_WEBRTC_JS` removes the constructors from the page instead.
CHROMIUM_FLAGS = ("--force-webrtc-ip-handling-policy=disable_non_proxied_udp",)


def add_chromium_flags() -> None:
    """Add :data:`CHROMIUM_FLAGS` to ``QTWEBENGINE_CHROMIUM_FLAGS`` (read once, when QtWebEngine
    starts: so before any page or profile exists)."""
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    missing = [f for f in CHROMIUM_FLAGS if f not in flags]
    if missing:
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join(flags + missing)


def register_scheme() -> None:
    """Declare ``cityops:`` to QtWebEngine and add its :data:`CHROMIUM_FLAGS`; call before the
    ``QApplication`` exists (idempotent).

    No flag is set on purpose: not ``LocalScheme`` or ``LocalAccessAllowed`` (the page may not
    read local files), not ``SecureScheme`` (an intranet tile server over plain http would then
    be blocked as mixed content), not ``CorsEnabled`` / ``FetchApiAllowed`` (the page fetches
    nothing, it only loads its scripts, styles and images), and never
    ``ContentSecurityPolicyIgnored``.
    """
    add_chromium_flags()
    if scheme_registered():
        return
    scheme = QWebEngineUrlScheme(SCHEME.encode())
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setFlags(QWebEngineUrlScheme.Flag(0))
    QWebEngineUrlScheme.registerScheme(scheme)


def scheme_registered() -> bool:
    return QWebEngineUrlScheme.schemeByName(SCHEME.encode()).name() == SCHEME.encode()


def _read(source: str | Path) -> bytes | None:
    if isinstance(source, Path):
        try:
            return source.read_bytes()
        except OSError as exc:
            log.error("map: cannot read %s: %s", source, exc)
            return None
    qfile = QFile(source)
    if not qfile.open(QIODevice.OpenModeFlag.ReadOnly):
        log.error("map: cannot read the Qt resource %s", source)
        return None
    try:
        return bytes(qfile.readAll().data())
    finally:
        qfile.close()


class MapSchemeHandler(QWebEngineUrlSchemeHandler):
    """Serves ``cityops://map/``: the allow-listed assets and this view's page, nothing else.

    Parameters
    ----------
    page_path
        The page file written by :func:`desktop.map.page.build_map_page`, served as
        ``/page.html``.
    policy
        The content-security policy header sent with the page
        (:func:`desktop.map.page.content_security_policy` for the view's tile server). Assets
        get ``default-src 'none'``: they are never documents, and if one were opened as such
        it could run nothing.
    """

    def __init__(self, page_path: Path, policy: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._page_path = Path(page_path)
        self.policy = policy
        self._cache: dict[str, bytes] = {}  # assets do not change while the app runs
        self.served: list[str] = []   # URL paths answered (tests read them)
        self.refused: list[str] = []  # URLs refused

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:  # noqa: N802 - Qt API
        url = job.requestUrl()
        text = url.toString()
        if job.requestMethod().data() != b"GET":
            self._refuse(job, text, QWebEngineUrlRequestJob.Error.RequestDenied)
            return
        path = url.path()
        if url.host() != HOST or url.hasQuery() or url.hasFragment() or url.port() != -1 \
                or url.userName() or (path != PAGE_PATH and path not in ASSETS):
            self._refuse(job, text, QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        policy = "default-src 'none'"
        if path == PAGE_PATH:
            data = _read(self._page_path)  # read each time: a reload after a crash gets it fresh
            policy = self.policy
        else:
            data = self._cache.get(path)
            if data is None:
                data = _read(ASSETS[path])
                if data is not None:
                    self._cache[path] = data
        if data is None:
            self._refuse(job, text, QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        # A QMultiMap to PySide: each header name maps to a list of values.
        headers = {
            QByteArray(b"Content-Security-Policy"): [QByteArray(policy.encode())],
            QByteArray(b"X-Content-Type-Options"): [QByteArray(b"nosniff")],
            QByteArray(b"Cache-Control"): [QByteArray(b"no-store")],
        }
        job.setAdditionalResponseHeaders(headers)
        # The job owns the buffer: it lives exactly as long as Chromium reads from it.
        buffer = QBuffer(job)
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.served.append(path)
        job.reply(_MIME[Path(path).suffix], buffer)

    def _refuse(self, job: QWebEngineUrlRequestJob, text: str,
                error: QWebEngineUrlRequestJob.Error) -> None:
        self.refused.append(text)
        log.warning("map: refused %s (%s)", text, error.name)
        job.fail(error)


__all__ = ["ASSETS", "HOST", "MapSchemeHandler", "ORIGIN", "PAGE_URL", "SCHEME", "asset_url",
           "register_scheme", "scheme_registered"]
