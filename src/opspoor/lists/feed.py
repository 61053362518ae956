"""Follow the lists' changes without missing any, for matchers that update their indexes in place.

Event ids come from a sequence handed out at insert time, but transactions commit in their own order
(PostgreSQL): a reader can see id 201 before 100..200 of a long import become visible. ChangeFeed
keeps a low-water mark below which every id has been seen, remembers the ids it has seen above it,
and re-reads from the mark each poll, so a late commit is picked up. A gap that stays open longer
than `gap_timeout` seconds is taken to be a rolled-back transaction (its ids are never used again)
and the mark moves past it.

An import longer than gap_timeout is still not lost to a matcher that also follows list events:
import_stream writes its `imported` ListEvent last, just before its commit, so that event's id is
not held back for long, and it tells the matcher to reload the list.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from opspoor.lists.rows import Change
from opspoor.lists.service import changes_since, latest_event_id
from opspoor.store.lists import EntryEvent, HashList, ListEvent


class ListChange(NamedTuple):
    event_id: int
    list_name: str
    action: str  # created | enabled | disabled | imported | updated


def list_changes_since(session: Session, event_id: int) -> list[ListChange]:
    """List-level events after event_id, oldest first (a matcher reloads or drops such lists)."""
    stmt = (
        select(ListEvent.id, HashList.name, ListEvent.action)
        .join(HashList, HashList.id == ListEvent.list_id)
        .where(ListEvent.id > event_id)
        .order_by(ListEvent.id)
    )
    return [ListChange(int(i), n, a) for i, n, a in session.execute(stmt)]


@dataclass
class ChangeFeed:
    """Changes not yet delivered, each exactly once, across polls. Not thread-safe."""

    low_water: int = 0  # every event id <= low_water has been delivered or given up
    list_names: Sequence[str] | None = None
    gap_timeout: float = 600.0
    clock: Callable[[], float] = time.monotonic
    _seen: set[int] = field(default_factory=set)
    _gap_since: dict[int, float] = field(default_factory=dict)

    @classmethod
    def starting_now(cls, session: Session, **kwargs: object) -> ChangeFeed:
        """A feed that starts after the newest event, for a matcher that just loaded everything.
        (An uncommitted import's ids below that point are then reached by the gap logic only if
        they are above the mark; load the lists after calling this to be safe.)"""
        return cls(low_water=latest_event_id(session), **kwargs)  # type: ignore[arg-type]

    def poll(self, session: Session) -> list[Change]:
        # Read the raw ids first: anything committed by then is also visible to the second query
        # (commits only add rows), so no id is marked seen without having been delivered.
        raw = set(session.scalars(select(EntryEvent.id).where(EntryEvent.id > self.low_water)))
        changes = changes_since(session, self.low_water, self.list_names)
        fresh = [c for c in changes if c.event_id not in self._seen]
        # Events left out by changes_since (other or disabled lists) count as delivered.
        self._seen.update(c.event_id for c in fresh)
        self._seen.update(raw)
        self._advance()
        return fresh

    def _advance(self) -> None:
        now = self.clock()
        mark = self.low_water
        top = max(self._seen, default=mark)
        while mark < top:
            nxt = mark + 1
            if nxt in self._seen:
                self._seen.discard(nxt)
                self._gap_since.pop(nxt, None)
                mark = nxt
                continue
            started = self._gap_since.setdefault(nxt, now)
            if now - started < self.gap_timeout:
                break
            # Given up: a rolled-back transaction's ids. Every missing id below the next seen one
            # was handed out before it, so they are all as old as this one: skip them together.
            self._gap_since.pop(nxt, None)
            mark = min(i for i in self._seen if i > nxt) - 1
        self.low_water = mark
