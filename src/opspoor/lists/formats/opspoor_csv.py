"""opspoor's own CSV: a header row, then one hash per row.

Header: `signal_type,value` followed by any of `classification, source_ref, item_key, quality,
ai_generated, state, reason, added_at`, in any order. Columns outside this set are rejected rather
than ignored, because a misspelt `clasification` column would otherwise drop every row's
classification without a word. Blank rows and rows whose first cell starts with `#` are skipped.
`state` and `reason` (written by `export --all`) carry a disabled or disputed state over to the list
imported into, so a copy never revives a hash that was taken out of matching. `added_at` is
informational and ignored on import.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import TextIO

from opspoor.lists.errors import RowProblem
from opspoor.lists.formats.records import ExportRow, Item, Record, parse_bool
from opspoor.lists.rows import NewEntry
from opspoor.store.lists import ENTRY_STATES

REQUIRED = ("signal_type", "value")
OPTIONAL = (
    "classification",
    "source_ref",
    "item_key",
    "quality",
    "ai_generated",
    "state",
    "reason",
    "added_at",
)
EXPORT_COLUMNS = ("signal_type", "value", "classification", "source_ref", "item_key", "quality")
EXPORT_ALL_COLUMNS = (*EXPORT_COLUMNS, "state", "reason", "added_at")


def _header(row: list[str], line: int) -> list[str] | RowProblem:
    names = [c.strip().lower() for c in row]
    if names and names[0].startswith("\ufeff"):
        names[0] = names[0][1:]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        return RowProblem(line, f"header must start the file and name {', '.join(REQUIRED)}; got {row[:8]}")
    unknown = [c for c in names if c not in REQUIRED + OPTIONAL]
    if unknown:
        allowed = ", ".join(REQUIRED + OPTIONAL)
        return RowProblem(line, f"unknown column(s) {', '.join(map(repr, unknown))}; allowed: {allowed}")
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        return RowProblem(line, f"column(s) named twice: {', '.join(dupes)}")
    return names


def read(stream: TextIO, signal: str | None = None) -> Iterator[Item]:
    """Rows of an opspoor CSV; `signal` (if given) fills rows whose signal_type cell is empty."""
    reader = csv.reader(stream, strict=True)
    names: list[str] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield RowProblem(reader.line_num, f"malformed CSV: {exc}")
            return  # the reader cannot resynchronise after a broken quote
        line = reader.line_num
        if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if names is None:
            header = _header(row, line)
            if isinstance(header, RowProblem):
                yield header
                return
            names = header
            continue
        if len(row) != len(names):
            yield RowProblem(line, f"expected {len(names)} fields, got {len(row)}")
            continue
        yield _record(dict(zip(names, row, strict=True)), line, signal)
    if names is None:
        yield RowProblem(1, f"empty file: expected a header naming {', '.join(REQUIRED)}")


def _record(cells: dict[str, str], line: int, signal: str | None) -> Item:
    try:
        quality_text = cells.get("quality", "").strip()
        quality = int(quality_text) if quality_text else None
    except ValueError:
        return RowProblem(line, f"quality must be an integer, got {cells['quality'][:40]!r}")
    try:
        ai = parse_bool(cells.get("ai_generated", ""))
    except ValueError as exc:
        return RowProblem(line, f"ai_generated: {exc}")
    state = cells.get("state", "").strip().lower() or "active"
    if state not in ENTRY_STATES:
        return RowProblem(line, f"state must be one of {', '.join(ENTRY_STATES)}, got {state[:40]!r}")
    reason = cells.get("reason", "").strip() or None
    if state != "active" and not reason:
        return RowProblem(line, f"a {state} row needs a reason")
    entry = NewEntry(
        signal_type=cells["signal_type"].strip() or (signal or ""),
        value=cells["value"],
        classification=cells.get("classification") or None,
        source_ref=cells.get("source_ref") or None,
        item_key=cells.get("item_key") or None,
        quality=quality,
        ai_generated=ai,
    )
    return Record(line, entry, state, reason)


def write(rows: Iterable[ExportRow], out: TextIO, list_name: str, with_state: bool) -> int:
    del list_name  # the file holds one list; its name is the caller's to keep
    columns = EXPORT_ALL_COLUMNS if with_state else EXPORT_COLUMNS
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for r in rows:
        cells = [r.signal_type, r.value, r.classification or "", r.source_ref or "", r.item_key or ""]
        cells.append("" if r.quality is None else str(r.quality))
        if with_state:
            cells += [r.state, r.reason or "", r.added_at.isoformat(timespec="seconds") + "Z"]
        writer.writerow(cells)
        count += 1
    return count
