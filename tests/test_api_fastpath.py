"""The fast path of POST /v1/check/hashes answers exactly like the documented FastAPI route: same
verdicts, same evidence, same errors (in-process, over httpx's ASGI transport)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from opspoor.api.app import create_app
from opspoor.api.keys import create_key
from opspoor.api.settings import Settings
from opspoor.lists.service import add_entries, create_list
from opspoor.store.db import transaction

MD5 = "0123456789abcdef0123456789abcdef"

CASES: list[tuple[str, Any, dict[str, str] | None]] = [
    ("good", {"hashes": [{"signal": "md5", "value": MD5}, {"signal": "sha1", "value": "ab" * 20}]}, None),
    ("bad hash", {"hashes": [{"signal": "md5", "value": "xyz"}]}, None),
    ("missing field", {"hashes": [{"value": MD5}]}, None),
    ("extra field", {"hashes": [{"signal": "md5", "value": MD5, "colour": 1}]}, None),
    ("not a list", {"hashes": "md5"}, None),
    ("no key", {"hashes": [{"signal": "md5", "value": MD5}]}, {"Authorization": ""}),
    ("wrong key", {"hashes": [{"signal": "md5", "value": MD5}]}, {"Authorization": "Bearer nope"}),
]


async def _answers(db: Path, fast: bool) -> list[tuple[int, Any]]:
    app = create_app(Settings(db_url=f"sqlite:///{db}", fast_path=fast))
    state = app.state.service
    state.start()
    try:
        with transaction(state.factory) as session:
            key = create_key(session, "org", ["checker"])[1]
            if fast:
                create_list(session, "l", owner_tenant="org")
                add_entries(
                    session, "l", [{"signal_type": "md5", "value": MD5, "classification": "ncmec:A1"}]
                )
        state.refresh()
        transport = httpx.ASGITransport(app=app)
        out = []
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for _name, body, headers in CASES:
                r = await client.post(
                    "/v1/check/hashes",
                    json=body,
                    headers={"Authorization": f"Bearer {key}", "X-Request-ID": "same", **(headers or {})},
                )
                assert r.headers["x-request-id"] == "same"
                out.append((r.status_code, r.json()))
            bad_json = await client.post(
                "/v1/check/hashes", content=b"{", headers={"Authorization": f"Bearer {key}"}
            )
            out.append((bad_json.status_code, bad_json.json()["error"]))
        return out
    finally:
        state.engine.dispose()


@pytest.fixture
def both(tmp_path: Path) -> tuple[list[tuple[int, Any]], list[tuple[int, Any]]]:
    db = tmp_path / "one.db"
    fast = asyncio.run(_answers(db, True))
    slow = asyncio.run(_answers(db, False))  # same database, list already there
    return fast, slow


def test_fast_path_answers_like_the_route(both) -> None:  # type: ignore[no-untyped-def]
    fast, slow = both
    assert [s for s, _ in fast] == [200, 422, 422, 422, 422, 401, 401, 422]
    assert fast[0] == slow[0]  # the same verdicts and evidence, byte for byte
    # Errors: same status, code and locations (pydantic words JSON-mode messages slightly differently).
    assert [_shape(x) for x in fast] == [_shape(x) for x in slow]
    good = fast[0][1]["results"]
    assert good[0]["verdict"] == "known" and good[0]["matches"][0]["classification"] == "ncmec:A1"
    assert good[1]["verdict"] == "unknown"


def _shape(answer: tuple[int, Any]) -> tuple[int, Any]:
    status, body = answer
    if isinstance(body, dict) and "error" in body:
        return status, (body["error"], [d["location"] for d in body["details"]])
    return status, body
