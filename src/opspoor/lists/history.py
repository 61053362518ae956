"""Read-only views of the lists for people: counts per list, and the history of lists and entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opspoor.lists.service import find_entry, get_list
from opspoor.store.lists import Entry, EntryEvent, HashList, ListEvent


@dataclass
class ListSummary:
    name: str
    enabled: bool
    source: str | None
    supplier: str | None
    supplied_at: datetime | None
    terms: str | None
    description: str | None
    owner_tenant: str | None
    created_at: datetime
    # (signal_type, state) -> count
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def total(self, state: str | None = None) -> int:
        return sum(n for (_, s), n in self.counts.items() if state is None or s == state)


@dataclass(frozen=True)
class HistoryRow:
    event_id: int
    at: datetime
    action: str
    signal_type: str | None  # None for list-level events
    value: str | None
    reason: str | None
    actor: str | None
    detail: str | None


def summaries(session: Session, names: Sequence[str] | None = None) -> list[ListSummary]:
    """Every list (or the named ones) with its provenance and entry counts per signal and state."""
    stmt = select(HashList).order_by(HashList.name)
    if names is not None:
        for name in names:
            get_list(session, name)  # a clear error for a wrong name
        stmt = stmt.where(HashList.name.in_(list(names)))
    out: dict[int, ListSummary] = {}
    for h in session.scalars(stmt):
        out[h.id] = ListSummary(
            h.name,
            h.enabled,
            h.source,
            h.supplier,
            h.supplied_at,
            h.terms,
            h.description,
            h.owner_tenant,
            h.created_at,
        )
    counts = select(Entry.list_id, Entry.signal_type, Entry.state, func.count()).group_by(
        Entry.list_id, Entry.signal_type, Entry.state
    )
    for list_id, signal_type, state, n in session.execute(counts):
        if list_id in out:
            out[list_id].counts[(signal_type, state)] = int(n)
    return list(out.values())


def entry_history(
    session: Session,
    list_name: str,
    value: str | None = None,
    *,
    signal_type: str | None = None,
    limit: int | None = 200,
) -> list[HistoryRow]:
    """Entry events of a list, newest first; with `value`, the whole history of that one entry."""
    hash_list = get_list(session, list_name)
    stmt = (
        select(
            EntryEvent.id,
            EntryEvent.at,
            EntryEvent.action,
            Entry.signal_type,
            Entry.value,
            EntryEvent.reason,
            EntryEvent.actor,
            EntryEvent.detail,
        )
        .join(Entry, Entry.id == EntryEvent.entry_id)
        .where(EntryEvent.list_id == hash_list.id)
        .order_by(EntryEvent.id.desc())
    )
    if value is not None:
        entry = find_entry(session, list_name, value, signal_type=signal_type)
        stmt = stmt.where(EntryEvent.entry_id == entry.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [HistoryRow(*row) for row in session.execute(stmt)]


def list_history(session: Session, list_name: str) -> list[HistoryRow]:
    """List-level events (created, enabled/disabled, imports with counts), newest first."""
    hash_list = get_list(session, list_name)
    stmt = (
        select(
            ListEvent.id, ListEvent.at, ListEvent.action, ListEvent.reason, ListEvent.actor, ListEvent.detail
        )
        .where(ListEvent.list_id == hash_list.id)
        .order_by(ListEvent.id.desc())
    )
    return [
        HistoryRow(i, at, action, None, None, reason, actor, detail)
        for i, at, action, reason, actor, detail in session.execute(stmt)
    ]
