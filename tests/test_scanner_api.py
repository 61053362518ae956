"""Submitting URLs for scanning over HTTP, following the scan, reading sightings and the queue."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from opspoor.scanner.testsite import TestSite, build_sample_site
from opspoor.store.db import open_store, transaction
from test_scanner_crawl import make_list, photos_from

pytestmark = pytest.mark.testdata


@contextmanager
def serving(app: Any) -> Iterator[httpx.Client]:
    """The app on a real uvicorn server in a thread (lifespan included), and a client for it."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, trust_env=False) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_submit_follow_and_query_a_scan(
    testdata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opspoor.api.app import create_app
    from opspoor.api.keys import create_key
    from opspoor.api.settings import Settings

    url = f"sqlite:///{tmp_path / 'api.db'}"
    engine, factory = open_store(url)
    with transaction(factory) as session:
        _, analyst = create_key(session, "hotline", ["analyst"])
        _, checker = create_key(session, "hotline", ["checker"])
    engine.dispose()
    with TestSite("127.0.0.2") as outside, TestSite() as site:
        sample = build_sample_site(site, photos_from(testdata), outside.origin)
        make_list(url, "test-list", list(sample.known.values()))
        # fetch_allow_private: the server's test setting, so it may reach the loopback fixture site.
        app = create_app(Settings(db_url=url, fetch_allow_private=True))
        with serving(app) as client:
            as_analyst = {"Authorization": f"Bearer {analyst}"}
            body = {"urls": [site.url("/")], "max_pages": 10}
            refused = client.post("/v1/scans", json=body, headers=as_analyst)
            assert refused.status_code == 403 and "OPSPOOR_SCAN_API" in refused.json()["message"]
            monkeypatch.setenv("OPSPOOR_SCAN_API", "1")
            assert client.post("/v1/scans", json=body, headers={"X-API-Key": checker}).status_code == 403
            assert (
                client.post(
                    "/v1/scans", json={"urls": ["file:///etc/passwd"]}, headers=as_analyst
                ).status_code
                == 400
            )
            assert client.post("/v1/scans", json={"urls": []}, headers=as_analyst).status_code == 422
            started = client.post("/v1/scans", json=body, headers=as_analyst)
            assert started.status_code == 202, started.text
            scan_id = started.json()["scan_id"]
            deadline = time.monotonic() + 60
            while True:
                state = client.get(f"/v1/scans/{scan_id}", headers=as_analyst).json()
                if state["status"] != "running" or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert state["status"] == "done" and state["media"] == 10 and state["matched"] == 3
            found = client.get("/v1/sightings", params={"min_risk": 40}, headers=as_analyst).json()[
                "sightings"
            ]
            assert found and all(s["risk"] >= 40 and s["risk_parts"] for s in found)
            assert client.get("/v1/sightings", params={"hash": "zz"}, headers=as_analyst).status_code == 400
            queue = client.get("/v1/scan-queue", headers=as_analyst).json()["items"]
            assert len(queue) == 3 and all(i["parts"] for i in queue)
            assert client.get("/v1/scans/999", headers=as_analyst).status_code == 404
            assert client.get(f"/v1/scans/{2**70}", headers=as_analyst).status_code == 422
            assert client.get("/v1/sightings", params={"scan": 2**70}, headers=as_analyst).status_code == 422
            assert client.get("/v1/sightings", headers={"X-API-Key": checker}).status_code == 403
        assert outside.requests == []
