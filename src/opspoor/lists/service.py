"""Hash lists: create them, add hashes, take wrong hashes out of matching, and read what is active.

Every function works inside the caller's session and never commits: wrap calls in
`opspoor.store.db.transaction(factory)`, so that a batch of changes commits together or not at all.

Lifecycle of an entry: `active` (matched) -> `disputed` (someone says it is wrong: out of matching
until reviewed) -> `disabled` (confirmed wrong: out of matching) or back to `active` (`enable`).
Entries are never deleted and every change is written to the entry's history with reason and actor,
because a false match can take down an innocent site and the record of why must survive it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from opspoor.lists.bulk import AddResult, insert_entries
from opspoor.lists.classification import InvalidClassification, parse_classification
from opspoor.lists.errors import (
    AmbiguousValue,
    ConcurrentChange,
    EntryNotFound,
    InvalidEntry,
    ListError,
    ListExists,
    ListNotFound,
)
from opspoor.lists.reading import active_entries, changes_since, latest_event_id
from opspoor.lists.rows import Change, EntryRow, NewEntry, normalise
from opspoor.signals import InvalidSignalValue, get_signal
from opspoor.store.lists import NAME_MAX, Entry, EntryEvent, HashList, ListEvent, utcnow

__all__ = [
    "AddResult",
    "Change",
    "EntryRow",
    "NewEntry",
    "active_entries",
    "add_entries",
    "changes_since",
    "create_list",
    "disable_entry",
    "dispute_entry",
    "enable_entry",
    "find_entry",
    "get_list",
    "latest_event_id",
    "list_lists",
    "log_list_event",
    "reclassify_entry",
    "set_list_enabled",
    "update_list",
]


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX or any(ord(c) < 32 for c in name):
        raise ListError(f"a list name must be 1..{NAME_MAX} printable characters, got {name[:80]!r}")
    return name


def log_list_event(
    session: Session,
    hash_list: HashList,
    action: str,
    *,
    actor: str | None = None,
    reason: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    session.add(
        ListEvent(
            list_id=hash_list.id,
            action=action,
            actor=actor,
            reason=reason,
            detail=json.dumps(dict(detail), sort_keys=True) if detail else None,
            at=utcnow(),
        )
    )


def create_list(
    session: Session,
    name: str,
    *,
    source: str | None = None,
    supplier: str | None = None,
    supplied_at: datetime | None = None,
    terms: str | None = None,
    description: str | None = None,
    owner_tenant: str | None = None,
    enabled: bool = True,
    actor: str | None = None,
) -> HashList:
    """A new, empty list. Provenance (supplier, when, terms) travels with every match it makes."""
    name = _check_name(name)
    if session.scalar(select(HashList.id).where(HashList.name == name)) is not None:
        raise ListExists(f"a list named {name!r} exists already")
    hash_list = HashList(
        name=name,
        source=source,
        supplier=supplier,
        supplied_at=supplied_at,
        terms=terms,
        description=description,
        owner_tenant=owner_tenant,
        enabled=enabled,
        created_at=utcnow(),
    )
    session.add(hash_list)
    try:
        session.flush()
    except IntegrityError:
        raise ListExists(f"a list named {name!r} exists already") from None
    log_list_event(session, hash_list, "created", actor=actor, detail={"source": source} if source else None)
    return hash_list


def get_list(session: Session, name: str) -> HashList:
    hash_list = session.scalar(select(HashList).where(HashList.name == name.strip()))
    if hash_list is None:
        known = ", ".join(list_names(session)) or "none yet"
        raise ListNotFound(f"no list named {name!r} (lists: {known})")
    return hash_list


def list_names(session: Session) -> list[str]:
    return list(session.scalars(select(HashList.name).order_by(HashList.name)))


def list_lists(session: Session, *, owner_tenant: str | None = None) -> list[HashList]:
    stmt = select(HashList).order_by(HashList.name)
    if owner_tenant is not None:
        stmt = stmt.where(HashList.owner_tenant == owner_tenant)
    return list(session.scalars(stmt))


def set_list_enabled(
    session: Session, name: str, enabled: bool, *, reason: str | None = None, actor: str | None = None
) -> HashList:
    """Switch a whole list in or out of matching (its entries keep their own states)."""
    hash_list = get_list(session, name)
    if hash_list.enabled != enabled:
        hash_list.enabled = enabled
        log_list_event(session, hash_list, "enabled" if enabled else "disabled", actor=actor, reason=reason)
        session.flush()
    return hash_list


_PROVENANCE = ("source", "supplier", "supplied_at", "terms", "description", "owner_tenant")


def update_list(
    session: Session, name: str, *, actor: str | None = None, reason: str | None = None, **changes: Any
) -> HashList:
    """Change a list's provenance fields (source, supplier, supplied_at, terms, description,
    owner_tenant); the old and new values are kept in an `updated` list event."""
    unknown = set(changes) - set(_PROVENANCE)
    if unknown:
        raise ListError(f"cannot update {', '.join(sorted(unknown))}; fields: {', '.join(_PROVENANCE)}")
    hash_list = get_list(session, name)
    diff = {
        field: {"old": _jsonable(getattr(hash_list, field)), "new": _jsonable(value)}
        for field, value in changes.items()
        if getattr(hash_list, field) != value
    }
    if diff:
        for field in diff:
            setattr(hash_list, field, changes[field])
        log_list_event(session, hash_list, "updated", actor=actor, reason=reason, detail=diff)
        session.flush()
    return hash_list


def _jsonable(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def add_entries(
    session: Session,
    list_name: str,
    rows: Iterable[NewEntry | Mapping[str, Any]],
    *,
    actor: str | None = None,
    reason: str | None = None,
) -> AddResult:
    """Add hashes to a list. Values already in the list are counted and left as they are, so a
    re-import never revives a disabled or disputed hash. A bad row raises InvalidEntry naming its
    position (0-based) and nothing of this call is written once the caller's transaction rolls back."""
    hash_list = get_list(session, list_name)
    clean: list[NewEntry] = []
    for index, row in enumerate(rows):
        try:
            clean.append(normalise(row))
        except InvalidEntry as exc:
            raise InvalidEntry(f"row {index}: {exc}") from None
    try:
        return insert_entries(session, hash_list.id, clean, actor=actor, reason=reason, now=utcnow())
    except IntegrityError as exc:
        raise ConcurrentChange(
            f"list {list_name!r} was changed by another writer at the same time; retry"
        ) from exc


def find_entry(session: Session, list_name: str, value: str, *, signal_type: str | None = None) -> Entry:
    """The entry with this value; the signal type is needed only where sha256 and pdq collide."""
    hash_list = get_list(session, list_name)
    stmt = select(Entry).where(Entry.list_id == hash_list.id)
    if signal_type is not None:
        try:
            signal = get_signal(signal_type)
            canonical = signal.parse(value)
        except InvalidSignalValue as exc:
            raise InvalidEntry(str(exc)) from None
        stmt = stmt.where(Entry.signal_type == signal.name, Entry.value == canonical)
    else:
        stmt = stmt.where(Entry.value == value.strip().lower())
    found = list(session.scalars(stmt))
    if not found:
        raise EntryNotFound(f"{value.strip()[:80]!r} is not in list {list_name!r}")
    if len(found) > 1:
        types = ", ".join(sorted(e.signal_type for e in found))
        raise AmbiguousValue(f"{value.strip()[:80]!r} is in {list_name!r} as {types}; give the signal type")
    return found[0]


def _log_entry_event(
    session: Session, entry: Entry, action: str, reason: str | None, actor: str | None, detail: str | None
) -> None:
    session.add(
        EntryEvent(
            entry_id=entry.id,
            list_id=entry.list_id,
            action=action,
            reason=reason,
            actor=actor,
            detail=detail,
            at=entry.changed_at,
        )
    )


def _set_state(
    session: Session,
    list_name: str,
    value: str,
    state: str,
    action: str,
    reason: str,
    actor: str | None,
    signal_type: str | None,
) -> Entry:
    if not reason or not reason.strip():
        raise ListError(f"a reason is required to mark an entry {state}")
    entry = find_entry(session, list_name, value, signal_type=signal_type)
    if entry.state == state:
        return entry  # already so: nothing changes, nothing to record
    detail = f"{entry.state} -> {state}"
    entry.state = state
    entry.reason = reason.strip()
    entry.changed_at = utcnow()
    _log_entry_event(session, entry, action, entry.reason, actor, detail)
    session.flush()
    return entry


def disable_entry(
    session: Session,
    list_name: str,
    value: str,
    reason: str,
    actor: str | None = None,
    signal_type: str | None = None,
) -> Entry:
    """Take a hash out of matching for good (e.g. a confirmed false positive); history is kept."""
    return _set_state(session, list_name, value, "disabled", "disabled", reason, actor, signal_type)


def dispute_entry(
    session: Session,
    list_name: str,
    value: str,
    reason: str,
    actor: str | None = None,
    signal_type: str | None = None,
) -> Entry:
    """Take a hash out of matching while a complaint about it is reviewed."""
    return _set_state(session, list_name, value, "disputed", "disputed", reason, actor, signal_type)


def enable_entry(
    session: Session,
    list_name: str,
    value: str,
    reason: str,
    actor: str | None = None,
    signal_type: str | None = None,
) -> Entry:
    """Put a disabled or disputed hash back into matching."""
    return _set_state(session, list_name, value, "active", "enabled", reason, actor, signal_type)


def reclassify_entry(
    session: Session,
    list_name: str,
    value: str,
    classification: str | None,
    reason: str,
    actor: str | None = None,
    signal_type: str | None = None,
) -> Entry:
    """Change an entry's classification (None clears it); the old one stays in the history."""
    if not reason or not reason.strip():
        raise ListError("a reason is required to reclassify an entry")
    category, ai = None, False
    if classification:
        try:
            parsed = parse_classification(classification)
        except InvalidClassification as exc:
            raise InvalidEntry(str(exc)) from None
        category, ai = parsed.category, parsed.ai_generated
    entry = find_entry(session, list_name, value, signal_type=signal_type)
    old = f"{entry.classification or '-'}{'+ai' if entry.ai_generated else ''}"
    new = f"{category or '-'}{'+ai' if ai else ''}"
    if old == new:
        return entry
    entry.classification, entry.ai_generated = category, ai
    entry.changed_at = utcnow()
    _log_entry_event(session, entry, "reclassified", reason.strip(), actor, f"{old} -> {new}")
    session.flush()
    return entry
