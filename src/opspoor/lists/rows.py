"""Plain values that go into and come out of the hash lists, and the validation of new rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from opspoor.lists.classification import InvalidClassification, parse_classification
from opspoor.lists.errors import InvalidEntry
from opspoor.signals import InvalidSignalValue, get_signal
from opspoor.store.lists import KEY_MAX, REF_MAX, VALUE_MAX


@dataclass(frozen=True)
class NewEntry:
    """One hash to add. `classification` may carry `+ai`; it is split into the ai_generated flag."""

    signal_type: str
    value: str
    classification: str | None = None
    source_ref: str | None = None
    item_key: str | None = None
    quality: int | None = None
    ai_generated: bool = False


@dataclass(frozen=True)
class EntryRow:
    """An entry as the matcher sees it: enough to index it and to explain a match."""

    entry_id: int
    list_name: str
    list_id: int
    signal_type: str
    value: str
    classification: str | None
    source_ref: str | None
    item_key: str | None
    quality: int | None
    ai_generated: bool = False


class Change(NamedTuple):
    """One entry event for incremental index updates: (event_id, entry, action)."""

    event_id: int
    entry: EntryRow
    action: str  # added | disabled | disputed | enabled | reclassified


_FIELDS = {f for f in NewEntry.__dataclass_fields__}


def as_new_entry(row: NewEntry | Mapping[str, Any]) -> NewEntry:
    if isinstance(row, NewEntry):
        return row
    unknown = set(row) - _FIELDS
    if unknown:
        raise InvalidEntry(f"unknown field(s) {', '.join(sorted(unknown))}")
    try:
        return NewEntry(**row)
    except TypeError as exc:  # a required field missing
        raise InvalidEntry(f"missing field: {exc}") from None


def _text(value: str | None, name: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise InvalidEntry(f"{name} longer than {limit} characters")
    if any(ord(c) < 32 for c in value):
        raise InvalidEntry(f"{name} contains control characters")
    return value


def normalise(row: NewEntry | Mapping[str, Any]) -> NewEntry:
    """The canonical form of a row, or InvalidEntry saying what is wrong with it."""
    row = as_new_entry(row)
    if not isinstance(row.signal_type, str) or not isinstance(row.value, str):
        raise InvalidEntry("signal_type and value must be text")
    try:
        signal = get_signal(row.signal_type)
        value = signal.parse(row.value)
    except InvalidSignalValue as exc:
        raise InvalidEntry(str(exc)) from None
    if len(value) > VALUE_MAX:
        raise InvalidEntry(f"value longer than {VALUE_MAX} characters")
    category: str | None = None
    ai = bool(row.ai_generated)
    if row.classification is not None and row.classification.strip():
        try:
            parsed = parse_classification(row.classification)
        except InvalidClassification as exc:
            raise InvalidEntry(str(exc)) from None
        category, ai = parsed.category, ai or parsed.ai_generated
    quality = row.quality
    if quality is not None:
        if isinstance(quality, bool) or not isinstance(quality, int):
            raise InvalidEntry(f"quality must be an integer 0..100, got {quality!r}")
        if not 0 <= quality <= 100:
            raise InvalidEntry(f"quality must be 0..100, got {quality}")
    return NewEntry(
        signal_type=signal.name,
        value=value,
        classification=category,
        source_ref=_text(row.source_ref, "source_ref", REF_MAX),
        item_key=_text(row.item_key, "item_key", KEY_MAX),
        quality=quality,
        ai_generated=ai,
    )
