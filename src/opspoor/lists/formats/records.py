"""What format readers yield and writers take, so every format plugs into one import and export."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from opspoor.lists.errors import RowProblem
from opspoor.lists.rows import NewEntry


@dataclass(frozen=True)
class Record:
    """One row read: a hash to add, at `line`, with the state an exported list gave it."""

    line: int
    entry: NewEntry
    state: str = "active"
    reason: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A well-formed row opspoor does not take (e.g. a ThreatExchange URL signal); counted by `why`."""

    line: int
    why: str


@dataclass(frozen=True)
class ExportRow:
    signal_type: str
    value: str
    classification: str | None  # with +ai where AI-generated
    source_ref: str | None
    item_key: str | None
    quality: int | None
    state: str
    reason: str | None
    added_at: datetime


Item = Record | Skipped | RowProblem
Reader = Callable[[TextIO, str | None], Iterator[Item]]
Writer = Callable[[Iterable[ExportRow], TextIO, str, bool], int]


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "y", "t"):
        return True
    if value in ("", "0", "false", "no", "n", "f"):
        return False
    raise ValueError(f"expected true or false, got {text[:40]!r}")


def is_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")
