"""Two server processes on one PostgreSQL agree: a list change made through one is matched by the
other within 5 seconds (each follows list changes with its own background refresh)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import _fresh_pg_database
from service_server import Server, make_keys, start_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

MD5 = "00112233445566778899aabbccddeeff"


@pytest.fixture
def two_servers(pg_server: str, tmp_path: Path) -> Iterator[tuple[Server, Server, dict[str, str]]]:
    databases = _fresh_pg_database(pg_server)
    db_url = next(databases)
    keys = make_keys(db_url, {"curator": ("org", ("curator",)), "checker": ("org", ("checker",))})
    servers: list[Server] = []
    try:
        for name in ("a", "b"):
            root = tmp_path / name
            (root / "home").mkdir(parents=True)
            (root / "tmp").mkdir()
            # The default refresh interval (1 s), as in production.
            env = {"OPSPOOR_API_REFRESH_INTERVAL": "1.0"}
            servers.append(start_server(db_url, root / "home", root / "tmp", root / "server.log", env))
        yield servers[0], servers[1], keys
    finally:
        for server in servers:
            server.stop()
        next(databases, None)


def _verdict(server: Server, key: str) -> str:
    r = httpx.post(
        f"{server.url}/v1/check/hashes",
        json={"hashes": [{"signal": "md5", "value": MD5}]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["results"][0]["verdict"])


def _until(server: Server, key: str, verdict: str, seconds: float = 5.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if _verdict(server, key) == verdict:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{server.url} did not answer {verdict!r} within {seconds} s")


def test_a_list_change_reaches_the_other_process_within_5_s(two_servers) -> None:  # type: ignore[no-untyped-def]
    a, b, keys = two_servers
    curator = {"Authorization": f"Bearer {keys['curator']}"}
    assert _verdict(b, keys["checker"]) == "unknown"
    r = httpx.post(f"{a.url}/v1/lists", json={"name": "shared-db"}, headers=curator)
    assert r.status_code == 201, r.text
    r = httpx.post(
        f"{a.url}/v1/lists/shared-db/entries",
        json={"entries": [{"signal": "md5", "value": MD5}]},
        headers=curator,
    )
    assert r.status_code == 200, r.text
    seen = _until(b, keys["checker"], "known")
    r = httpx.post(
        f"{b.url}/v1/lists/shared-db/disable", json={"value": MD5, "reason": "false match"}, headers=curator
    )
    assert r.status_code == 200, r.text
    gone = _until(a, keys["checker"], "unknown")
    assert seen < 5 and gone < 5
