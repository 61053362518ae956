"""The hardened fetcher against a local HTTP server: limits, redirects, address checks, pinning."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opspoor.net import fetch as fetch_mod
from opspoor.net.fetch import (
    BadContentType,
    BadURL,
    BlockedAddress,
    FetchFailed,
    FetchTimeout,
    ResponseTooLarge,
    TooManyRedirects,
    blocked_reason,
    fetch_sync,
)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *_args: object) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, ctype: str = "image/jpeg", length: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path
        port = self.server.server_address[1]
        if path == "/ok":
            self._send(200, b"x" * 1000)
        elif path == "/host":
            self._send(200, (self.headers.get("Host") or "").encode(), "text/plain")
        elif path == "/html":
            self._send(200, b"<html></html>", "text/html; charset=utf-8")
        elif path == "/big":
            self._send(200, b"x" * 200_000)
        elif path == "/big-unannounced":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"x" * 10_000)
        elif path == "/slow":
            time.sleep(2)
            self._send(200, b"late")
        elif path == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)
        elif path.startswith("/redirect-to/"):
            self.send_response(302)
            self.send_header("Location", path.removeprefix("/redirect-to/").replace("PORT", str(port)))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, b"", "text/plain")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the fetcher hangs up on purpose (size and time limits): no broken-pipe traces


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = _QuietServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _get(url: str, **kwargs: object) -> fetch_mod.Fetched:
    options: dict[str, object] = {"max_bytes": 100_000, "timeout": 5.0, "allow_private": True}
    options.update(kwargs)
    return fetch_sync(url, **options)  # type: ignore[arg-type]


def test_fetches_a_small_body(server: str) -> None:
    got = _get(f"{server}/ok", allowed_content_types={"image/*"})
    assert got.status == 200 and got.content == b"x" * 1000
    assert got.ip == "127.0.0.1" and got.final_url == f"{server}/ok"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[64:ff9b::a00:1]/",
        "http://[2002:7f00:1::]/",
        "http://2130706433/",
    ],
)
def test_private_loopback_and_link_local_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddress):
        fetch_sync(url, max_bytes=1000, timeout=2.0)


def test_local_server_is_refused_without_the_test_setting(server: str) -> None:
    with pytest.raises(BlockedAddress):
        fetch_sync(f"{server}/ok", max_bytes=1000, timeout=2.0)


def _only_block(blocked_ip: str):  # type: ignore[no-untyped-def]
    def reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        return "private" if str(ip) == blocked_ip else None

    return reason


def test_redirect_to_a_blocked_address_is_refused(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # 127.0.0.1 stands for a public host here, 127.0.0.2 for an internal one.
    monkeypatch.setattr(fetch_mod, "blocked_reason", _only_block("127.0.0.2"))
    assert fetch_sync(f"{server}/ok", max_bytes=10_000, timeout=5.0).status == 200
    with pytest.raises(BlockedAddress):
        fetch_sync(f"{server}/redirect-to/http://127.0.0.2:PORT/ok", max_bytes=10_000, timeout=5.0)


def test_dns_is_checked_and_the_connection_pinned(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    port = server.rsplit(":", 1)[1]
    monkeypatch.setattr(fetch_mod, "blocked_reason", _only_block("127.0.0.2"))
    answers = {"good.test": ["127.0.0.1"], "evil.test": ["127.0.0.1", "127.0.0.2"]}
    calls: list[str] = []

    async def resolve(host: str, _port: int) -> list[str]:
        calls.append(host)
        return answers[host]

    monkeypatch.setattr(fetch_mod, "_resolve", resolve)
    got = fetch_sync(f"http://good.test:{port}/host", max_bytes=10_000, timeout=5.0)
    # Connected to the checked address, but spoke to the named host.
    assert got.content == f"good.test:{port}".encode() and got.ip == "127.0.0.1"
    assert calls == ["good.test"]  # one resolution per hop: nothing to rebind between check and connect
    with pytest.raises(BlockedAddress):  # any blocked answer refuses the name
        fetch_sync(f"http://evil.test:{port}/ok", max_bytes=10_000, timeout=5.0)
    with pytest.raises(BlockedAddress):  # a redirect to a name is resolved and checked too
        fetch_sync(f"{server}/redirect-to/http://evil.test:PORT/ok", max_bytes=10_000, timeout=5.0)


def test_redirects_are_followed_and_capped(server: str) -> None:
    got = _get(f"{server}/redirect-to/http://127.0.0.1:PORT/ok")
    assert got.status == 200 and got.final_url == f"{server}/ok"
    with pytest.raises(TooManyRedirects):
        _get(f"{server}/loop", max_redirects=3)


def test_size_limit_with_and_without_content_length(server: str) -> None:
    with pytest.raises(ResponseTooLarge):
        _get(f"{server}/big", max_bytes=100_000)
    with pytest.raises(ResponseTooLarge):
        _get(f"{server}/big-unannounced", max_bytes=100_000)


def test_time_limit_covers_slow_headers_and_slow_bodies(server: str) -> None:
    start = time.monotonic()
    with pytest.raises(FetchTimeout):
        _get(f"{server}/slow", timeout=0.5)
    with pytest.raises(FetchTimeout):  # each byte arrives quickly, the whole body does not
        _get(f"{server}/drip", timeout=1.0)
    assert time.monotonic() - start < 4


def test_content_type_is_checked(server: str) -> None:
    with pytest.raises(BadContentType):
        _get(f"{server}/html", allowed_content_types={"image/*"})
    assert _get(f"{server}/html", allowed_content_types={"text/html"}).status == 200


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a", "file:///etc/passwd", "/relative", "http://user:pw@example.com/", "http://"]
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(BadURL):
        fetch_sync(url, max_bytes=1000, timeout=2.0)


def test_connection_refused_is_a_typed_error() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchFailed):
        _get(f"http://127.0.0.1:{port}/")


def test_proxy_settings_are_ignored(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    assert _get(f"{server}/ok").status == 200


_PRIVATE_V4 = [
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10"
]


@given(st.sampled_from(_PRIVATE_V4), st.integers(min_value=0, max_value=2**32 - 1))
def test_every_address_of_the_internal_ranges_is_blocked(network: str, offset: int) -> None:
    net = ipaddress.ip_network(network)
    ip = net[offset % net.num_addresses]
    assert blocked_reason(ip) is not None
    assert isinstance(ip, ipaddress.IPv4Address)
    assert blocked_reason(ipaddress.IPv6Address(f"::ffff:{ip}")) is not None


def test_public_addresses_pass() -> None:
    for ip in ("93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946"):
        assert blocked_reason(ipaddress.ip_address(ip)) is None
