"""Shared fixtures: the benign test data, and fresh databases on SQLite and the real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = Path(os.environ.get("OPSPOOR_TESTDATA", ROOT.parent / "shared" / "testdata"))
PG_ADMIN_URL = os.environ.get("OPSPOOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def testdata() -> Path:
    """../shared/testdata; tests that need it skip on a user's clone without it (CI requires it)."""
    if not TESTDATA.is_dir():
        pytest.skip(f"benign test data not found at {TESTDATA} (see README: Test data)")
    return TESTDATA


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means: no server to test against
        return False


@pytest.fixture(scope="session")
def pg_server() -> str:
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required in CI and is not reachable")
        pytest.skip("PostgreSQL at 127.0.0.1:5432 not reachable")
    return PG_ADMIN_URL


def _fresh_pg_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"opspoor_t_{uuid.uuid4().hex[:12]}"
    plain = admin_url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        from sqlalchemy.pool import NullPool  # noqa: F401 - engines in tests must be disposed first

        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, once on SQLite and once on the real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'opspoor.db'}"
        return
    admin = request.getfixturevalue("pg_server")
    yield from _fresh_pg_database(admin)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's default database and files out of the real user data directory."""
    home = tmp_path_factory.mktemp("opspoor-home")
    monkeypatch.setenv("OPSPOOR_HOME", str(home))
    monkeypatch.delenv("OPSPOOR_DATABASE_URL", raising=False)
