"""The video wall against real video: sample clips made by Debian's ffmpeg
(scripts/make-sample-media.sh), served live by desktop/stream_server.py on a port of this test
run, decoded by QtMultimedia's FFmpeg backend.

No test here sends a packet beyond the loopback: an unreachable camera is a local socket that
never answers (its connection queue full, so even the TCP handshake gets no reply).
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from sqlalchemy import select

from db.devices.cameras import CameraInfo
from db.models import Camera, Town
from desktop.demo.stream_server import StreamServer, find_clips, media_script
from desktop.video.tile import TileState, VideoTile
from desktop.video.wall import VideoWall
from tests.desktop.shots import shot

ROOT = Path(__file__).resolve().parents[3]
FAST = dict(retry_first=0.3, retry_max=1.2, connect_timeout=1.5, stall_timeout=2.0)


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def media_dir() -> Path:
    """The sample clips, made now if missing or older than their script (a few seconds)."""
    folder = Path(os.environ.get("CITYOPS_MEDIA_DIR") or ROOT / "var" / "media")
    if shutil.which("ffmpeg"):
        subprocess.run(["bash", str(media_script()), str(folder)], check=True, timeout=300)
    elif not find_clips(folder):
        pytest.skip("ffmpeg is not installed (scripts/bootstrap.sh installs it): no sample "
                    "clips to stream")
    assert len(find_clips(folder)) >= 2
    return folder


@pytest.fixture
def server(media_dir):
    srv = StreamServer(media_dir, port=0).start()
    yield srv
    srv.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def black_hole():
    """A local address where a camera "is" but never answers, like an unroutable host: a
    listening socket whose accept queue is already full, so the kernel drops new SYNs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except (BlockingIOError, OSError):
            pass
        fillers.append(s)
    yield f"http://127.0.0.1:{port}/cam/unreachable.ts"
    for s in fillers:
        s.close()
    listener.close()


# GStreamer's RTSP server from Debian's packages, run by Debian's own Python (which has the
# GObject bindings; the project's venv does not need them). It prints the port it serves on.
RTSP_SERVER = """
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(sys.argv[2])
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch('( filesrc location="%s" ! tsdemux ! h264parse '
                   '! rtph264pay name=pay0 pt=96 config-interval=1 )' % sys.argv[1])
factory.set_shared(True)
server.get_mount_points().add_factory("/cam", factory)
server.attach(None)
print(server.get_bound_port(), flush=True)
GLib.MainLoop().run()
"""
SYSTEM_PYTHON = "/usr/bin/python3"


class RtspCamera:
    """An RTSP camera on this machine, startable again on the same port."""

    def __init__(self, clip: Path) -> None:
        self.clip = clip
        self.port = 0
        self.process: subprocess.Popen | None = None

    def start(self) -> RtspCamera:
        self.process = subprocess.Popen(
            [SYSTEM_PYTHON, "-c", RTSP_SERVER, str(self.clip), str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = int(self.process.stdout.readline())
        return self

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def rtsp_camera(media_dir):
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import gi; gi.require_version("
                            "'GstRtspServer', '1.0'); from gi.repository import GstRtspServer"],
                           capture_output=True) if Path(SYSTEM_PYTHON).exists() else None
    if probe is None or probe.returncode:
        pytest.skip("no RTSP server here: Debian's python3-gi and gir1.2-gst-rtsp-server-1.0 "
                    "(the test set-up of scripts/bootstrap.sh installs them)")
    camera = RtspCamera(find_clips(media_dir)[0]).start()
    yield camera
    camera.stop()


class GuiClock:
    """The longest gap between 5 ms timer ticks: how long the GUI thread was unavailable."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.timeout.connect(self._tick)
        self._timer.start(5)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self._last)
        self._last = now

    def stop(self) -> None:
        self._timer.stop()


def make_tile(qtbot, **options) -> VideoTile:
    tile = VideoTile(**{**FAST, **options})
    qtbot.addWidget(tile)
    tile.resize(480, 270)
    tile.show()
    return tile


def distinct_colours(image: QImage, step: int = 16) -> int:
    return len({image.pixel(x, y) for x in range(0, image.width(), step)
                for y in range(0, image.height(), step)})


def lost_texts(tile: VideoTile) -> set[str]:
    """What a lost tile may say (in whatever language is loaded): with a short countdown."""
    template = tile.tr("Signal lost · retry in %1 s")
    return {tile.tr("Signal lost")} | {template.replace("%1", str(n)) for n in range(1, 4)}


def timed_play(tile: VideoTile, camera_id, name: str, url: str) -> float:
    start = time.perf_counter()
    tile.play_camera(camera_id, name, url)
    return time.perf_counter() - start


# -- the stream server ------------------------------------------------------------------------


def read_ts(url: str, seconds: float) -> tuple[bytes, float]:
    start = time.monotonic()
    data = bytearray()
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.headers["Content-Type"] == "video/mp2t"
        while time.monotonic() - start < seconds:
            data += response.read(188 * 20)
    return bytes(data[:len(data) // 188 * 188]), time.monotonic() - start


def ts_facts(data: bytes) -> tuple[int, list[int]]:
    """Continuity-counter breaks and video PTS values of an MPEG-TS byte string (a small
    parser of its own, independent of the server's)."""
    breaks, last, pts = 0, {}, []
    for o in range(0, len(data), 188):
        assert data[o] == 0x47
        pid = ((data[o + 1] & 0x1F) << 8) | data[o + 2]
        afc, cc = (data[o + 3] >> 4) & 3, data[o + 3] & 0x0F
        if afc & 1:
            if pid in last and (last[pid] + 1) % 16 != cc:
                breaks += 1
            last[pid] = cc
        payload = o + 4 + (1 + data[o + 4] if afc & 2 else 0)
        if data[o + 1] & 0x40 and afc & 1 and data[payload:payload + 3] == b"\0\0\1" \
                and data[payload + 3] & 0xF0 == 0xE0 and data[payload + 7] & 0x80:
            b = data[payload + 9:payload + 14]
            pts.append(((b[0] >> 1) & 7) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7
                       | b[4] >> 1)
    return breaks, pts


def test_server_loops_a_clip_as_one_unbroken_real_time_stream(media_dir):
    """Joined 1.5 s before the end of a pass, 3.5 s of stream cross the loop: timestamps keep
    rising by one frame at a time, no packet is missing, and it comes at real-time pace."""
    probe = StreamServer(media_dir)
    length = probe.clip_for("LOOP-1").seconds
    with StreamServer(media_dir, start_position=length - 1.5) as srv:
        data, elapsed = read_ts(srv.url("LOOP-1"), 3.5)
    breaks, pts = ts_facts(data)
    assert breaks == 0
    steps = {b - a for a, b in zip(pts, pts[1:])}
    assert steps == {3600}  # 25 fps in 90 kHz ticks, straight through the loop
    span = (pts[-1] - pts[0]) / 90_000
    assert span > length - (length - 1.5) + 1.0  # it did cross the end of the pass
    # Real time: what arrived is the wait plus the lead and the back-up to a keyframe (≤ 1 s),
    # not the whole file at once.
    assert elapsed - 0.5 < span < elapsed + 0.5 + 1.1


def test_server_hls_is_a_live_sliding_playlist(media_dir):
    with StreamServer(media_dir, start_position=0.0) as srv:
        def playlist() -> list[str]:
            with urllib.request.urlopen(srv.url("H-1", hls=True), timeout=5) as r:
                assert r.headers["Content-Type"] == "application/vnd.apple.mpegurl"
                return r.read().decode().splitlines()

        first = playlist()
        assert first[0] == "#EXTM3U" and "#EXT-X-ENDLIST" not in first  # live
        time.sleep(2.2)
        later = playlist()
        sequence = [int(x.split(":")[1]) for x in (first + later)
                    if x.startswith("#EXT-X-MEDIA-SEQUENCE")]
        segments = [x for x in later if x.endswith(".ts")]
        assert segments[-1] != [x for x in first if x.endswith(".ts")][-1]  # it moved on
        assert sequence[1] >= sequence[0]
        with pytest.raises(urllib.error.HTTPError):  # not happened yet
            urllib.request.urlopen(srv.url("H-1", hls=True).replace("index.m3u8", "seg-999.ts"),
                                   timeout=5)
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/nothing", timeout=5)
    # Two segments across a loop boundary: timestamps and counters carry on.
    length = StreamServer(media_dir).clip_for("H-1").seconds
    with StreamServer(media_dir, start_position=length + 2) as srv:
        lines = urllib.request.urlopen(srv.url("H-1", hls=True), timeout=5).read().decode()
        newest = int(lines.strip().splitlines()[-1][4:-3])  # seg-<n>.ts
        per_pass = round(length)  # 1 s segments
        assert newest >= per_pass
        base = srv.url("H-1", hls=True).replace("index.m3u8", "")
        joined = b"".join(urllib.request.urlopen(f"{base}seg-{n}.ts", timeout=5).read()
                          for n in (per_pass - 1, per_pass))
    breaks, pts = ts_facts(joined)
    assert breaks == 0 and {b - a for a, b in zip(pts, pts[1:])} == {3600}


def test_cameras_command_serves_until_sigterm(media_dir):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "desktop", "cameras", "--port", str(port),
                                "--media", str(media_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert "camera streams on" in process.stdout.readline()
        data, _ = read_ts(f"http://127.0.0.1:{port}/cam/DG-CAM-0001.ts", 0.5)
        assert len(data) > 188 * 100
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
    assert process.returncode == 0 and "stopped" in out


def test_demo_start_runs_the_camera_server_only_when_it_can(media_dir, tmp_path):
    from desktop.app.supervisor import camera_port_free, start_camera_server

    assert start_camera_server(free_port(), tmp_path) is None  # no clips there
    port = free_port()
    process = start_camera_server(port, media_dir)
    assert process is not None
    try:
        deadline = time.monotonic() + 10
        while camera_port_free(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        data, _ = read_ts(f"http://127.0.0.1:{port}/cam/DG-CAM-0002.ts", 0.3)
        assert data
        assert start_camera_server(port, media_dir) is None  # taken: not a second one
    finally:
        process.terminate()
        assert process.wait(10) == 0


def test_a_killed_camera_server_is_restarted_and_the_tile_plays_again(qtbot, media_dir):
    """The demo's camera server dies (SIGKILL): its supervisor starts it again (back-off with
    jitter), and a tile that lost its camera reconnects by itself to the new one."""
    from db.core.backoff import Backoff
    from desktop.app.supervisor import camera_server_supervisor

    port = free_port()
    supervisor = camera_server_supervisor(port=port, media_dir=media_dir, poll_ms=100,
                                          backoff=Backoff(0.5, 2.0, rng=random.Random(0)))
    supervisor.start()
    tile = make_tile(qtbot)
    try:
        first = supervisor.process
        tile.play_camera(5, "重启测试", f"http://127.0.0.1:{port}/cam/DG-CAM-0004.ts")
        qtbot.waitUntil(lambda: tile.state == TileState.PLAYING, timeout=15_000)
        os.kill(first.pid, signal.SIGKILL)
        qtbot.waitUntil(lambda: tile.state != TileState.PLAYING, timeout=10_000)
        qtbot.waitUntil(lambda: supervisor.process is not None
                        and supervisor.process.pid != first.pid, timeout=10_000)
        assert supervisor.restarts == 1
        before = tile.frames_decoded
        qtbot.waitUntil(lambda: tile.state == TileState.PLAYING, timeout=15_000)
        qtbot.waitUntil(lambda: tile.frames_decoded >= before + 25, timeout=10_000)
    finally:
        last = supervisor.process
        tile.stop()
        supervisor.stop()
    assert last.wait(10) == 0  # SIGTERM: a clean stop


# -- one tile ---------------------------------------------------------------------------------


def test_tile_decodes_frames_from_a_live_http_stream(qtbot, server):
    tile = make_tile(qtbot)
    took = timed_play(tile, 7, "东城街道东纵路口", server.url("DG-CAM-0001"))
    assert took < 0.05  # the stream opens in the background
    assert tile.state == TileState.CONNECTING and tile.camera_id == 7
    qtbot.waitUntil(lambda: tile.state == TileState.PLAYING, timeout=10_000)
    qtbot.waitUntil(lambda: tile.frames_decoded >= 25, timeout=10_000)
    image = tile.latest_image()
    assert image is not None and (image.width(), image.height()) == (640, 360)
    assert distinct_colours(image) > 20  # a real picture, not a blank frame
    before = tile.frames_decoded
    qtbot.wait(1000)
    assert tile.frames_decoded - before >= 15  # it keeps coming, about 25 a second
    shot = tile.grab().toImage()
    assert distinct_colours(shot) > 20  # painted by the tile itself, offscreen too
    assert tile.state_text() == tile.tr("Live")


def test_tile_plays_hls(qtbot, server):
    tile = make_tile(qtbot)
    tile.play_camera(8, "南城街道鸿福路口", server.url("DG-CAM-0002", hls=True))
    qtbot.waitUntil(lambda: tile.frames_decoded >= 25, timeout=15_000)
    assert tile.state == TileState.PLAYING
    assert distinct_colours(tile.latest_image()) > 20


def test_tile_plays_rtsp_and_the_watchdog_catches_a_frozen_camera(qtbot, rtsp_camera):
    """RTSP (RTP over UDP, as most city cameras send it). A camera that freezes (stopped, its
    connection still open) sends no error: the stall watchdog calls the signal lost. The tile
    recovers when the camera is back on its address."""
    tile = make_tile(qtbot, stall_timeout=1.5)
    tile.play_camera(6, "RTSP 摄像机", rtsp_camera.url)
    qtbot.waitUntil(lambda: tile.frames_decoded >= 25, timeout=15_000)
    image = tile.latest_image()
    assert (image.width(), image.height()) == (640, 360) and distinct_colours(image) > 20
    changes: list[str] = []
    tile.sig_state_changed.connect(changes.append)
    clock = GuiClock()
    rtsp_camera.process.send_signal(signal.SIGSTOP)  # frozen: no packet, no error, no close
    try:
        qtbot.waitUntil(lambda: tile.state == TileState.LOST, timeout=10_000)
        assert tile.last_error == tile.tr("no picture for %1 s").replace("%1", "1.5")
        # Tries against the frozen camera time out too, and none of it holds the GUI thread.
        qtbot.waitUntil(lambda: changes.count("lost") >= 2, timeout=10_000)
        assert tile.last_error == tile.tr("no answer within %1 s").replace("%1", "1.5")
        clock.stop()
        assert clock.worst < 0.3
    finally:
        rtsp_camera.process.send_signal(signal.SIGCONT)
    rtsp_camera.stop()
    before = tile.frames_decoded
    rtsp_camera.start()  # the same port
    qtbot.waitUntil(lambda: tile.frames_decoded >= before + 25, timeout=20_000)
    assert tile.state == TileState.PLAYING


def test_tile_plays_through_the_loop_of_the_clip(qtbot, media_dir):
    length = StreamServer(media_dir).clip_for("LOOP-2").seconds
    with StreamServer(media_dir, start_position=length - 1.0) as srv:
        tile = make_tile(qtbot)
        tile.play_camera(9, "loop", srv.url("LOOP-2"))
        qtbot.waitUntil(lambda: tile.state == TileState.PLAYING, timeout=10_000)
        qtbot.wait(1500)  # past the end of the pass
        crossed = tile.frames_decoded
        qtbot.wait(1500)
        assert tile.state == TileState.PLAYING
        assert tile.frames_decoded - crossed >= 25  # no stall at the loop boundary


def test_dead_address_is_signal_lost_at_once_and_retried_with_back_off(qtbot):
    tile = make_tile(qtbot, retry_first=0.2, retry_max=0.8, rng=random.Random(0))
    changes: list[tuple[float, str]] = []
    tile.sig_state_changed.connect(lambda s: changes.append((time.monotonic(), s)))
    url = f"http://127.0.0.1:{free_port()}/cam/closed.ts"  # nothing listens there
    clock = GuiClock()
    took = timed_play(tile, 1, "dead", url)
    qtbot.waitUntil(lambda: tile.state == TileState.LOST, timeout=3000)
    assert took < 0.05
    assert tile.retry_in > 0
    assert tile.state_text() in lost_texts(tile)
    qtbot.waitUntil(lambda: sum(s == "lost" for _, s in changes) >= 5, timeout=10_000)
    clock.stop()
    assert clock.worst < 0.25  # the GUI thread stayed free throughout
    # Waits between a loss and the next try (db.core.backoff, full jitter): ceilings 0.2, 0.4,
    # 0.8, then capped at 0.8, times random.Random(0)'s first draws 0.84442185, 0.75795440,
    # 0.42057158, 0.25891675: 0.16888, 0.30318, 0.33646, 0.20713 s.
    lost_at = [t for t, s in changes if s == "lost"]
    tried_at = [t for t, s in changes if s == "connecting"][1:]
    waits = [b - a for a, b in zip(lost_at, tried_at)]
    for wait, expected in zip(waits, (0.16888, 0.30318, 0.33646, 0.20713)):
        assert expected * 0.9 <= wait <= expected + 0.15, waits
    assert tile.frames_decoded == 0


def test_unanswering_host_times_out_without_blocking(qtbot, black_hole):
    tile = make_tile(qtbot, connect_timeout=1.0)
    clock = GuiClock()
    took = timed_play(tile, 2, "unreachable", black_hole)
    assert took < 0.05
    assert tile.state == TileState.CONNECTING
    started = time.monotonic()
    qtbot.waitUntil(lambda: tile.state == TileState.LOST, timeout=5000)
    assert 0.9 < time.monotonic() - started < 2.5
    qtbot.wait(300)
    clock.stop()
    assert clock.worst < 0.25
    assert "1" in tile.last_error  # "no answer within 1 s"


def test_tile_recovers_by_itself_when_the_camera_comes_back(qtbot, server):
    tile = make_tile(qtbot)
    tile.play_camera(3, "恢复测试", server.url("DG-CAM-0003"))
    qtbot.waitUntil(lambda: tile.state == TileState.PLAYING, timeout=10_000)
    server.stop()  # the camera goes away mid-stream
    qtbot.waitUntil(lambda: tile.state == TileState.LOST, timeout=5000)
    assert tile.state_text() in lost_texts(tile)
    qtbot.wait(1500)  # a few failed tries against the closed port
    assert tile.state in (TileState.LOST, TileState.CONNECTING)
    before = tile.frames_decoded
    server.start()  # same port
    qtbot.waitUntil(lambda: tile.state == TileState.PLAYING, timeout=10_000)
    qtbot.waitUntil(lambda: tile.frames_decoded >= before + 25, timeout=10_000)


def test_stop_and_the_same_camera_twice(qtbot, server):
    tile = make_tile(qtbot)
    tile.play_camera(4, "a", server.url("A"))
    qtbot.waitUntil(lambda: tile.state == TileState.PLAYING, timeout=10_000)
    connection = tile._feed
    tile.play_camera(4, "a (renamed)", server.url("A"))  # already playing: left alone
    assert tile._feed is connection and tile.camera_name == "a (renamed)"
    tile.stop()
    assert tile.state == TileState.IDLE and tile.camera_id is None
    assert tile.latest_image() is None
    tile.play_camera(5, "no address", "")
    assert tile.state == TileState.LOST and tile.retry_in == 0  # nothing to retry


# -- the wall ---------------------------------------------------------------------------------


def camera(k: int, url: str) -> CameraInfo:
    return CameraInfo(k, f"DG-CAM-{k:04d}", f"测试路口{k}", 23.0, 113.7, url, "fixed", "东城街道")


def test_nine_tile_wall_plays_eight_cameras_while_one_is_dead(qtbot, server, tmp_path):
    wall = VideoWall(tile_options=FAST)
    qtbot.addWidget(wall)
    wall.resize(1200, 720)
    wall.show()
    wall.set_layout(9)
    dead = f"http://127.0.0.1:{free_port()}/cam/dead.ts"
    cams = [camera(k, dead if k == 5 else server.url(f"DG-CAM-{k:04d}")) for k in range(1, 10)]
    clock = GuiClock()
    start = time.perf_counter()
    wall.show_cameras(cams)
    assert time.perf_counter() - start < 0.2
    tiles = wall.visible_tiles()
    assert [t.camera_id for t in tiles] == list(range(1, 10))
    qtbot.waitUntil(lambda: all(t.frames_decoded >= 10 for i, t in enumerate(tiles) if i != 4),
                    timeout=20_000)
    assert tiles[4].state in (TileState.LOST, TileState.CONNECTING)
    assert tiles[4].frames_decoded == 0
    qtbot.waitUntil(lambda: "8" in wall.summary.text(), timeout=5000)
    clock.stop()
    assert clock.worst < 0.3
    wall.grab().save(str(tmp_path / "wall9.png"))
    assert distinct_colours(wall.grab().toImage(), 24) > 30


def test_wall_keeps_cameras_in_place_and_enlarges(qtbot, server):
    wall = VideoWall(tile_options=FAST)
    qtbot.addWidget(wall)
    wall.resize(960, 600)
    wall.show()
    assert wall.layout_size == 4
    a, b, c, d, e = (camera(k, server.url(f"W{k}")) for k in range(11, 16))
    wall.show_cameras([a, b, c])
    first = wall.tiles[1]
    qtbot.waitUntil(lambda: first.state == TileState.PLAYING, timeout=10_000)
    connection = first._feed
    wall.show_cameras([e, b, d])  # b stays in its tile, on the same stream
    assert wall.tiles[1].camera_id == b.id and wall.tiles[1]._feed is connection
    assert {t.camera_id for t in wall.visible_tiles()} == {e.id, b.id, d.id, None}
    assert sum(t.state == TileState.IDLE for t in wall.visible_tiles()) == 1

    tile = wall.play_camera(a)  # a free tile, highlighted
    assert tile.camera_id == a.id and tile.highlighted
    assert sum(t.highlighted for t in wall.tiles) == 1
    assert wall.play_camera(b) is wall.tiles[1]  # already shown: just highlighted

    qtbot.mouseDClick(wall.tiles[2], Qt.MouseButton.LeftButton)
    assert wall.enlarged_index == 2
    assert [t.isVisible() for t in wall.tiles[:4]] == [False, False, True, False]
    qtbot.waitUntil(lambda: wall.tiles[2].width() > 800, timeout=2000)  # fills the wall
    qtbot.keyClick(wall.tiles[2], Qt.Key.Key_Escape)
    assert wall.enlarged_index is None
    assert all(t.isVisible() for t in wall.visible_tiles())
    wall.tiles[0].setFocus()
    qtbot.keyClick(wall.tiles[0], Qt.Key.Key_Return)
    assert wall.enlarged_index == 0
    qtbot.mouseDClick(wall.tiles[0], Qt.MouseButton.LeftButton)
    assert wall.enlarged_index is None

    qtbot.keyClick(wall.tiles[0], Qt.Key.Key_1)  # the layout keys
    assert wall.layout_size == 1 and wall.layout_buttons[1].isChecked()
    assert wall.tiles[1].state == TileState.IDLE  # dropped out of the layout: stopped
    wall.layout_buttons[9].click()
    assert wall.layout_size == 9
    assert sum(t.isVisible() for t in wall.tiles) == 9
    with pytest.raises(ValueError):
        wall.set_layout(3)


def test_show_nearest_asks_the_database_off_the_gui_thread(qtbot, sqlite_env, ctx_factory):
    env = sqlite_env
    with env.database.write() as s:
        town = s.scalar(select(Town.id).where(Town.city_id == env.city_id).limit(1))
        for k, (dlat, active) in enumerate([(0.001, True), (0.003, True), (0.002, False),
                                           (0.02, True), (0.5, True)]):
            s.add(Camera(id=500 + k, code=f"N{k}", name=f"近处{k}", lat=23.02 + dlat, lon=113.75,
                         town_id=town, stream_url="", kind="fixed", active=active))
    ctx = ctx_factory(env)
    wall = VideoWall(tile_options=FAST)
    qtbot.addWidget(wall)
    wall.show()
    wall.show_nearest(ctx, 23.02, 113.75)
    qtbot.waitUntil(lambda: wall.tiles[0].camera_id == 500, timeout=5000)
    assert [t.camera_id for t in wall.visible_tiles()] == [500, 501, 503, None]
    assert wall.tiles[0].camera_name == "近处0"
    wall.show_nearest(ctx, 10.0, 10.0)  # nowhere near a camera
    qtbot.waitUntil(lambda: all(t.state == TileState.IDLE for t in wall.tiles), timeout=5000)
    assert "12" in wall.summary.text()  # "No camera within 12 km": it looked that far
    wall.play_camera_id(ctx, 504)
    qtbot.waitUntil(lambda: wall.tiles[0].camera_id == 504, timeout=5000)
    assert wall.tiles[0].highlighted


def test_a_nine_tile_wall_fills_from_further_out_and_says_the_farthest(qtbot, sqlite_env,
                                                                        ctx_factory):
    """Issue "The desk at 3 a.m." (15): five cameras within 3 km and four between 3 and 6 km.
    A 3×3 wall used to show five tiles and four empty ones; now it widens to 6 km, fills all
    nine, and its status line says how far the farthest is (4.2 km, placed by hand)."""
    from db.geo.distance import offset

    env = sqlite_env
    kms = [0.3, 0.8, 1.2, 2.0, 2.9, 3.4, 3.9, 4.1, 4.2]
    with env.database.write() as s:
        town = s.scalar(select(Town.id).where(Town.city_id == env.city_id).limit(1))
        for k, km in enumerate(kms):  # due east: each exactly so many km away
            lat, lon = offset(23.02, 113.75, km, 90)
            s.add(Camera(id=600 + k, code=f"F{k}", name=f"远近{k}", lat=lat, lon=lon,
                         town_id=town, stream_url="", kind="fixed", active=True))
    ctx = ctx_factory(env)
    wall = VideoWall(tile_options=FAST, layout_size=9)
    qtbot.addWidget(wall)
    wall.show()
    wall.show_nearest(ctx, 23.02, 113.75)
    qtbot.waitUntil(lambda: wall.tiles[8].camera_id is not None, timeout=5000)
    assert [t.camera_id for t in wall.visible_tiles()] == list(range(600, 609))
    qtbot.waitUntil(lambda: "farthest 4.2 km" in wall.summary.text(), timeout=5000)
    wall.resize(1100, 700)
    shot(wall, "15b-nine-tiles-filled-from-further-out")
    wall.grab()  # painted: each tile's name is whole in a third of 1100 px (it read "远…")
    assert [t.drawn_name for t in wall.visible_tiles()] == [f"远近{k}" for k in range(9)]
    wall.stop_all()  # emptied: no distance left over for the next scene
    assert "farthest" not in wall.summary.text()
