"""A local camera stream server: the sample clips as live, endlessly looping camera feeds.

Plain standard library, no Qt: it runs inside the tests, beside the demo window
(``cityops cameras``) or in its own process. Each camera code maps to one of the sample clips
(``scripts/make-sample-media.sh``) by a stable hash, and is served two ways:

``/cam/<code>.ts``
    HTTP progressive MPEG-TS, paced in real time, never ending.
``/hls/<code>/index.m3u8``
    a live HLS playlist (a sliding window over the looped 1 s segments), segments under
    ``/hls/<code>/seg-<n>.ts``.

Looping without a stall: every pass over a clip gets its timestamps (PTS, DTS, PCR) shifted by
the clip's duration and its continuity counters carried on, so a player sees one continuous
stream, never the jump back in time and the broken packet sequence that plain concatenated
passes would give it. The rewrite touches only a few bytes per 188-byte packet: nine viewers
for 10 s took 0.11 s of CPU in all, where one ``ffmpeg -re -stream_loop -1 -c copy`` process
per viewer takes 0.11 s each (measured on the 2-core development machine), and no process is
started per viewer.

All clients of all cameras share one timeline that starts when the server starts (like real
cameras, two viewers of one camera see the same moment); a client joins at the keyframe at or
before the live position, which arrives at once, so a player shows a picture within a
fraction of a second.
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import re
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

log = logging.getLogger(__name__)

TS_PACKET = 188
SYNC = 0x47
PTS_WRAP = 1 << 33
PSI_PIDS = (0x0000, 0x0011)  # PAT, SDT; the PMT pid is read from the PAT
DEFAULT_PORT = 8890
HLS_WINDOW = 4  # segments in the live playlist
WRITE_TIMEOUT_S = 10.0  # a client that takes nothing for this long is dropped


def default_media_dir() -> Path:
    """``$CITYOPS_MEDIA_DIR`` or the project's ``var/media`` (where the set-up script writes)."""
    env = os.environ.get("CITYOPS_MEDIA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "var" / "media"


def media_script() -> Path:
    return Path(__file__).resolve().parents[2] / "scripts" / "make-sample-media.sh"


def find_clips(media_dir: Path | str) -> list[Path]:
    """The sample clips in ``media_dir`` (``*.ts``), in a stable order."""
    folder = Path(media_dir)
    return sorted(p for p in folder.glob("*.ts") if p.is_file() and p.stat().st_size > 0)


def clip_index(code: str, count: int) -> int:
    """A stable choice of clip for a camera code (the same on every machine and run)."""
    return zlib.crc32(code.encode("utf-8")) % count


# -- MPEG-TS --------------------------------------------------------------------------------


def _read_ts_time(b: bytes | bytearray, i: int) -> int:
    return (((b[i] >> 1) & 7) << 30) | (b[i + 1] << 22) | ((b[i + 2] >> 1) << 15) \
        | (b[i + 3] << 7) | (b[i + 4] >> 1)


def _write_ts_time(b: bytearray, i: int, value: int) -> None:
    # Keep the 4-bit prefix ('0010', '0011' or '0001') and the marker bits as they were.
    b[i] = (b[i] & 0xF1) | (((value >> 30) & 7) << 1)
    b[i + 1] = (value >> 22) & 0xFF
    b[i + 2] = (((value >> 15) & 0x7F) << 1) | 1
    b[i + 3] = (value >> 7) & 0xFF
    b[i + 4] = ((value & 0x7F) << 1) | 1


@dataclass
class _Packet:
    pid: int
    pcr_at: int = -1  # byte offset of the PCR inside the packet, or -1
    pts_at: int = -1
    dts_at: int = -1


@dataclass
class TsClip:
    """One MPEG-TS file in memory, indexed for looping.

    ``times[i]`` is when packet ``i`` is due, in seconds from the clip's start (from the PCR);
    ``duration`` is the length of one pass in 90 kHz ticks, which is also the timestamp shift
    from one pass to the next.
    """

    data: bytes
    packets: list[_Packet]
    times: list[float]
    duration: int
    keyframes: list[int]  # packet indices where a video keyframe starts
    cc_step: dict[int, int]  # per pid: continuity-counter advance over one pass
    psi_pids: tuple[int, ...]
    name: str = ""

    @property
    def seconds(self) -> float:
        return self.duration / 90_000

    @classmethod
    def parse(cls, data: bytes, name: str = "") -> TsClip:
        if not data or len(data) % TS_PACKET or data[0] != SYNC:
            raise ValueError(f"{name or 'clip'}: not a 188-byte-packet MPEG-TS file")
        n = len(data) // TS_PACKET
        packets: list[_Packet] = []
        pcrs: list[tuple[int, int]] = []  # (packet index, pcr in 27 MHz)
        keyframes: list[int] = []
        video_pts: list[int] = []
        payload_count: dict[int, int] = {}
        pmt_pids: set[int] = set()
        for k in range(n):
            o = k * TS_PACKET
            if data[o] != SYNC:
                raise ValueError(f"{name}: lost sync at packet {k}")
            pid = ((data[o + 1] & 0x1F) << 8) | data[o + 2]
            pusi = bool(data[o + 1] & 0x40)
            afc = (data[o + 3] >> 4) & 3
            pkt = _Packet(pid)
            payload = 4
            random_access = False
            if afc & 2:
                alen = data[o + 4]
                if alen:
                    flags = data[o + 5]
                    random_access = bool(flags & 0x40)
                    if flags & 0x10:
                        pkt.pcr_at = 6
                        b = o + 6
                        base = (data[b] << 25) | (data[b + 1] << 17) | (data[b + 2] << 9) \
                            | (data[b + 3] << 1) | (data[b + 4] >> 7)
                        ext = ((data[b + 4] & 1) << 8) | data[b + 5]
                        pcrs.append((k, base * 300 + ext))
                payload = 5 + alen
            if afc & 1:
                payload_count[pid] = payload_count.get(pid, 0) + 1
                if pusi and pid == 0 and payload + 12 <= TS_PACKET:  # PAT: learn the PMT pids
                    p = o + payload + 1 + data[o + payload]  # skip pointer_field
                    section_len = ((data[p + 1] & 0x0F) << 8) | data[p + 2]
                    q, end = p + 8, p + 3 + section_len - 4
                    while q + 4 <= end:
                        if (data[q] << 8) | data[q + 1]:
                            pmt_pids.add(((data[q + 2] & 0x1F) << 8) | data[q + 3])
                        q += 4
                elif pusi and data[o + payload:o + payload + 3] == b"\x00\x00\x01":
                    h = o + payload
                    flags2 = data[h + 7]
                    if flags2 & 0x80:
                        pkt.pts_at = payload + 9
                        if data[h + 3] & 0xF0 == 0xE0:  # a video stream
                            video_pts.append(_read_ts_time(data, h + 9))
                            if random_access:
                                keyframes.append(k)
                    if flags2 & 0x40:
                        pkt.dts_at = payload + 14
            packets.append(pkt)
        if not pcrs or len(video_pts) < 2:
            raise ValueError(f"{name}: no PCR or no video in the clip")
        # One pass lasts from the first frame to one frame after the last.
        ordered = sorted(video_pts)
        steps = sorted(b - a for a, b in zip(ordered, ordered[1:]) if b > a)
        frame = steps[len(steps) // 2]
        duration = ordered[-1] - ordered[0] + frame
        # Due times from the PCR: a packet is due at the last PCR before it (0 before the first).
        first_pcr = pcrs[0][1]
        times = [0.0] * n
        j, current = 0, 0.0
        for k in range(n):
            while j < len(pcrs) and pcrs[j][0] <= k:
                current = (pcrs[j][1] - first_pcr) / 27_000_000
                j += 1
            times[k] = current
        if not keyframes:
            keyframes = [0]
        psi = tuple(sorted(set(PSI_PIDS) | pmt_pids))
        return cls(data=data, packets=packets, times=times, duration=duration,
                   keyframes=keyframes, cc_step={p: c % 16 for p, c in payload_count.items()},
                   psi_pids=psi, name=name)

    @classmethod
    def load(cls, path: Path | str) -> TsClip:
        path = Path(path)
        return cls.parse(path.read_bytes(), path.stem)

    def render(self, loop: int, start: int, end: int, *, cc_step: dict[int, int] | None = None,
               duration: int | None = None) -> bytes:
        """Packets ``start:end`` of pass number ``loop``: timestamps shifted by ``loop``
        durations and continuity counters carried on from the passes before (an HLS segment
        passes its whole rendition's ``cc_step`` and ``duration``)."""
        out = bytearray(self.data[start * TS_PACKET:end * TS_PACKET])
        steps = self.cc_step if cc_step is None else cc_step
        shift = (loop * (self.duration if duration is None else duration)) % PTS_WRAP
        for k in range(start, end):
            pkt = self.packets[k]
            o = (k - start) * TS_PACKET
            step = steps.get(pkt.pid, 0)
            if step and loop:
                out[o + 3] = (out[o + 3] & 0xF0) | (((out[o + 3] & 0x0F) + loop * step) & 0x0F)
            if not shift:
                continue
            if pkt.pcr_at >= 0:
                b = o + pkt.pcr_at
                base = (out[b] << 25) | (out[b + 1] << 17) | (out[b + 2] << 9) \
                    | (out[b + 3] << 1) | (out[b + 4] >> 7)
                base = (base + shift) % PTS_WRAP
                out[b] = (base >> 25) & 0xFF
                out[b + 1] = (base >> 17) & 0xFF
                out[b + 2] = (base >> 9) & 0xFF
                out[b + 3] = (base >> 1) & 0xFF
                out[b + 4] = ((base & 1) << 7) | (out[b + 4] & 0x7F)
            for at in (pkt.pts_at, pkt.dts_at):
                if at >= 0:
                    _write_ts_time(out, o + at, (_read_ts_time(out, o + at) + shift) % PTS_WRAP)
        return bytes(out)

    def headers_before(self, loop: int, index: int) -> bytes:
        """The latest PAT/PMT/SDT packets before ``index``, so a stream joined mid-clip starts
        with its tables; their counters are the ones the clip had there, so the stream's next
        table packet follows on."""
        latest: dict[int, int] = {}
        for k in range(index - 1, -1, -1):
            pid = self.packets[k].pid
            if pid in self.psi_pids and pid not in latest:
                latest[pid] = k
                if len(latest) == len(self.psi_pids):
                    break
        return b"".join(self.render(loop, k, k + 1) for k in sorted(latest.values()))


@dataclass
class HlsClip:
    """An HLS rendition (``index.m3u8`` + segments): served as a live, looping playlist."""

    segments: list[TsClip]
    durations: list[float]  # seconds, from the playlist
    cc_step: dict[int, int] = field(default_factory=dict)
    duration: int = 0  # one pass in 90 kHz ticks

    @classmethod
    def load(cls, playlist: Path) -> HlsClip:
        durations, files = [], []
        pending = None
        for line in playlist.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line.startswith("#EXTINF:"):
                pending = float(line[8:].split(",")[0])
            elif line and not line.startswith("#") and pending is not None:
                files.append(playlist.parent / line)
                durations.append(pending)
                pending = None
        if not files:
            raise ValueError(f"{playlist}: no segments")
        segments = [TsClip.parse(f.read_bytes(), f.name) for f in files]
        total: dict[int, int] = {}
        for seg in segments:  # the counters run on from one segment to the next
            for k, pkt in enumerate(seg.packets):
                if seg.data[k * TS_PACKET + 3] & 0x10:
                    total[pkt.pid] = total.get(pkt.pid, 0) + 1
        duration = round(sum(durations) * 90_000)
        return cls(segments=segments, durations=durations,
                   cc_step={p: c % 16 for p, c in total.items()}, duration=duration)

    @property
    def seconds(self) -> float:
        return sum(self.durations)

    def segment(self, number: int) -> bytes:
        """Segment ``number`` of the endless stream (pass ``number // len``)."""
        loop, local = divmod(number, len(self.segments))
        seg = self.segments[local]
        return seg.render(loop, 0, len(seg.packets), cc_step=self.cc_step, duration=self.duration)

    def start_of(self, number: int) -> float:
        loop, local = divmod(number, len(self.segments))
        return loop * self.seconds + sum(self.durations[:local])


# -- the server -----------------------------------------------------------------------------

_CAM = re.compile(r"^/cam/([A-Za-z0-9_.\-]{1,64})\.ts$")
_HLS_INDEX = re.compile(r"^/hls/([A-Za-z0-9_.\-]{1,64})/index\.m3u8$")
_HLS_SEGMENT = re.compile(r"^/hls/([A-Za-z0-9_.\-]{1,64})/seg-(\d{1,12})\.ts$")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # restart on the same port while old connections linger
    request_queue_size = 64

    def __init__(self, address, handler, owner: StreamServer) -> None:
        self.owner = owner
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection; a live stream ends with it
    server_version = "CityOpsCameras/1"

    def log_message(self, format, *args) -> None:  # noqa: A002 - the stdlib's name
        log.debug("%s " + format, self.client_address[0], *args)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def _dispatch(self, head: bool) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        try:
            if m := _CAM.match(path):
                self._live_ts(owner, m.group(1), head)
            elif m := _HLS_INDEX.match(path):
                self._send(owner.hls_playlist(m.group(1)), "application/vnd.apple.mpegurl", head)
            elif m := _HLS_SEGMENT.match(path):
                body = owner.hls_segment(m.group(1), int(m.group(2)))
                if body is None:
                    self.send_error(HTTPStatus.NOT_FOUND, "segment not available")
                else:
                    self._send(body, "video/mp2t", head)
            elif path == "/":
                text = "CityOps camera streams: /cam/<code>.ts, /hls/<code>/index.m3u8\n"
                self._send(text.encode(), "text/plain; charset=utf-8", head)
            else:
                self.send_error(HTTPStatus.NOT_FOUND)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the viewer went away: normal for a live stream
        except LookupError as exc:
            self.send_error(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))

    def _send(self, body: bytes, content_type: str, head: bool) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _live_ts(self, owner: StreamServer, code: str, head: bool) -> None:
        clip = owner.clip_for(code)  # LookupError when there are no clips
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "video/mp2t")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if head:
            return
        self.connection.settimeout(WRITE_TIMEOUT_S)
        owner._register(self.connection)
        try:
            owner._pace(clip, self.wfile)
        finally:
            owner._unregister(self.connection)


class StreamServer:
    """The camera stream server on ``host:port`` (``port=0``: a free port, kept across a
    restart so a test can stop and start "the camera" at the same address).

    Parameters
    ----------
    media_dir
        Folder with the clips (``*.ts``) and ``hls/<clip>/index.m3u8``; default
        :func:`default_media_dir`.
    lead
        Seconds of video sent ahead of real time, so a player's buffer never runs dry.
    start_position
        Where the shared timeline starts, in seconds into the clips (tests start near the end
        of a pass to see the loop).
    """

    def __init__(self, media_dir: Path | str | None = None, host: str = "127.0.0.1",
                 port: int = 0, *, lead: float = 0.5, start_position: float = 0.0) -> None:
        self.media_dir = Path(media_dir) if media_dir is not None else default_media_dir()
        self.host = host
        self._port = port
        self.lead = lead
        self.start_position = start_position
        self._clips: list[TsClip] | None = None
        self._hls: dict[str, HlsClip] = {}
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._connections: set[socket.socket] = set()
        self._epoch = 0.0
        self.clients_served = 0

    # -- life cycle --
    @property
    def port(self) -> int:
        return self._port

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def url(self, code: str, *, hls: bool = False) -> str:
        if hls:
            return f"http://{self.host}:{self._port}/hls/{code}/index.m3u8"
        return f"http://{self.host}:{self._port}/cam/{code}.ts"

    def start(self) -> StreamServer:
        """Load the clips (once) and serve on a background thread; returns self."""
        if self._httpd is not None:
            return self
        self._load()
        self._stop.clear()
        self._httpd = _Server((self.host, self._port), _Handler, self)
        self._port = self._httpd.server_address[1]
        self._epoch = time.monotonic() - self.start_position
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={
            "poll_interval": 0.1}, name=f"camera-server-{self._port}", daemon=True)
        self._thread.start()
        log.info("camera streams on http://%s:%d (%d clips from %s)", self.host, self._port,
                 len(self._clips or ()), self.media_dir)
        return self

    def stop(self) -> None:
        """Stop listening and cut every open stream (a viewer sees the camera go away)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stop.set()
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def serve_forever(self, stop: threading.Event) -> None:
        """Start, block until ``stop`` is set, stop (for the CLI)."""
        self.start()
        try:
            while not stop.wait(0.5):
                pass
        finally:
            self.stop()

    def __enter__(self) -> StreamServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- content --
    def _load(self) -> None:
        if self._clips is not None:
            return
        clips = []
        for path in find_clips(self.media_dir):
            try:
                clips.append(TsClip.load(path))
            except (OSError, ValueError) as exc:
                log.warning("skipping clip %s: %s", path, exc)
        self._clips = clips
        if not clips:
            log.warning("no sample clips in %s: run scripts/make-sample-media.sh", self.media_dir)

    @property
    def clips(self) -> list[TsClip]:
        self._load()
        return list(self._clips or ())

    def clip_for(self, code: str) -> TsClip:
        clips = self.clips
        if not clips:
            raise LookupError(f"no sample clips in {self.media_dir}")
        return clips[clip_index(code, len(clips))]

    def _hls_for(self, code: str) -> HlsClip:
        clip = self.clip_for(code)
        with self._lock:
            hls = self._hls.get(clip.name)
        if hls is None:
            playlist = self.media_dir / "hls" / clip.name / "index.m3u8"
            if not playlist.exists():
                raise LookupError(f"no HLS rendition of {clip.name}")
            hls = HlsClip.load(playlist)
            with self._lock:
                self._hls[clip.name] = hls
        return hls

    def _live_position(self) -> float:
        return time.monotonic() - self._epoch

    def hls_playlist(self, code: str) -> bytes:
        """The live window: the last complete segments of the looping timeline."""
        hls = self._hls_for(code)
        n = len(hls.segments)
        loop, within = divmod(self._live_position(), hls.seconds)
        # The newest segment is the one under way (the clips are recorded: it exists whole).
        local = sum(1 for k in range(n) if hls.start_of(k) <= within) - 1
        newest = int(loop) * n + max(local, 0)
        first = max(0, newest - HLS_WINDOW + 1)
        target = math.ceil(max(hls.durations))
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{target}",
                 f"#EXT-X-MEDIA-SEQUENCE:{first}"]
        for number in range(first, newest + 1):
            lines.append(f"#EXTINF:{hls.durations[number % n]:.3f},")
            lines.append(f"seg-{number}.ts")
        return ("\n".join(lines) + "\n").encode()

    def hls_segment(self, code: str, number: int) -> bytes | None:
        hls = self._hls_for(code)
        if hls.start_of(number) > self._live_position() + 1.0:  # not happened yet
            return None
        return hls.segment(number)

    # -- the live MPEG-TS stream --
    def _register(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)
            self.clients_served += 1

    def _unregister(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _pace(self, clip: TsClip, out) -> None:
        """Write ``clip`` looping forever, each packet when it is due (``lead`` s early)."""
        n = len(clip.packets)
        position = self._live_position()
        loop = int(position // clip.seconds)
        within = position - loop * clip.seconds
        # Join at the keyframe at or before the live position: a picture at once.
        start = clip.keyframes[0]
        for k in clip.keyframes:
            if clip.times[k] <= within:
                start = k
        if start:
            out.write(clip.headers_before(loop, start))
        k = start
        stop = self._stop
        while not stop.is_set():
            base = self._epoch + loop * clip.seconds
            horizon = time.monotonic() + self.lead - base
            end = k
            while end < n and clip.times[end] <= horizon:
                end += 1
            if end > k:
                out.write(clip.render(loop, k, end))
                k = end
            if k >= n:
                loop, k = loop + 1, 0
                continue
            wait = base + clip.times[k] - self.lead - time.monotonic()
            if wait > 0:
                stop.wait(min(max(wait, 0.01), 0.2))


def main(argv: list[str] | None = None) -> int:
    """``python -m desktop.demo.stream_server``: serve until Ctrl+C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="cityops cameras")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(args.port, args.media, args.host)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"TCP port (default {DEFAULT_PORT}, the demo cameras' port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--media", metavar="DIR", help="folder of sample clips (default: "
                        "$CITYOPS_MEDIA_DIR, else var/media; scripts/make-sample-media.sh)")


def run(port: int, media: str | None, host: str = "127.0.0.1") -> int:
    import signal

    server = StreamServer(media, host=host, port=port)
    if not server.clips:
        print(f"cityops cameras: no sample clips in {server.media_dir}; run "
              f"scripts/make-sample-media.sh", flush=True)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        server.start()
    except OSError as exc:
        print(f"cityops cameras: cannot listen on {host}:{port}: {exc}", flush=True)
        return 2
    print(f"camera streams on http://{host}:{server.port}/cam/<code>.ts and "
          f"/hls/<code>/index.m3u8 ({len(server.clips)} clips); Ctrl+C stops", flush=True)
    try:
        server.serve_forever(stop)
    except KeyboardInterrupt:
        server.stop()
    print("camera streams stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
