"""A tiny TCP proxy for outage tests: the app talks to PostgreSQL through it, and the test cuts
the line (``stop``) and restores it (``start``) on the same port, as a flaky network would;
or cuts one connection exactly at its next COMMIT (:meth:`TcpProxy.cut_at_commit`)."""
from __future__ import annotations

import contextlib
import socket
import threading

COMMIT_QUERY = b"Q\x00\x00\x00\x0bCOMMIT\x00"  # Query message: 'Q', int32 length 11, text


class TcpProxy:
    def __init__(self, target_host: str = "127.0.0.1", target_port: int | None = None) -> None:
        if target_port is None:  # the test server (tests/conftest.py)
            from tests.conftest import PG_PORT

            target_port = PG_PORT
        self.target = (target_host, target_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._server: socket.socket | None = None
        self._flowing = threading.Event()
        self._flowing.set()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._cut_at_commit: str | None = None  # "before" / "after": armed for one COMMIT
        self.commits_cut = 0

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def cut_at_commit(self, when: str = "after") -> None:
        """Arm a cut at the next COMMIT any connection sends. ``after``: the COMMIT reaches the
        server, which commits; its answer is dropped and the link cut, so the client cannot
        know (the ambiguous commit). ``before``: the COMMIT is dropped and the link cut, so
        the server rolls back. psycopg sends COMMIT as a simple query: ``Q``, length, text."""
        if when not in ("before", "after"):
            raise ValueError(when)
        self._cut_at_commit = when

    def freeze(self) -> None:
        """A silent link: connections stay open but no byte moves (no reset, no error)."""
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def stop(self) -> None:
        """Refuse new connections and cut every open one."""
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)
            server.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            committed = threading.Event()  # this link passed an armed COMMIT to the server
            threading.Thread(target=self._pipe, args=(client, upstream, committed, True),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, committed, False),
                             daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, committed: threading.Event,
              to_server: bool) -> None:
        try:
            while data := src.recv(65536):
                self._flowing.wait()
                if to_server and COMMIT_QUERY in data and self._cut_at_commit is not None:
                    when, self._cut_at_commit = self._cut_at_commit, None
                    self.commits_cut += 1
                    if when == "before":
                        return  # the finally cuts both ways; the server never sees COMMIT
                    committed.set()
                elif not to_server and committed.is_set():
                    return  # the server's answer to COMMIT: dropped, and the link cut
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
