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
_CHUNK = 500  # values per IN (...) query, well under SQLite's parameter limit


def enqueue(session: Session, scan_id: int, scored: Sequence[Scored], threshold: float) -> int:
    """Queue (or refresh) every unknown hash of `scored` at or above `threshold`; returns how many
    were newly queued."""
    now = utcnow()
    wanted = {
        s.subject: s
        for s in scored
        if s.subject_kind == "hash" and s.score >= threshold and not any(p.name == "listed" for p in s.parts)
    }
    hashes = sorted(wanted)
    existing: dict[str, QueueItem] = {}
    best: dict[str, Sighting] = {}
    for i in range(0, len(hashes), _CHUNK):
        chunk = hashes[i : i + _CHUNK]
        for item in session.execute(select(QueueItem).where(QueueItem.sha256.in_(chunk))).scalars():
            existing[item.sha256] = item
        # The sighting that best shows where it is: on the page with the most listed items.
        rows = session.execute(
            select(Sighting)
            .join(Page, Page.id == Sighting.page_id)
            .where(Sighting.scan_id == scan_id, Sighting.sha256.in_(chunk))
            .order_by(Page.matched_count.desc(), Sighting.id)
        ).scalars()
        for sighting in rows:
            best.setdefault(str(sighting.sha256), sighting)
    added = 0
    for sha256 in hashes:
        s, parts = wanted[sha256], [asdict(p) for p in wanted[sha256].parts]
        item = existing.get(sha256)
        if item is not None:
            item.score, item.parts, item.updated_at = s.score, parts, now
            continue
        where = best[sha256]
        session.add(
            QueueItem(
                sha256=sha256, pdq=where.pdq, score=s.score, parts=parts, state="new", queued_at=now,
                updated_at=now, sighting_id=where.id, media_url=where.media_url, page_url=where.page_url,
                host=where.page_host,
            )
        )  # fmt: skip
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
