"""A small web site on a loopback address, for the scanner's tests, benchmark and demo.

Serves fixed resources from memory (pages, images, redirects, slow or oversized bodies) with HTTP/1.1
keep-alive, and logs every request so a test can prove what was (not) fetched. It binds to loopback
only: the scanner must never be pointed at anything else in tests.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address


@dataclass
class Resource:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    # Slow bodies: send the body in `chunks` pieces with `chunk_delay` seconds between them.
    chunks: int = 1
    chunk_delay: float = 0.0
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes


@dataclass(frozen=True)
class Request:
    path: str
    host: str  # the Host header


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        site = self.server.site
        site.log(Request(self.path, self.headers.get("Host", "")))
        res = site.resources.get(self.path.split("#", 1)[0])
        if res is None:
            res = Resource(b"not found", "text/plain", 404)
        self.send_response(res.status)
        self.send_header("Content-Type", res.content_type)
        for key, value in res.headers.items():
            self.send_header(key, value)
        if res.send_length:
            self.send_header("Content-Length", str(len(res.body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        step = max(1, -(-len(res.body) // res.chunks))
        try:
            for i in range(0, max(len(res.body), 1), step):
                if i and res.chunk_delay:
                    time.sleep(res.chunk_delay)
                self.wfile.write(res.body[i : i + step])
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: TestSite


class TestSite:
    __test__ = False  # not a pytest test class

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if not ip_address(host).is_loopback:
            raise ValueError("the test site serves on loopback addresses only")
        self.resources: dict[str, Resource] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = _Server((host, port), _Handler)
        self._server.site = self
        self._thread: threading.Thread | None = None

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def add(self, path: str, resource: Resource) -> str:
        self.resources[path] = resource
        return self.url(path)

    def page(self, path: str, html: str) -> str:
        return self.add(path, Resource(html.encode("utf-8")))

    def file(self, path: str, data: bytes, content_type: str = "image/jpeg") -> str:
        return self.add(path, Resource(data, content_type))

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.add(path, Resource(b"", "text/plain", status, {"Location": location}))

    def log(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def start(self) -> TestSite:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> TestSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
