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
        return f"http://{host!s}:{port}"

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


@dataclass
class SampleSite:
    """The scanner tests' fixture site: which images are where, and which are on the list."""

    site: TestSite
    known: dict[str, bytes]  # media path -> bytes, for images that go on the test list
    unknown: dict[str, bytes]
    expected: set[tuple[str, str]]  # (page URL, media URL) of every embedded image
    pages: list[str]  # URLs of the in-scope pages that exist


def build_sample_site(site: TestSite, photos: list[bytes], elsewhere: str) -> SampleSite:
    """Pages embedding 8 photos in every way the extractor knows; `elsewhere` is the origin of a
    host that is out of scope (it must never be contacted).

    / links to the pages, to a robots-disallowed page and to `elsewhere`;
    /mixed.html: 2 listed photos (k0, k1) and 2 unlisted (u0, u1), via img, srcset, picture and CSS;
    /unrelated.html: 3 unlisted photos (u2, u3, u4) via img, og:image and a link to the file;
    /again.html: k0 again (same URL: one download, two sightings) and u5 in a <style> block;
    /private/hidden.html: disallowed by robots.txt; it embeds u5 too.
    """
    if len(photos) < 8:
        raise ValueError("the sample site needs 8 photos")
    known = {"/img/k0.jpg": photos[0], "/img/k1.jpg": photos[1]}
    unknown = {f"/img/u{i}.jpg": photos[2 + i] for i in range(6)}
    for path, data in {**known, **unknown}.items():
        site.file(path, data)
    site.add("/robots.txt", Resource(b"User-agent: *\nDisallow: /private/\n", "text/plain"))
    u = site.url
    site.page(
        "/",
        f"""<html><head><title>index</title></head><body>
        <a href="/mixed.html">mixed</a> <a href="unrelated.html#top">unrelated</a>
        <a href="{u("/again.html")}">again</a> <a href="/private/hidden.html">hidden</a>
        <a href="{elsewhere}/">elsewhere</a> <a href="mailto:someone@example.org">mail</a>
        </body></html>""",
    )
    site.page(
        "/mixed.html",
        f"""<html><body><img src="/img/k0.jpg" srcset="/img/k0.jpg 1x, /img/k1.jpg 2x">
        <picture><source srcset="/img/u0.jpg 480w"><img src="/img/u0.jpg"></picture>
        <div style="background-image: url('/img/u1.jpg')"></div>
        <img src="{elsewhere}/outside.jpg"><a href="/">home</a></body></html>""",
    )
    site.page(
        "/unrelated.html",
        """<html><head><meta property="og:image" content="/img/u2.jpg"></head><body>
        <img src="img/u3.jpg" alt=""><a href="/img/u4.jpg">full size</a></body></html>""",
    )
    site.page(
        "/again.html",
        """<html><head><style>.hero { background: url("/img/u5.jpg") }</style></head>
        <body><img src="/img/k0.jpg"></body></html>""",
    )
    site.page("/private/hidden.html", '<html><body><img src="/img/u5.jpg"></body></html>')
    pages = [u(p) for p in ("/", "/mixed.html", "/unrelated.html", "/again.html")]
    expected = {
        (u("/mixed.html"), u("/img/k0.jpg")),
        (u("/mixed.html"), u("/img/k1.jpg")),
        (u("/mixed.html"), u("/img/u0.jpg")),
        (u("/mixed.html"), u("/img/u1.jpg")),
        (u("/mixed.html"), f"{elsewhere}/outside.jpg"),
        (u("/unrelated.html"), u("/img/u2.jpg")),
        (u("/unrelated.html"), u("/img/u3.jpg")),
        (u("/unrelated.html"), u("/img/u4.jpg")),
        (u("/again.html"), u("/img/u5.jpg")),
        (u("/again.html"), u("/img/k0.jpg")),
    }
    return SampleSite(site, known, unknown, expected, pages)
