"""The analyst queue: unknown hashes whose risk reached the threshold, and the hand-off to the
hotline workflow.

The hotline consumes `pending()` (highest score first), marks an item `taken` while an analyst looks
at it, and records the decision with `decide()` (`confirmed` or `rejected`). A confirmed item marks
every host it was seen on as having carried confirmed material, which raises the risk of what is
found there later. Items are never deleted; a new scan only refreshes an item's score and parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from opspoor.scanner.errors import NotFound, ScannerError
from opspoor.scanner.risk import Scored
from opspoor.store.lists import utcnow
from opspoor.store.scanner import Host, Page, QueueItem, Sighting

DECISIONS = ("taken", "confirmed", "rejected")


def enqueue(session: Session, scan_id: int, scored: Sequence[Scored], threshold: float) -> int:
    """Queue (or refresh) every unknown hash of `scored` at or above `threshold`; returns how many
    were newly queued."""
    now = utcnow()
    added = 0
    for s in scored:
        if s.subject_kind != "hash" or s.score < threshold or any(p.name == "listed" for p in s.parts):
            continue
        parts = [asdict(p) for p in s.parts]
        item = session.execute(select(QueueItem).where(QueueItem.sha256 == s.subject)).scalar_one_or_none()
        if item is not None:
            item.score, item.parts, item.updated_at = s.score, parts, now
            continue
        # The sighting that best shows where it is: on the page with the most listed items.
        best = session.execute(
            select(Sighting)
            .join(Page, Page.id == Sighting.page_id)
            .where(Sighting.scan_id == scan_id, Sighting.sha256 == s.subject)
            .order_by(Page.matched_count.desc(), Sighting.id)
            .limit(1)
        ).scalar_one()
        session.add(
            QueueItem(
                sha256=s.subject,
                pdq=best.pdq,
                score=s.score,
                parts=parts,
                state="new",
                queued_at=now,
                updated_at=now,
                sighting_id=best.id,
                media_url=best.media_url,
                page_url=best.page_url,
                host=best.page_host,
            )
        )
        added += 1
    session.flush()
    return added


def pending(session: Session, limit: int = 100, state: str = "new") -> list[QueueItem]:
    return list(
        session.execute(
            select(QueueItem)
            .where(QueueItem.state == state)
            .order_by(QueueItem.score.desc(), QueueItem.id)
            .limit(limit)
        ).scalars()
    )


def decide(session: Session, item_id: int, state: str, actor: str, note: str | None = None) -> QueueItem:
    if state not in DECISIONS:
        raise ScannerError(f"a queue decision is one of {', '.join(DECISIONS)}, not {state!r}")
    item = session.get(QueueItem, item_id)
    if item is None:
        raise NotFound(f"no queue item with id {item_id}")
    now = utcnow()
    item.state, item.decided_by, item.note, item.updated_at = state, actor, note, now
    if state == "confirmed":
        hosts = select(Sighting.page_host).where(Sighting.sha256 == item.sha256).distinct()
        session.execute(
            update(Host)
            .where(Host.name.in_(hosts))
            .values(confirmed_at=func.coalesce(Host.confirmed_at, now))
        )
    session.flush()
    return item
