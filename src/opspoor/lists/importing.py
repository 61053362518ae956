"""Import a list file all or nothing, and export a list.

An import runs in the caller's transaction: it writes in batches as it reads (so memory stays flat
for millions of rows), and at the first bad row it stops writing but keeps reading, to report every
bad row with its line number (up to MAX_PROBLEMS); then it raises ImportRejected and the caller's
transaction rolls back. A process killed mid-import never commits, so the database stays as it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from opspoor.lists.bulk import AddResult, insert_entries
from opspoor.lists.errors import ConcurrentChange, ImportRejected, InvalidEntry, RowProblem
from opspoor.lists.formats.records import ExportRow, Record, Skipped
from opspoor.lists.formats.registry import get_format
from opspoor.lists.rows import NewEntry, normalise
from opspoor.lists.service import get_list, log_list_event
from opspoor.store.lists import Entry, utcnow

MAX_PROBLEMS = 100
BATCH = 5_000


@dataclass
class ImportReport:
    source: str
    format: str
    rows: int = 0  # hash rows read (valid ones)
    result: AddResult = field(default_factory=AddResult)
    skipped: Counter[str] = field(default_factory=Counter)  # well-formed rows not taken, by why

    def as_detail(self) -> dict[str, object]:
        return {
            "source": self.source,
            "format": self.format,
            "rows": self.rows,
            "added": self.result.added,
            "existing": self.result.existing,
            "duplicates": self.result.duplicates,
            "skipped": dict(self.skipped),
        }


def import_stream(
    session: Session,
    list_name: str,
    stream: TextIO,
    fmt: str = "csv",
    *,
    signal: str | None = None,
    classification: str | None = None,
    actor: str | None = None,
    source: str = "<stream>",
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Read `stream` in format `fmt` into the list. `signal` gives the type for formats without one;
    `classification` is applied to rows that carry none. Raises ImportRejected on bad rows."""
    reader, _ = get_format(fmt)
    hash_list = get_list(session, list_name)
    report = ImportReport(source=source, format=fmt)
    problems: list[RowProblem] = []
    capped = False
    pending: list[NewEntry] = []
    states: dict[tuple[str, str], tuple[str, str]] = {}
    now = utcnow()

    def flush() -> None:
        try:
            added = insert_entries(
                session,
                hash_list.id,
                pending,
                actor=actor,
                reason=f"import of {source}",
                now=now,
                states=states,
            )
        except IntegrityError as exc:
            raise ConcurrentChange(f"list {list_name!r} was changed by another writer; retry") from exc
        report.result.merge(added)
        pending.clear()
        states.clear()
        if progress is not None:
            progress(report.rows)

    for item in reader(stream, signal):
        if isinstance(item, Skipped):
            report.skipped[item.why] += 1
            continue
        if isinstance(item, RowProblem):
            problems.append(item)
        else:
            problem = _accept(item, classification, pending, states)
            if problem is not None:
                problems.append(problem)
            else:
                report.rows += 1
        if len(problems) >= MAX_PROBLEMS:
            capped = True
            break
        if problems:
            pending.clear()  # nothing more is written; keep reading to report every bad row
        elif len(pending) >= batch:
            flush()
    if problems:
        raise ImportRejected(source, problems, capped)
    if pending:
        flush()
    log_list_event(session, hash_list, "imported", actor=actor, detail=report.as_detail())
    session.flush()
    return report


def _accept(
    record: Record,
    classification: str | None,
    pending: list[NewEntry],
    states: dict[tuple[str, str], tuple[str, str]],
) -> RowProblem | None:
    entry = record.entry
    if classification and not (entry.classification or "").strip():
        entry = replace(entry, classification=classification)
    try:
        clean = normalise(entry)
    except InvalidEntry as exc:
        return RowProblem(record.line, str(exc))
    pending.append(clean)
    if record.state != "active":
        states[(clean.signal_type, clean.value)] = (record.state, record.reason or "")
    return None


def export_rows(
    session: Session, list_name: str, *, include_all: bool = False, signal: str | None = None
) -> Iterator[ExportRow]:
    """The list's entries in the order they were added: active ones, or all with their state."""
    hash_list = get_list(session, list_name)
    stmt = select(Entry).where(Entry.list_id == hash_list.id).order_by(Entry.id)
    if not include_all:
        stmt = stmt.where(Entry.state == "active")
    if signal is not None:
        stmt = stmt.where(Entry.signal_type == signal)
    for entry in session.scalars(stmt.execution_options(yield_per=10_000)):
        classification = entry.classification
        if entry.ai_generated:
            classification = f"{classification}+ai" if classification else "ai"
        yield ExportRow(
            signal_type=entry.signal_type,
            value=entry.value,
            classification=classification,
            source_ref=entry.source_ref,
            item_key=entry.item_key,
            quality=entry.quality,
            state=entry.state,
            reason=entry.reason,
            added_at=entry.added_at,
        )


def export_stream(
    session: Session,
    list_name: str,
    out: TextIO,
    fmt: str = "csv",
    *,
    include_all: bool = False,
    signal: str | None = None,
) -> int:
    """Write the list to `out`; returns the number of entries written."""
    _, writer = get_format(fmt)
    rows = export_rows(session, list_name, include_all=include_all, signal=signal)
    return writer(rows, out, list_name, include_all)
