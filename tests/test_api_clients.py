"""The Python client, `opspoor remote check` (hashes only leave the machine), `opspoor keys`, and
URL checks against a local fixture server (the test server may fetch from loopback: a test setting)."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from opspoor.cli.app import app
from opspoor.client import Client, ServiceError
from service_server import Server, make_keys, start_server

pytestmark = pytest.mark.slow


def _jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(small).resize((512, 512), Image.Resampling.BICUBIC).save(out, "JPEG", quality=90)
    return out.getvalue()


PHOTO = _jpeg(11)


class _Media(BaseHTTPRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body, ctype = (PHOTO, "image/jpeg") if self.path == "/photo.jpg" else (b"<html>", "text/html")
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def media_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Media)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("clients")
    (root / "home").mkdir()
    (root / "tmp").mkdir()
    db_url = f"sqlite:///{root / 'home' / 'opspoor.db'}"
    keys = make_keys(
        db_url,
        {"curator": ("org", ("curator",)), "checker": ("org", ("checker",)), "admin": ("org", ("admin",))},
    )
    srv = start_server(
        db_url, root / "home", root / "tmp", root / "server.log", {"OPSPOOR_API_FETCH_ALLOW_PRIVATE": "1"}
    )
    srv.keys = keys
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def listed(server: Server) -> str:
    from opspoor.signals.compute import compute_signals

    signals = compute_signals(PHOTO)
    with Client(server.url, server.keys["curator"]) as client:
        client.create_list("client-list", description="made by the client")
        added = client.add_entries("client-list", [{"signal": "md5", "value": signals.md5}], reason="test")
        assert added.added == 1
    with Client(server.url, server.keys["checker"]) as client:  # the index follows in the background
        deadline = time.monotonic() + 5
        while client.check_hashes([("md5", str(signals.md5))]).results[0].verdict != "known":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    return str(signals.md5)


def test_client_checks_hashes_files_and_urls(server: Server, listed: str, media_url: str) -> None:
    with Client(server.url, server.keys["checker"]) as client:
        assert client.health().status == "ok"
        result = client.check_hashes([("md5", listed), ("md5", "f" * 32)])
        assert [r.verdict for r in result.results] == ["known", "unknown"]
        assert result.results[0].matches[0].list == "client-list" and result.request_id
        assert client.check_file(PHOTO).verdict == "known"
        by_url = client.check_url(f"{media_url}/photo.jpg")
        assert by_url.verdict == "known" and by_url.final_url.endswith("/photo.jpg")
        with pytest.raises(ServiceError) as info:
            client.check_url(f"{media_url}/page.html")
        assert info.value.status == 415 and info.value.request_id
        with pytest.raises(ServiceError) as info:
            client.create_list("not-allowed")
        assert info.value.status == 403
    with Client(server.url, "ops_00000000_" + "x" * 43) as client, pytest.raises(ServiceError) as info:
        client.ready()
    assert info.value.status == 401


def test_remote_check_sends_only_hashes(server: Server, listed: str, tmp_path: Path) -> None:
    (tmp_path / "known.jpg").write_bytes(PHOTO)
    (tmp_path / "other.jpg").write_bytes(_jpeg(12))
    result = CliRunner().invoke(
        app,
        [
            "remote",
            "check",
            str(tmp_path),
            "--url",
            server.url,
            "--key",
            server.keys["checker"],
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 1, result.output  # 1: something matched
    lines = {line.split()[1]: line.split()[0] for line in result.output.splitlines() if line.strip()}
    assert lines[str(tmp_path / "known.jpg")] == "known"
    assert lines[str(tmp_path / "other.jpg")] == "unknown"
    metrics = httpx.get(f"{server.url}/metrics", headers={"X-API-Key": server.keys["admin"]}).text
    assert 'route="/v1/check/hashes"' in metrics
    file_checks = re.findall(r'opspoor_http_requests_total\{method="POST",route="/v1/check/file".*', metrics)
    before = sum(float(line.rsplit(" ", 1)[1]) for line in file_checks)
    CliRunner().invoke(
        app, ["remote", "check", str(tmp_path), "--url", server.url, "--key", server.keys["checker"]]
    )
    metrics = httpx.get(f"{server.url}/metrics", headers={"X-API-Key": server.keys["admin"]}).text
    file_checks = re.findall(r'opspoor_http_requests_total\{method="POST",route="/v1/check/file".*', metrics)
    assert sum(float(line.rsplit(" ", 1)[1]) for line in file_checks) == before  # no file was sent


def test_keys_cli_prints_the_key_once_and_revokes(server: Server) -> None:
    runner = CliRunner()
    created = runner.invoke(
        app, ["keys", "create", "--tenant", "cli-org", "--role", "checker", "--db", server.db_url]
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    key_id = key.split("_")[1]
    assert httpx.get(f"{server.url}/v1/ready", headers={"X-API-Key": key}).status_code == 200
    listing = runner.invoke(app, ["keys", "list", "--db", server.db_url])
    assert key_id in listing.output and key not in listing.output
    bad_role = runner.invoke(
        app, ["keys", "create", "--tenant", "x", "--role", "root", "--db", server.db_url]
    )
    assert bad_role.exit_code != 0
    revoked = runner.invoke(app, ["keys", "revoke", key_id, "--db", server.db_url])
    assert revoked.exit_code == 0, revoked.output
    deadline = time.monotonic() + 3
    while httpx.get(f"{server.url}/v1/ready", headers={"X-API-Key": key}).status_code != 401:
        assert time.monotonic() < deadline
        time.sleep(0.1)
