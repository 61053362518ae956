"""A process killed in the middle of an import (SIGKILL: no cleanup at all) leaves the database as it
was, on SQLite and PostgreSQL, and the next import works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from opspoor.lists import service
from opspoor.lists.importing import import_stream
from opspoor.lists.rows import NewEntry
from opspoor.store.db import make_engine, migrate, session_factory, transaction
from opspoor.store.lists import Entry, EntryEvent, HashList, ListEvent

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

# Runs the import in a child process; prints after every batch so the test can kill it mid-way.
CHILD = """
import sys
from opspoor.lists.importing import import_stream
from opspoor.store.db import make_engine, session_factory, transaction

engine = make_engine(sys.argv[1])
factory = session_factory(engine)
with open(sys.argv[2], encoding="utf-8") as stream, transaction(factory) as session:
    def progress(rows):
        print("batch", rows, flush=True)
    import_stream(session, "big", stream, "csv", batch=2000, progress=progress, source="big.csv")
print("committed", flush=True)
"""


def _snapshot(factory) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(m)) or 0)
            for m in (HashList, Entry, EntryEvent, ListEvent)
        )


def test_killed_import_leaves_the_database_as_it_was(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    factory = session_factory(engine)
    try:
        with transaction(factory) as session:
            service.create_list(session, "big")
            service.add_entries(session, "big", [NewEntry("md5", f"{i:032x}") for i in range(10)])
        before = _snapshot(factory)
        path = tmp_path / "big.csv"
        with path.open("w", encoding="utf-8") as out:
            out.write("signal_type,value,classification\n")
            out.writelines(f"pdq,{i:064x},iwf:C\n" for i in range(30_000))

        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, db_url, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert child.stdout is not None
        try:
            first = child.stdout.readline()  # the first batch is written, uncommitted
            assert first.startswith("batch"), first
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(timeout=60)
            child.stdout.close()
        assert child.returncode == -signal.SIGKILL

        assert _snapshot(factory) == before
        # The store still works: the lock of the dead writer is gone and an import commits.
        deadline = time.monotonic() + 30
        while True:
            try:
                with path.open(encoding="utf-8") as stream, transaction(factory) as session:
                    report = import_stream(session, "big", stream, "csv", batch=10_000)
                break
            except Exception:  # noqa: BLE001 - PostgreSQL may take a moment to notice the dead client
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert report.result.added == 30_000
        assert _snapshot(factory)[1] == before[1] + 30_000
    finally:
        engine.dispose()
