"""The OpenAPI spec: the committed docs/openapi.json is what the server serves, and schemathesis,
generating requests from the served spec against a real server, never gets a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from opspoor.api.app import create_app
from opspoor.api.settings import Settings
from opspoor.api.spec import render
from opspoor.lists.service import add_entries, create_list
from opspoor.store.db import open_store, transaction
from service_server import make_keys, start_server

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def test_committed_spec_is_the_app_spec() -> None:
    assert COMMITTED.is_file(), "run: python -m opspoor.api.spec docs/openapi.json"
    spec = create_app(Settings()).openapi()
    assert render(spec) == COMMITTED.read_text(), (
        "docs/openapi.json is stale; regenerate: python -m opspoor.api.spec docs/openapi.json"
    )


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "home").mkdir()
    (root / "tmp").mkdir()
    db_url = f"sqlite:///{root / 'home' / 'opspoor.db'}"
    key = make_keys(db_url, {"admin": ("fuzz", ("admin",))})["admin"]
    engine, factory = open_store(db_url)
    with transaction(factory) as session:
        create_list(session, "fuzz-list", owner_tenant="fuzz")
        add_entries(session, "fuzz-list", [{"signal_type": "md5", "value": "0" * 32}])
    engine.dispose()
    env = {"OPSPOOR_API_RATE_PER_SECOND": "100000", "OPSPOOR_API_RATE_BURST": "100000"}
    server = start_server(db_url, root / "home", root / "tmp", root / "server.log", env)
    try:
        yield server.url, key
    finally:
        server.stop()


def test_served_spec_is_the_committed_spec(fuzz_target: tuple[str, str]) -> None:
    url, _ = fuzz_target
    served = httpx.get(f"{url}/openapi.json").json()
    assert json.loads(COMMITTED.read_text()) == served


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_server_error(fuzz_target: tuple[str, str], mode: GenerationMode) -> None:
    url, key = fuzz_target
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    # /v1/check/url would send generated URLs to the internet (and DNS); its errors are tested by hand.
    schema = schema.exclude(path="/v1/check/url")
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(mode))
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
                )

        try:
            run()
        except Unsatisfiable:  # nothing to make invalid (e.g. /v1/health takes no input)
            continue
    assert not failures, failures[:10]
