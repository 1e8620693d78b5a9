"""Servers on loopback for the metadata fetcher's tests: real sockets, bounded lifetimes.

`Routes` is an HTTP server (on 127.0.0.1 or 127.0.0.2) answering from a table and recording
who sent which `Authorization`; `Raw` is a bare TCP server whose connections get a behaviour
(never answer, trickle a byte a second, send 10 MiB).  Every loop is bounded: a server stops
by itself after `life` seconds at the latest.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = tuple[int, dict[str, str], bytes]  # status, headers, body


class Routes:
    """An HTTP server answering GET from `routes` (path -> answer; else 404)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Answer] = {}
        self.seen: list[tuple[str, str | None]] = []  # (path, Authorization)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                server.seen.append((path, self.headers.get("Authorization")))
                status, headers, body = server.routes.get(path, (404, {}, b"404: Not Found"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def redirect(self, path: str, to: str, status: int = 302) -> None:
        self.routes[path] = (status, {"Location": to}, b"moved")

    def serve(self, path: str, text: str) -> None:
        self.routes[path] = (200, {}, text.encode())

    def tokens(self) -> list[str | None]:
        return [auth for _, auth in self.seen if auth]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


Behaviour = Callable[[socket.socket, threading.Event], None]


class Raw:
    """A TCP server on 127.0.0.1 that reads each request's head and then `behave`s."""

    def __init__(self, behave: Behaviour, life: float = 60) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        self.connections = 0
        self._end = time.monotonic() + life
        self._behave = behave
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set() and time.monotonic() < self._end:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            head = b""
            try:
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                self._behave(conn, self.stop)
            except OSError:
                pass  # the client gave up: that is what the tests want

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def never_answer(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(60)


def trickle(head: bytes) -> Behaviour:
    """`head` at once, then one byte a second (200 at most: it never ends within a test)."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head)
        for _ in range(200):
            if stop.wait(1):
                return
            conn.sendall(b"x")

    return behave


trickle_body = trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n")
trickle_head = trickle(b"HTTP/1.1 200 OK\r\nX-Slow: ")


def huge(text: str, declared: bool) -> Behaviour:
    """A valid `text` padded to 10 MiB with comment lines; with or without Content-Length."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        line = b"# padding padding padding padding padding padding padding padding\n"
        count = 1024 * (10 * 1024 * 1024 // len(line) // 1024)
        size = len(text.encode()) + count * len(line)
        length = f"Content-Length: {size}\r\n" if declared else ""
        conn.sendall(f"HTTP/1.1 200 OK\r\n{length}Connection: close\r\n\r\n".encode())
        conn.sendall(text.encode())
        block = line * 1024
        for _ in range(count // 1024):
            if stop.is_set():
                return
            conn.sendall(block)

    return behave
