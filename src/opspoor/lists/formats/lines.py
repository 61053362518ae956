"""Plain lists: one hash per line, as national lists and `md5sum`-style tools hand them out.

The signal type comes from the caller (`--signal`), as a bare hash does not say what it is (a
64-hex value may be SHA-256 or PDQ). Blank lines and lines starting with `#` are skipped; any other
line must be exactly one hash (leading and trailing spaces aside).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TextIO

from opspoor.lists.errors import RowProblem
from opspoor.lists.formats.records import ExportRow, Item, Record, is_comment
from opspoor.lists.rows import NewEntry


def read(stream: TextIO, signal: str | None = None) -> Iterator[Item]:
    if not signal:
        yield RowProblem(1, "a one-hash-per-line file needs the signal type (--signal md5|sha1|sha256|pdq)")
        return
    for line, text in enumerate(stream, start=1):
        if line == 1:
            text = text.removeprefix("\ufeff")
        if is_comment(text):
            continue
        value = text.strip()
        if len(value.split()) != 1:
            yield RowProblem(line, f"expected one hash per line, got {value[:80]!r}")
            continue
        yield Record(line, NewEntry(signal_type=signal, value=value))


def write(rows: Iterable[ExportRow], out: TextIO, list_name: str, with_state: bool) -> int:
    """One value per line. Types are not written, so export one signal type per file."""
    del list_name, with_state
    count = 0
    for r in rows:
        out.write(f"{r.value}\n")
        count += 1
    return count
