"""Hash list import speed: opspoor's batched import vs a plain ORM insert of the same rows.

Run by hand:

    /work/venv/bin/python benchmarks/lists_import.py --rows 100000 [--db postgresql+psycopg://...]

Both sides write the entries and one history event per entry in one transaction into a fresh list.
The baseline is what straightforward SQLAlchemy ORM code does: per row, look the value up, add the
Entry, flush to get its id, add the EntryEvent. It runs on `--baseline-rows` rows (its cost is
linear) and the ratio is of rows per second. Wall and CPU time of this process are printed (on
PostgreSQL the server's CPU is not in the CPU figure). Without --db, a temporary SQLite file is used;
with --db the database must be empty or hold no lists named bench-*.
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import select

from opspoor.lists import service
from opspoor.lists.importing import import_stream
from opspoor.lists.rows import normalise
from opspoor.store.db import open_store, transaction
from opspoor.store.lists import Entry, EntryEvent, utcnow


def _csv(rows: int, seed: int) -> str:
    rnd = random.Random(seed)
    body = "".join(f"pdq,{rnd.getrandbits(256):064x},ncmec:A1\n" for _ in range(rows))
    return "signal_type,value,classification\n" + body


def _orm_import(factory, list_name: str, text: str) -> int:  # type: ignore[no-untyped-def]
    lines = text.splitlines()[1:]
    with transaction(factory) as session:
        hash_list = service.get_list(session, list_name)
        for line in lines:
            signal_type, value, classification = line.split(",")
            row = normalise({"signal_type": signal_type, "value": value, "classification": classification})
            found = session.scalar(
                select(Entry.id).where(
                    Entry.list_id == hash_list.id,
                    Entry.signal_type == row.signal_type,
                    Entry.value == row.value,
                )
            )
            if found is not None:
                continue
            now = utcnow()
            entry = Entry(
                list_id=hash_list.id,
                signal_type=row.signal_type,
                value=row.value,
                classification=row.classification,
                ai_generated=row.ai_generated,
                state="active",
                added_at=now,
                changed_at=now,
            )
            session.add(entry)
            session.flush()
            session.add(EntryEvent(entry_id=entry.id, list_id=hash_list.id, action="added", at=now))
    return len(lines)


def _timed(fn):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=5_000)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine, factory = open_store(url)
        tag = uuid.uuid4().hex[:8]
        ours, baseline = f"bench-{tag}-ours", f"bench-{tag}-orm"
        with transaction(factory) as session:
            service.create_list(session, ours)
            service.create_list(session, baseline)
        big, small = _csv(args.rows, 1), _csv(args.baseline_rows, 2)

        def run_ours() -> int:
            with transaction(factory) as session:
                return import_stream(session, ours, io.StringIO(big), "csv").result.added

        added, wall, cpu = _timed(run_ours)
        _, b_wall, b_cpu = _timed(lambda: _orm_import(factory, baseline, small))

        def run_again() -> int:
            with transaction(factory) as session:
                return import_stream(session, ours, io.StringIO(big), "csv").result.existing

        existing, r_wall, r_cpu = _timed(run_again)

        def stream() -> int:
            with factory() as session:
                return sum(1 for _ in service.active_entries(session, [ours]))

        streamed, s_wall, s_cpu = _timed(stream)
        engine.dispose()

    print(f"database: {engine.dialect.name}")
    print(
        f"opspoor import:   {added} rows in {wall:.2f} s wall, {cpu:.2f} s CPU -> {added / wall:,.0f} rows/s"
    )
    print(
        f"ORM baseline:     {args.baseline_rows} rows in {b_wall:.2f} s wall, {b_cpu:.2f} s CPU -> "
        f"{args.baseline_rows / b_wall:,.0f} rows/s"
    )
    print(f"ratio (rows/s, wall): {(added / wall) / (args.baseline_rows / b_wall):.1f}x")
    print(f"re-import (all present): {existing} rows in {r_wall:.2f} s wall, {r_cpu:.2f} s CPU")
    print(f"active_entries stream:   {streamed} rows in {s_wall:.2f} s wall, {s_cpu:.2f} s CPU")


if __name__ == "__main__":
    main()
