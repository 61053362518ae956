"""The hash-check service against a real server on loopback (`opspoor serve` in a subprocess), on
SQLite and on PostgreSQL: keys and roles, tenant isolation, audit, limits, input errors, evidence,
and that a checked file leaves nothing on disk."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import text

from conftest import _fresh_pg_database
from opspoor.store.db import make_engine
from service_server import Server, make_keys, start_server

pytestmark = pytest.mark.slow

KEYS = {
    "alpha_checker": ("alpha", ("checker",)),
    "alpha_curator": ("alpha", ("curator",)),
    "alpha_analyst": ("alpha", ("analyst",)),
    "alpha_admin": ("alpha", ("admin",)),
    "beta_checker": ("beta", ("checker",)),
    "beta_curator": ("beta", ("curator",)),
    "rate": ("gamma", ("checker",)),
    "revoked": ("gamma", ("checker",)),
}


def _jpeg(seed: int, side: int = 512, quality: int = 92) -> bytes:
    """A smooth random photo-like image (enough detail for a good PDQ quality)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (side // 32, side // 32, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((side, side), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp(f"svc-{request.param}")
    home, tmpdir = root / "home", root / "tmp"
    home.mkdir()
    tmpdir.mkdir()
    cleanup: Iterator[str] | None = None
    if request.param == "sqlite":
        db_url = f"sqlite:///{home / 'opspoor.db'}"
    else:
        cleanup = _fresh_pg_database(request.getfixturevalue("pg_server"))
        db_url = next(cleanup)
    keys = make_keys(db_url, KEYS)
    srv = start_server(db_url, home, tmpdir, root / "server.log")
    srv.keys = keys
    try:
        yield srv
    finally:
        srv.stop()
        if cleanup is not None:
            next(cleanup, None)


def _client(server: Server, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.keys[key]}"} if key else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def _eventually(check: Callable[[], bool], seconds: float = 5.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


MD5_A = "0123456789abcdef0123456789abcdef"
PDQ_A = "f" * 16 + "0" * 16 + "a" * 16 + "5" * 16


@pytest.fixture(scope="module")
def alpha_list(server: Server) -> str:
    with _client(server, "alpha_curator") as c:
        r = c.post("/v1/lists", json={"name": "alpha-list", "description": "alpha's own", "source": "test"})
        assert r.status_code == 201, r.text
        r = c.post(
            "/v1/lists/alpha-list/entries",
            json={
                "entries": [
                    {
                        "signal": "md5",
                        "value": MD5_A.upper(),
                        "classification": "ncmec:A1",
                        "source_ref": "case-1",
                    },
                    {"signal": "pdq", "value": PDQ_A, "classification": "iwf:B", "quality": 100},
                ],
                "reason": "initial load",
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["added"] == 2
    with _client(server, "alpha_checker") as c:  # the index follows list changes in the background
        body = {"hashes": [{"signal": "md5", "value": MD5_A}, {"signal": "pdq", "value": PDQ_A}]}
        _eventually(
            lambda: (
                [r["verdict"] for r in c.post("/v1/check/hashes", json=body).json()["results"]]
                == ["known", "near"]
            )
        )
    return "alpha-list"


def _operations(server: Server) -> list[tuple[str, str]]:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    ops = []
    for path, methods in spec["paths"].items():
        for method in methods:
            ops.append((method.upper(), path.replace("{name}", "alpha-list").replace("{tenant}", "beta")))
    return ops


def test_every_endpoint_but_health_needs_a_key(server: Server) -> None:
    ops = _operations(server)
    assert len(ops) >= 15
    with _client(server) as c:
        for method, path in ops:
            r = c.request(method, path, json={} if method in {"POST", "PUT"} else None)
            if path == "/v1/health":
                assert r.status_code == 200
                continue
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            assert r.json()["error"] == "unauthorized"
        r = c.get("/v1/ready", headers={"X-API-Key": "ops_00000000_" + "x" * 43})
        assert r.status_code == 401


def test_wrong_role_gets_403(server: Server, alpha_list: str) -> None:
    cases = [
        ("alpha_checker", "POST", "/v1/lists", {"name": "nope"}),
        ("alpha_checker", "GET", f"/v1/lists/{alpha_list}/export", None),
        ("alpha_checker", "POST", f"/v1/lists/{alpha_list}/disable", {"value": MD5_A, "reason": "because"}),
        ("alpha_checker", "GET", "/metrics", None),
        ("alpha_checker", "GET", "/v1/audit", None),
        ("alpha_curator", "POST", "/v1/check/hashes", {"hashes": [{"signal": "md5", "value": MD5_A}]}),
        (
            "alpha_analyst",
            "POST",
            f"/v1/lists/{alpha_list}/entries",
            {"entries": [{"signal": "md5", "value": MD5_A}]},
        ),
    ]
    for key, method, path, body in cases:
        with _client(server, key) as c:
            r = c.request(method, path, json=body)
        assert r.status_code == 403, (key, path, r.text)
        assert r.json()["error"] == "forbidden" and "roles" in r.json()["message"]


def test_match_carries_evidence_and_request_id(server: Server, alpha_list: str) -> None:
    near = "e" + PDQ_A[1:]  # 1 bit off
    with _client(server, "alpha_checker") as c:
        r = c.post(
            "/v1/check/hashes",
            json={"hashes": [{"signal": "md5", "value": MD5_A}, {"signal": "pdq", "value": near},
                             {"signal": "pdq", "value": near, "threshold": 0},
                             {"signal": "sha256", "value": "ab" * 32}]},
            headers={"X-Request-ID": "client-req-1"},
        )  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert r.headers["x-request-id"] == body["request_id"] == "client-req-1"
    known, close, strict, miss = body["results"]
    assert known["verdict"] == "known"
    match = known["matches"][0]
    assert match == {
        **match,
        "list": alpha_list, "classification": "ncmec:A1", "signal": "md5", "value": MD5_A, "distance": 0,
        "source_ref": "case-1",
    }  # fmt: skip
    assert close["verdict"] == "near" and close["matches"][0]["distance"] == 1
    assert close["matches"][0]["classification"] == "iwf:B"
    # A checker does not get the list's perceptual hash (probing could read the list out); an analyst does.
    assert close["matches"][0]["value"] is None
    with _client(server, "alpha_analyst") as c:
        r = c.post("/v1/check/hashes", json={"hashes": [{"signal": "pdq", "value": near}]})
    assert r.json()["results"][0]["matches"][0]["value"] == PDQ_A
    assert strict["verdict"] == "unknown" and miss["verdict"] == "unknown"
    with _client(server) as c:
        r = c.get("/v1/health")
    assert len(r.headers["x-request-id"]) == 32


def test_other_tenants_lists_are_invisible(server: Server, alpha_list: str) -> None:
    with _client(server, "beta_checker") as beta:
        assert alpha_list not in [x["name"] for x in beta.get("/v1/lists").json()["lists"]]
        hidden = beta.get(f"/v1/lists/{alpha_list}")
        missing = beta.get("/v1/lists/no-such-list")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["message"].replace(alpha_list, "X") == missing.json()["message"].replace(
            "no-such-list", "X"
        )
        r = beta.post("/v1/check/hashes", json={"hashes": [{"signal": "md5", "value": MD5_A}]})
        assert r.json()["results"][0]["verdict"] == "unknown"
    with _client(server, "beta_curator") as beta:
        r = beta.post(
            f"/v1/lists/{alpha_list}/entries", json={"entries": [{"signal": "md5", "value": "1" * 32}]}
        )
        assert r.status_code == 404
        assert beta.get(f"/v1/lists/{alpha_list}/export").status_code == 404
    # Shared explicitly: now beta sees the metadata and matches, but cannot change the list.
    with _client(server, "alpha_curator") as alpha:
        assert alpha.post(f"/v1/lists/{alpha_list}/shares", json={"tenant": "beta"}).json()[
            "shared_with"
        ] == ["beta"]
    try:
        with _client(server, "beta_checker") as beta:
            listed = beta.get(f"/v1/lists/{alpha_list}").json()
            assert listed["owned"] is False and listed["shared_with"] is None

            def matched() -> bool:
                r = beta.post("/v1/check/hashes", json={"hashes": [{"signal": "md5", "value": MD5_A}]})
                return r.json()["results"][0]["verdict"] == "known"

            _eventually(matched)
        with _client(server, "beta_curator") as beta:
            r = beta.post(f"/v1/lists/{alpha_list}/disable", json={"value": MD5_A, "reason": "not mine"})
            assert r.status_code == 403
    finally:
        with _client(server, "alpha_curator") as alpha:
            assert alpha.delete(f"/v1/lists/{alpha_list}/shares/beta").status_code == 200


def test_disable_with_reason_export_and_audit(server: Server, alpha_list: str) -> None:
    extra = "fedcba9876543210fedcba9876543210"
    with _client(server, "alpha_curator") as c:
        assert (
            c.post(
                f"/v1/lists/{alpha_list}/entries", json={"entries": [{"signal": "md5", "value": extra}]}
            ).json()["added"]
            == 1
        )
        r = c.post(
            f"/v1/lists/{alpha_list}/disable", json={"value": extra, "reason": "stock photo, false match"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "disabled" and r.json()["reason"] == "stock photo, false match"
    with _client(server, "alpha_checker") as c:
        _eventually(
            lambda: (
                c.post("/v1/check/hashes", json={"hashes": [{"signal": "md5", "value": extra}]}).json()[
                    "results"
                ][0]["verdict"]
                == "unknown"
            )
        )
    with _client(server, "alpha_analyst") as c:
        exported = c.get(f"/v1/lists/{alpha_list}/export", params={"include_all": "true"})
        assert exported.status_code == 200 and extra in exported.text and "disabled" in exported.text
        active = c.get(f"/v1/lists/{alpha_list}/export").text
        assert MD5_A in active and extra not in active
        rows = c.get("/v1/audit", params={"limit": 1000}).json()["entries"]
    actions = [(row["action"], row["subject"]) for row in rows]
    assert ("list.create", alpha_list) in actions and ("entry.disable", alpha_list) in actions
    assert any(a == "match" for a, _ in actions)
    assert all(row["actor"].startswith("alpha/") for row in rows)


def test_import_a_list_file(server: Server, alpha_list: str) -> None:
    with _client(server, "alpha_curator") as c:
        assert c.post("/v1/lists", json={"name": "alpha-imported"}).status_code == 201
        lines = "\n".join(f"{i:032x}" for i in range(1, 201))
        r = c.post(
            "/v1/lists/alpha-imported/import", params={"format": "lines", "signal": "md5"}, content=lines
        )
        assert r.status_code == 200, r.text
        assert r.json()["added"] == 200
        bad = c.post(
            "/v1/lists/alpha-imported/import", params={"format": "lines", "signal": "md5"}, content="zz\n"
        )
        assert bad.status_code == 422
    with _client(server, "alpha_checker") as c:
        _eventually(
            lambda: (
                c.post("/v1/check/hashes", json={"hashes": [{"signal": "md5", "value": f"{7:032x}"}]}).json()[
                    "results"
                ][0]["verdict"]
                == "known"
            )
        )


def test_malformed_input_gets_422_with_a_clear_message(server: Server) -> None:
    bad_bodies = [
        ({"hashes": [{"signal": "md5", "value": "zz"}]}, "hashes[0]"),
        ({"hashes": [{"signal": "pdq", "value": "abc"}]}, "hashes[0]"),
        ({"hashes": [{"signal": "nohash", "value": "00"}]}, "unknown signal"),
        ({"hashes": []}, "hashes"),
        ({"hashes": [{"signal": "md5"}]}, "value"),
        ({"hashes": [{"signal": "md5", "value": MD5_A, "threshold": -1}]}, "threshold"),
        ({"hashes": [{"signal": "md5", "value": MD5_A}] * 1001}, "at most 1000"),
    ]
    with _client(server, "alpha_checker") as c:
        for body, needle in bad_bodies:
            r = c.post("/v1/check/hashes", json=body)
            assert r.status_code == 422, (body, r.text)
            assert r.json()["error"] == "invalid_input"
            assert needle in r.json()["message"], r.json()
            assert "Traceback" not in r.text
        r = c.post("/v1/check/hashes", content=b"{not json", headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and "Traceback" not in r.text
        r = c.post("/v1/check/file", content=b"", headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 422
        r = c.post(
            "/v1/check/file",
            content=b"--x\r\nbroken",
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        )
        assert r.status_code == 422


def test_oversized_bodies_get_413(server: Server) -> None:
    with _client(server, "alpha_checker") as c:
        big_json = json.dumps({"hashes": [{"signal": "md5", "value": MD5_A}], "pad": "x" * (2 * 1024 * 1024)})
        r = c.post("/v1/check/hashes", content=big_json, headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and r.json()["error"] == "body_too_large"
        r = c.post("/v1/check/file", content=os.urandom(4 * 1024 * 1024))
        assert r.status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while reading
            for _ in range(8):
                yield b"\0" * (512 * 1024)

        r = c.post("/v1/check/file", content=chunks())
        assert r.status_code == 413


def test_rate_limit_answers_429_with_retry_after(server: Server) -> None:
    body = {"hashes": [{"signal": "md5", "value": MD5_A}]}
    with _client(server, "rate") as c, ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: c.post("/v1/check/hashes", json=body), range(120)))
    limited = [r for r in answers if r.status_code == 429]
    assert limited, [r.status_code for r in answers]
    assert all(r.status_code in (200, 429) for r in answers)
    assert int(limited[0].headers["retry-after"]) >= 1
    assert limited[0].json()["error"] == "rate_limited"


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith("opspoor.db")
    }


def test_checked_file_leaves_nothing_on_disk(server: Server, alpha_list: str) -> None:
    before = _snapshot(server.home)
    marker = os.urandom(32).hex().encode()
    photo = _jpeg(1, side=1024) + marker  # > 1 MiB with the padding below: Starlette would spool this
    photo += b"\0" * max(0, 1_200_000 - len(photo))
    blob = b"not an image " + marker + os.urandom(1_500_000)
    with _client(server, "alpha_checker") as c:
        r = c.post("/v1/check/file", files={"file": ("photo.jpg", photo, "image/jpeg")})
        assert r.status_code == 200, r.text
        assert r.json()["hashes"]["kind"] == "image" and r.json()["hashes"]["pdq"]
        r = c.post("/v1/check/file", content=blob, headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 200, r.text
        assert r.json()["verdict"] == "unknown" and r.json()["error"]
    assert list(server.tmpdir.iterdir()) == []
    assert _snapshot(server.home) == before
    for path in server.home.rglob("*"):  # not in the database either
        if path.is_file():
            assert marker not in path.read_bytes(), path


def test_file_check_matches_by_md5_and_by_pdq(server: Server) -> None:
    photo = _jpeg(7)
    rotated = io.BytesIO()
    Image.open(io.BytesIO(photo)).transpose(Image.Transpose.ROTATE_90).save(rotated, "JPEG", quality=92)
    with _client(server, "alpha_checker") as c:
        first = c.post("/v1/check/file", content=photo).json()
    with _client(server, "alpha_curator") as c:
        assert c.post("/v1/lists", json={"name": "alpha-photos"}).status_code == 201
        entries = [
            {"signal": "md5", "value": first["hashes"]["md5"]},
            {"signal": "pdq", "value": first["hashes"]["pdq"]},
        ]
        assert c.post("/v1/lists/alpha-photos/entries", json={"entries": entries}).status_code == 200
    with _client(server, "alpha_checker") as c:
        _eventually(lambda: c.post("/v1/check/file", content=photo).json()["verdict"] == "known")
        again = c.post("/v1/check/file", files={"file": ("x.jpg", photo, "image/jpeg")}).json()
        assert again["verdict"] == "known"
        assert {m["signal"] for m in again["matches"]} >= {"md5", "pdq"}
        turned = c.post("/v1/check/file", content=rotated.getvalue()).json()
        assert turned["verdict"] == "near", turned
        assert turned["matches"][0]["quality"] is not None


def test_check_url_refuses_private_addresses(server: Server) -> None:
    with _client(server, "alpha_checker") as c:
        for url in (
            f"{server.url}/v1/health",
            "http://169.254.169.254/latest",
            "http://[::1]/x",
            "http://10.0.0.1/",
        ):
            r = c.post("/v1/check/url", json={"url": url})
            assert r.status_code == 422 and r.json()["error"] == "blocked_address", r.text
        r = c.post("/v1/check/url", json={"url": "file:///etc/passwd"})
        assert r.status_code == 422 and r.json()["error"] == "bad_url"


def test_ready_and_metrics(server: Server, alpha_list: str) -> None:
    with _client(server, "alpha_checker") as c:
        ready = c.get("/v1/ready")
    assert ready.status_code == 200 and ready.json()["entries_indexed"] >= 2
    with _client(server, "alpha_admin") as c:
        metrics = c.get("/metrics")
    assert metrics.status_code == 200
    assert "opspoor_http_requests_total" in metrics.text and "opspoor_index_entries" in metrics.text


def test_revoked_key_stops_working(server: Server) -> None:
    from opspoor.api.keys import parse_key_id, revoke_key
    from opspoor.store.db import open_store, transaction

    with _client(server, "revoked") as c:
        assert c.get("/v1/ready").status_code == 200
        engine, factory = open_store(server.db_url)
        with transaction(factory) as session:
            revoke_key(session, parse_key_id(server.keys["revoked"]) or "")
        engine.dispose()
        _eventually(lambda: c.get("/v1/ready").status_code == 401, seconds=3)


def test_tampered_audit_row_is_detected(server: Server, alpha_list: str) -> None:
    from typer.testing import CliRunner

    from opspoor.cli.app import app

    with _client(server, "alpha_admin") as c:
        assert c.get("/v1/audit/verify").json()["ok"] is True
        engine = make_engine(server.db_url)
        pg = engine.dialect.name == "postgresql"
        with engine.begin() as conn:
            if pg:
                conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            else:
                conn.execute(text("DROP TRIGGER audit_log_no_update"))
            original = conn.execute(text("SELECT subject FROM audit_log WHERE seq = 2")).scalar_one()
            conn.execute(text("UPDATE audit_log SET subject = 'edited' WHERE seq = 2"))
        try:
            report = c.get("/v1/audit/verify").json()
            assert report["ok"] is False and report["broken_row"] == 2
            cli = CliRunner().invoke(app, ["audit", "verify", "--db", server.db_url])
            assert cli.exit_code == 1 and "row 2" in cli.output
        finally:
            with engine.begin() as conn:
                conn.execute(text("UPDATE audit_log SET subject = :s WHERE seq = 2"), {"s": original})
                if pg:
                    conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
            engine.dispose()
        assert c.get("/v1/audit/verify").json()["ok"] is True
