"""The few store queries the matcher needs beyond opspoor.lists.service."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opspoor.lists.rows import EntryRow
from opspoor.store.lists import Entry, HashList, ListEvent


def entries_by_id(session: Session, ids: Sequence[int]) -> Iterator[EntryRow]:
    """Details of the given entries (any state): read only for hits, so memory stays small."""
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        stmt = (
            select(
                Entry.id,
                HashList.name,
                Entry.list_id,
                Entry.signal_type,
                Entry.value,
                Entry.classification,
                Entry.source_ref,
                Entry.item_key,
                Entry.quality,
                Entry.ai_generated,
            )
            .join(HashList, HashList.id == Entry.list_id)
            .where(Entry.id.in_(chunk))
        )
        for values in session.execute(stmt):
            yield EntryRow(*values[:9], ai_generated=bool(values[9]))


def latest_list_event_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(ListEvent.id), 0))) or 0)
