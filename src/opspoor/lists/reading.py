"""The read side of the lists for matchers: active entries, and the changes since an event.

Re-exported by opspoor.lists.service, where callers find them next to the write side.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from opspoor.lists.rows import Change, EntryRow
from opspoor.store.lists import Entry, EntryEvent, HashList


def _rows_select() -> Select[*tuple[Any, ...]]:
    return select(
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
    ).join(HashList, HashList.id == Entry.list_id)


def _row(values: Sequence[Any]) -> EntryRow:
    entry_id, list_name, list_id, signal_type, value, classification, source_ref, item_key, quality, ai = (
        values
    )
    return EntryRow(
        entry_id,
        list_name,
        list_id,
        signal_type,
        value,
        classification,
        source_ref,
        item_key,
        quality,
        bool(ai),
    )


def active_entries(
    session: Session, list_names: Sequence[str] | None = None, *, batch: int = 20_000
) -> Iterator[EntryRow]:
    """Every entry that should match: state active, in an enabled list (optionally only the named
    lists), in entry id order. Streams in batches, so a matcher can load millions of entries."""
    stmt = _rows_select().where(Entry.state == "active", HashList.enabled.is_(True)).order_by(Entry.id)
    if list_names is not None:
        stmt = stmt.where(HashList.name.in_(list(list_names)))
    for values in session.execute(stmt.execution_options(yield_per=batch)):
        yield _row(values)


def latest_event_id(session: Session) -> int:
    """The newest entry event id (0 if none): where a matcher that just loaded everything starts."""
    return int(session.scalar(select(func.coalesce(func.max(EntryEvent.id), 0))) or 0)


def changes_since(
    session: Session,
    event_id: int,
    list_names: Sequence[str] | None = None,
    *,
    limit: int | None = None,
) -> list[Change]:
    """Entry events with id > event_id, oldest first, as (event_id, EntryRow, action), for
    incremental index updates. The EntryRow shows the entry as it is now; apply the actions in order
    (added/enabled: index it; disabled/disputed: remove it; reclassified: update its metadata).
    Events of disabled lists are left out; a list switched on or off shows up as a ListEvent
    (see opspoor.lists.feed.list_changes_since) after which the matcher reloads or drops that list.

    Commit-order caveat (PostgreSQL): ids are handed out when a row is inserted, not when its
    transaction commits. A long import may hold ids 100..200 uncommitted while a quick disable with
    id 201 commits first; a reader that saw 201 and moved its cursor past it would never see
    100..200. So do not advance a cursor blindly past gaps: re-read a window below it (pass an
    older event_id again) and skip ids already applied - opspoor.lists.feed.ChangeFeed does that.
    SQLite serialises writers, so ids there commit in order.
    """
    stmt = (
        _rows_select()
        .add_columns(EntryEvent.id, EntryEvent.action)
        .join(EntryEvent, EntryEvent.entry_id == Entry.id)
        .where(EntryEvent.id > event_id, HashList.enabled.is_(True))
        .order_by(EntryEvent.id)
    )
    if list_names is not None:
        stmt = stmt.where(HashList.name.in_(list(list_names)))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [Change(int(v[10]), _row(v[:10]), v[11]) for v in session.execute(stmt)]


def entries_by_id(session: Session, ids: Sequence[int]) -> Iterator[EntryRow]:
    """Details of the given entries in any state: a matcher reads them for its hits only, so its
    memory stays near its indexes' own however large the lists grow."""
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        for values in session.execute(_rows_select().where(Entry.id.in_(chunk))):
            yield _row(values)


def latest_list_event_id(session: Session) -> int:
    """The newest list-level event id (0 if none): where a matcher's watch for list changes starts."""
    from opspoor.store.lists import ListEvent

    return int(session.scalar(select(func.coalesce(func.max(ListEvent.id), 0))) or 0)
