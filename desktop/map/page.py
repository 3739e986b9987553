"""Builds the map page once: a folium map written to a file, served by :mod:`desktop.map.scheme`.

folium draws what never changes during a shift (the city outline, the towns, the grids) and
``resources/map/cityops_map.js`` draws everything live on one canvas, fed in batches over
QWebChannel. The page needs nothing from the network:

* folium's default CDN links (Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers, …) are
  replaced by the vendored Leaflet under ``resources/vendor/`` or dropped: nothing on the page
  uses them;
* there is no basemap by default, the outline on a dark background is the basemap; an intranet
  tile server can be configured (``map/tile_url`` in the workstation's settings);
* ``qwebchannel.js`` is Qt's own resource, not a download.

Every asset is named by its ``cityops://map/...`` URL, never by a ``file:`` one: the view serves
the page and the allow-listed assets from the app's own scheme (:mod:`desktop.map.scheme`), so a
script on the page can read no local file. The page carries a strict content-security policy
(:func:`content_security_policy`): no script but the app's own files and folium's inline
scripts, each allowed by its SHA-256 (computed here, when the page is made), no ``eval``, images
only from the page and the configured tile server, no connection of any other kind.

The page is written to a file and served from it: ``setHtml`` goes through a ``data:`` URL,
which Chromium caps at 2 MB, and a big page then fails without a word.

Building takes a few hundred milliseconds and touches no widget, so it may run on a worker
thread (strings are translated with ``QCoreApplication.translate``, which is thread-safe).
"""
from __future__ import annotations

import base64
import hashlib
import html as html_lib
import logging
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import folium
from branca.element import MacroElement
from jinja2 import Template
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QSettings

from db.cases.workflow import State, Urgency
from db.geo.map_data import BaseLayers
from desktop.core import labels, theme
from desktop.map.scheme import ORIGIN, SCHEME, asset_url

log = logging.getLogger(__name__)

QWEBCHANNEL_JS = asset_url("/qtwebchannel/qwebchannel.js")
TILE_URL_SETTING = "map/tile_url"
PAGE_NAME = "cityops_map_{city_id}.html"
LIVE_LAYERS = ("cases", "staff", "cameras", "sensors", "black_spots")
BASE_LAYERS = ("outline", "towns", "grids")

# Colours that are not deadline/urgency: each layer has its own hue so nothing borrows the
# meaning of red/amber/green (theme.py: red is only ever overdue/critical).
LAYER_COLORS = {
    "background": "#0a0e14",
    "land": "#121a26",
    "outline": "#4f8fd8",
    "grid": "#33445a",
    "town": "#e6edf3",
    "town_low_lying": "#388bfd",
    "staff_on_duty": "#39c5cf",
    "staff_off_duty": "#57606a",
    "camera": "#a371f7",
    "camera_glyph": "#ffffff",
    "black_spot": "#000000",
    "black_spot_ring": "#f778ba",
    "selection": "#ffffff",
    "case_ring": "#0a0e14",
}
# Sensor levels by the names their thresholds use (db.alerts.sensors.sensor_level).
SENSOR_COLORS = {
    "unknown": "#57606a", "normal": "#8b949e",
    "blue": "#388bfd", "yellow": "#e3b341", "orange": "#ff8c1a", "red": "#ff4d4f",
    "alarm": "#ff8c1a", "cutoff": "#ff4d4f",
}

_CONTEXT = "map"


_LAYER_NAMES = {
    "outline": QT_TRANSLATE_NOOP("map", "City outline"), "towns": QT_TRANSLATE_NOOP("map", "Towns"), "grids": QT_TRANSLATE_NOOP("map", "Grids"),
    "cases": QT_TRANSLATE_NOOP("map", "Cases"), "staff": QT_TRANSLATE_NOOP("map", "Staff"), "cameras": QT_TRANSLATE_NOOP("map", "Cameras"), "sensors": QT_TRANSLATE_NOOP("map", "Sensors"),
    "black_spots": QT_TRANSLATE_NOOP("map", "Black spots"),
}
_FIELDS = {
    "number": QT_TRANSLATE_NOOP("map", "No."), "class": QT_TRANSLATE_NOOP("map", "Class"), "town": QT_TRANSLATE_NOOP("map", "Town"), "state": QT_TRANSLATE_NOOP("map", "State"),
    "urgency": QT_TRANSLATE_NOOP("map", "Urgency"), "deadline": QT_TRANSLATE_NOOP("map", "Deadline"), "on_duty": QT_TRANSLATE_NOOP("map", "On duty"),
    "off_duty": QT_TRANSLATE_NOOP("map", "Off duty"), "seen": QT_TRANSLATE_NOOP("map", "Position at"), "camera": QT_TRANSLATE_NOOP("map", "Camera"),
    "analytics": QT_TRANSLATE_NOOP("map", "Video analytics"), "sensor": QT_TRANSLATE_NOOP("map", "Sensor"), "value": QT_TRANSLATE_NOOP("map", "Reading"),
    "level": QT_TRANSLATE_NOOP("map", "Level"), "black_spot": QT_TRANSLATE_NOOP("map", "Black spot"), "failed_rechecks": QT_TRANSLATE_NOOP("map", "Failed rechecks"),
    "legend": QT_TRANSLATE_NOOP("map", "Deadline"), "no_reading": QT_TRANSLATE_NOOP("map", "No reading"),
}
_SENSOR_KINDS = {"water_level": QT_TRANSLATE_NOOP("map", "Water level"), "gas": QT_TRANSLATE_NOOP("map", "Combustible gas")}
_SENSOR_LEVELS = {
    "unknown": QT_TRANSLATE_NOOP("map", "Unknown"), "normal": QT_TRANSLATE_NOOP("map", "Normal"), "blue": QT_TRANSLATE_NOOP("map", "Blue"), "yellow": QT_TRANSLATE_NOOP("map", "Yellow"),
    "orange": QT_TRANSLATE_NOOP("map", "Orange"), "red": QT_TRANSLATE_NOOP("map", "Red"), "alarm": QT_TRANSLATE_NOOP("map", "Alarm"), "cutoff": QT_TRANSLATE_NOOP("map", "Cut-off"),
}
_CAMERA_KINDS = {"fixed": QT_TRANSLATE_NOOP("map", "Fixed"), "ptz": QT_TRANSLATE_NOOP("map", "PTZ"), "dome": QT_TRANSLATE_NOOP("map", "Dome")}
_BLACK_SPOT_CATEGORIES = {
    "village": QT_TRANSLATE_NOOP("map", "Village"), "road": QT_TRANSLATE_NOOP("map", "Road"), "market": QT_TRANSLATE_NOOP("map", "Market"), "park": QT_TRANSLATE_NOOP("map", "Park"),
    "toilet": QT_TRANSLATE_NOOP("map", "Public toilet"),
}


def _t(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def map_labels() -> dict:
    """Every text the page shows, translated now (the page itself holds no language)."""
    return {
        "layers": {k: _t(v) for k, v in _LAYER_NAMES.items()},
        "fields": {k: _t(v) for k, v in _FIELDS.items()},
        "states": {s.value: labels.state_name(s.value) for s in State},
        "urgency": {u.value: labels.urgency_name(u.value) for u in Urgency},
        "deadline": {k: labels.deadline_name(k) for k in theme.DEADLINE_COLORS},
        "sensor_kinds": {k: _t(v) for k, v in _SENSOR_KINDS.items()},
        "sensor_levels": {k: _t(v) for k, v in _SENSOR_LEVELS.items()},
        "camera_kinds": {k: _t(v) for k, v in _CAMERA_KINDS.items()},
        "black_spot_categories": {k: _t(v) for k, v in _BLACK_SPOT_CATEGORIES.items()},
    }


def configured_tile_url(settings: QSettings | None = None) -> str | None:
    """The workstation's tile server (``map/tile_url``), or ``None`` for no basemap tiles.

    A Leaflet URL template such as ``http://tiles.intranet/{z}/{x}/{y}.png``. A template the
    map cannot pin to exact origins (:func:`tile_origins`) is logged and not used.
    """
    value = (settings or QSettings()).value(TILE_URL_SETTING, "")
    value = str(value or "").strip()
    if not value:
        return None
    try:
        tile_origins(value)
    except ValueError as exc:
        # The outline is a basemap of its own: a bad setting costs the tiles, not the map.
        log.error("map: the tile server setting %s is not used: %s", TILE_URL_SETTING, exc)
        return None
    return value


def tile_host(tile_url: str | None) -> str | None:
    """The host part of a tile URL template (may hold ``{s}``), for the attribution line."""
    if not tile_url:
        return None
    host = urlsplit(tile_url).hostname
    return host or None


#: Leaflet's (and folium's) default ``subdomains``: what ``{s}`` in a tile URL stands for.
TILE_SUBDOMAINS = "abc"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def tile_origins(tile_url: str | None) -> tuple[tuple[str, str, int], ...]:
    """Every ``(scheme, host, port)`` the tile layer of ``tile_url`` may load from.

    The port is always explicit (80/443 when the template names none); ``{s}`` in the host
    stands for each of :data:`TILE_SUBDOMAINS`, so ``http://{s}.tiles.intranet:8080/...``
    gives three origins. These exact origins, and no other, are what the page's
    content-security policy and the view's request interceptor let through.

    Raises ``ValueError`` for a template the map will not use: not http(s), a user name or
    password in it (the page would hand it to any script), a placeholder other than ``{s}``
    in the host, or an unreadable port.
    """
    if not tile_url:
        return ()
    parts = urlsplit(tile_url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"the tile server URL {tile_url!r} is not http or https")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the tile server URL holds a user name or password: the map page "
                         "would show it to every script; use a server that needs none")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"the tile server URL {tile_url!r} has an unreadable port") from exc
    if not host:
        raise ValueError(f"the tile server URL {tile_url!r} names no host")
    hosts = [host.replace("{s}", sub) for sub in TILE_SUBDOMAINS] if "{s}" in host else [host]
    for name in hosts:
        if not re.fullmatch(r"[a-z0-9.-]+|\[[0-9a-f:.]+\]|[0-9a-f:.]+", name):
            raise ValueError(f"the tile server URL {tile_url!r} has a host the map cannot "
                             "pin down (only {s} may stand for part of it)")
    port = port if port is not None else _DEFAULT_PORTS[scheme]
    return tuple(sorted({(scheme, name, port) for name in hosts}))


def _origin_text(origin: tuple[str, str, int]) -> str:
    scheme, host, port = origin
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


_INLINE = re.compile(r"<(script|style)(\s[^>]*)?>(.*?)</\1\s*>", re.DOTALL | re.IGNORECASE)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def inline_hashes(html: str) -> tuple[list[str], list[str]]:
    """The CSP hash sources of the page's inline ``<script>`` and ``<style>`` blocks."""
    scripts: list[str] = []
    styles: list[str] = []
    for tag, attrs, body in _INLINE.findall(html):
        if tag.lower() == "script":
            if attrs and re.search(r"\bsrc\s*=", attrs):
                continue  # an external script: allowed (or not) by its URL
            scripts.append(_sha256(body))
        else:
            styles.append(_sha256(body))
    return list(dict.fromkeys(scripts)), list(dict.fromkeys(styles))


def content_security_policy(html: str | None, tile_url: str | None) -> str:
    """The page's content-security policy: nothing but what the map needs.

    * ``default-src 'none'``: whatever is not named below is refused (fetch, XHR, WebSocket,
      EventSource, beacons, frames, workers, objects, fonts, media, manifests);
    * scripts: the app's own files (``cityops://map``) and folium's inline scripts, each by the
      SHA-256 of its text; no ``'unsafe-eval'`` (``eval``, ``new Function`` and string timers
      throw);
    * styles: the app's stylesheets and folium's inline ``<style>`` blocks by hash (Leaflet
      places its tiles and markers through the style *object*, which CSP does not govern);
    * images: the page's own (Leaflet's control icons) and the configured tile server's exact
      ``scheme://host:port`` origins (:func:`tile_origins`) with Leaflet's blank ``data:``
      tile, nothing else;
    * ``connect-src 'none'``: the page talks to the application over QWebChannel, which is no
      network connection;
    * no ``<base>``, no form submissions.

    With ``html=None``, the same policy with ``'unsafe-inline'`` in place of the hashes: the
    one the scheme handler sends as a header. Qt lower-cases the values of the headers a
    scheme handler sets, which breaks a base64 hash, so the hashes travel in the page's
    ``<meta>``; a page under both policies runs an inline script only if both allow it, so
    only the hashed scripts run, and every other directive holds even if the page file
    were replaced.
    """
    if html is None:
        scripts, styles = ["'unsafe-inline'"], ["'unsafe-inline'"]
    else:
        scripts, styles = inline_hashes(html)
    tiles = [_origin_text(o) for o in tile_origins(tile_url)]
    if tiles:
        # Leaflet blanks a tile it drops with a 1-pixel data: GIF (L.Util.emptyImageUrl); a
        # data: image is made on the page and goes nowhere.
        tiles.append("data:")
    directives = [
        "default-src 'none'",
        "script-src " + " ".join([ORIGIN, *scripts]),
        "style-src " + " ".join([ORIGIN, *styles]),
        "img-src " + " ".join([ORIGIN, *tiles]),
        "connect-src 'none'",
        "font-src 'none'", "media-src 'none'", "object-src 'none'", "frame-src 'none'",
        "child-src 'none'", "worker-src 'none'", "manifest-src 'none'",
        "base-uri 'none'", "form-action 'none'",
    ]
    return "; ".join(directives)


def page_config(base: BaseLayers, *, tile_url: str | None = None, scale: float = 1.0,
                visible: dict[str, bool] | None = None) -> dict:
    """The configuration ``cityops.init`` receives: colours, labels, sizes, visible layers."""
    shown = {name: True for name in BASE_LAYERS + LIVE_LAYERS}
    shown.update(visible or {})
    return {
        "city": base.city_name,
        "bounds": [list(base.bounds[0]), list(base.bounds[1])],
        "scale": scale,
        "tiles": bool(tile_url),
        "select_zoom": 13,
        "colors": {
            "deadline": dict(theme.DEADLINE_COLORS),
            "urgency": dict(theme.URGENCY_COLORS),
            "layers": dict(LAYER_COLORS),
            "sensors": dict(SENSOR_COLORS),
        },
        "labels": map_labels(),
        "visible": shown,
        "layer_order": list(BASE_LAYERS + LIVE_LAYERS),
    }


class _CityOpsInit(MacroElement):
    """Hands folium's map and base layers to ``cityops.init`` once they exist."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        window.cityops.init({{ this.map_name }}, {{ this.config|tojson }}, {
            outline: {{ this.outline_name }},
            towns: {{ this.towns_name }},
            grids: {{ this.grids_name }}
        });
        {% endmacro %}
    """)

    def __init__(self, map_name: str, config: dict, outline_name: str, towns_name: str,
                 grids_name: str) -> None:
        super().__init__()
        self._name = "CityOpsInit"
        self.map_name = map_name
        self.config = config
        self.outline_name = outline_name
        self.towns_name = towns_name
        self.grids_name = grids_name


def build_map(base: BaseLayers, *, tile_url: str | None = None, scale: float = 1.0,
              visible: dict[str, bool] | None = None) -> folium.Map:
    """The folium map with only local assets (see the module docstring)."""
    colors = LAYER_COLORS
    fmap = folium.Map(
        location=list(base.center), tiles=None, zoom_start=10, min_zoom=7, max_zoom=18,
        prefer_canvas=True, control_scale=False, zoom_snap=0.25, zoom_delta=0.5,
        attribution_control=bool(tile_url), font_size="14px",
    )
    # Only Leaflet stays, from the vendored copy; everything else folium links is unused here.
    fmap.default_js = [("leaflet", asset_url("/vendor/leaflet-1.9.4/leaflet.js")),
                       ("qwebchannel", QWEBCHANNEL_JS),
                       ("cityops_canvas", asset_url("/map/cityops_canvas.js")),
                       ("cityops_map", asset_url("/map/cityops_map.js"))]
    fmap.default_css = [("leaflet_css", asset_url("/vendor/leaflet-1.9.4/leaflet.css")),
                        ("cityops_map_css", asset_url("/map/cityops_map.css"))]
    if tile_url:
        tile_origins(tile_url)  # refuses a template it cannot pin to exact origins
        folium.TileLayer(tiles=tile_url, attr=tile_host(tile_url) or "tiles", name="tiles",
                         max_zoom=18, control=False).add_to(fmap)

    outline = folium.GeoJson(
        base.outline, name="outline", control=False,
        style_function=lambda _f: {"color": colors["outline"], "weight": 2.5, "opacity": 0.95,
                                   "fillColor": colors["land"],
                                   "fillOpacity": 0.15 if tile_url else 0.85,
                                   "interactive": False})
    outline.add_to(fmap)

    grids = folium.GeoJson(
        base.grids, name="grids", control=False,
        style_function=lambda _f: {"color": colors["grid"], "weight": 0.8, "opacity": 0.9,
                                   "fill": False, "interactive": False})
    grids.add_to(fmap)

    towns = folium.GeoJson(
        {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": t.id, "geometry": {"type": "Point", "coordinates": [t.lon, t.lat]},
             "properties": {"id": t.id, "name": t.name, "kind": t.kind, "low_lying": t.low_lying}}
            for t in base.towns if t.lat is not None and t.lon is not None]},
        name="towns", control=False,
        marker=folium.CircleMarker(radius=3.5 * scale, weight=1.5, fill=True, fill_opacity=1.0),
        style_function=lambda f: {
            "color": colors["town_low_lying"] if f["properties"]["low_lying"] else colors["background"],
            "fillColor": colors["town"], "interactive": False})
    towns.add_to(fmap)

    # No folium fit_bounds: it animates the first zoom, and Leaflet drops a setView asked for
    # during that animation. cityops.init fits the city without animation instead.
    config = page_config(base, tile_url=tile_url, scale=scale, visible=visible)
    fmap.add_child(_CityOpsInit(fmap.get_name(), config, outline.get_name(), towns.get_name(),
                                grids.get_name()))
    return fmap


def render_map_html(base: BaseLayers, **kwargs) -> str:
    return render_page(build_map(base, **kwargs), kwargs.get("tile_url"))


def render_page(fmap: folium.Map, tile_url: str | None = None) -> str:
    """The page's HTML, checked to load nothing but its own assets and tiles, with its
    content-security policy written in (a ``<meta>`` as the first thing in ``<head>``)."""
    html = fmap.get_root().render()
    # folium's template also links CSS/JS through the figure header for each element; make sure
    # nothing it adds on its own (a future version) reaches the network unnoticed.
    _check_local(html, tile_url)
    policy = content_security_policy(html, tile_url)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{html_lib.escape(policy)}">'
    html, count = re.subn(r"<head(\s[^>]*)?>", lambda m: m.group(0) + "\n    " + meta, html,
                          count=1, flags=re.IGNORECASE)
    if count != 1:
        raise RuntimeError("the map page has no <head> to hold its security policy")
    return html


def _check_local(html: str, tile_url: str | None) -> None:
    for url in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html):
        if not url.startswith(ORIGIN + "/"):
            raise RuntimeError(f"the map page would load {url}: only the app's own "
                               f"{SCHEME}: assets are allowed")
    # Tile layers are the other way a Leaflet page reaches out. Data (names, descriptions) may
    # hold any text, an address included: it is never loaded, so it is not checked here (the
    # policy and the view's request interceptor block anything else anyway).
    for url in re.findall(r"""L\.tileLayer\(\s*["']([^"']+)""", html):
        if url != tile_url:
            raise RuntimeError(f"the map page would load tiles from {url}")


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("cityops")) / "map"


def build_map_page(base: BaseLayers, out_dir: Path | None = None, *, tile_url: str | None = None,
                   scale: float = 1.0, visible: dict[str, bool] | None = None) -> Path:
    """Render the page and write it (atomically) to ``out_dir``; return the file's path.

    Parameters
    ----------
    base
        ``db.geo.map_data.base_layers(session, city_id)``.
    out_dir
        Where to write; by default ``<user cache dir>/cityops/map``. Tests pass ``tmp_path``.
    tile_url
        Leaflet URL template of an intranet tile server, or ``None`` (no basemap tiles, no
        network). See :func:`configured_tile_url`.
    scale
        Marker and label size factor (2 on a 4K wall screen without Qt high-DPI scaling).
    visible
        Layers to start hidden, e.g. ``{"staff": False}``; every layer starts shown otherwise.
    """
    html = render_map_html(base, tile_url=tile_url, scale=scale, visible=visible)
    out_dir = Path(out_dir) if out_dir is not None else default_cache_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / PAGE_NAME.format(city_id=base.city_id)
    # Another workstation process may be loading the previous page: replace, never truncate.
    fd, tmp = tempfile.mkstemp(prefix=".map-", suffix=".html", dir=out_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


__all__ = [
    "LIVE_LAYERS", "TILE_URL_SETTING", "build_map", "build_map_page", "configured_tile_url",
    "content_security_policy", "inline_hashes", "map_labels", "page_config", "render_map_html",
    "render_page", "tile_host", "tile_origins",
]
