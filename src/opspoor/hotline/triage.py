"""Triage of a reported URL: fetch it once (hardened fetcher), hash it in memory, match it against
every active list, and route it.

- known (a cryptographic hash is on a list), or a hash the hotline already decided: classified from
  that decision and never shown to an analyst (as INHOPE's ICCAM never re-shows an assessed item);
  its bytes are not kept.
- near (a perceptual match) or unknown: into the review queue, ranked by risk, with an encrypted
  copy of the media for the analysts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from opspoor import audit
from opspoor.hotline import review
from opspoor.hotline.service import fetch_media
from opspoor.net.fetch import FetchError
from opspoor.signals.compute import check_signals
from opspoor.signals.pdq import PDQ_MATCH_THRESHOLD
from opspoor.store.db import transaction
from opspoor.store.hotline import Item

if TYPE_CHECKING:
    from opspoor.hotline.service import Hotline

# A perceptual match within the PDQ threshold (31, Meta's pdq README) adds up to 60 risk points,
# more the closer it is, so near-duplicates of listed material come first in the queue.
NEAR_POINTS = 30.0


def _fail(hl: Hotline, item_id: int, error: str) -> None:
    with transaction(hl.factory) as session:
        item = session.get(Item, item_id)
        if item is not None:
            item.state, item.error, item.triaged_at = "failed", error[:1000], hl.now()
            audit.log(session, "hotline", "hotline.triage", f"item:{item_id}", {"failed": error[:200]})


def triage_item(hl: Hotline, item_id: int) -> None:
    with hl.factory() as session:
        item = session.get(Item, item_id)
        if item is None or item.state != "new":
            return
        url = item.url
    try:
        fetched = fetch_media(hl.settings, url)
    except FetchError as exc:
        _fail(hl, item_id, f"could not fetch: {exc}")
        return
    if fetched.status >= 400:
        _fail(hl, item_id, f"HTTP {fetched.status} when fetched")
        return
    matcher = hl.matcher()
    signals = check_signals(fetched.content, robust=matcher.has_robust)
    if signals.error or not signals.sha256:
        _fail(hl, item_id, f"not media that can be hashed: {signals.error or signals.kind}")
        return
    verdict = matcher.match_file(signals)
    country = hl.country_lookup(item.host, fetched.ip)
    now = hl.now()
    with transaction(hl.factory) as session:
        item = session.get(Item, item_id)
        assert item is not None
        item.ip, item.country = fetched.ip, country
        item.kind, item.content_type = signals.kind, fetched.headers.get("content-type")
        item.md5, item.sha1, item.sha256 = signals.md5, signals.sha1, signals.sha256
        item.pdq, item.pdq_quality = signals.pdq, signals.pdq_quality
        item.verdict, item.triaged_at = verdict.verdict, now
        item.matches = [m.as_dict() for m in verdict.matches]
        details: dict[str, object] = {
            "verdict": verdict.verdict,
            "sha256": signals.sha256,
            "country": country,
        }
        if verdict.verdict == "known":
            listed = next((m for m in verdict.matches if m.classification), verdict.matches[0])
            audit.log(session, "hotline", "hotline.triage", f"item:{item_id}", details)
            review.decide(hl, session, item, listed.classification, f"list:{listed.list}", state="known")
            return
        earlier = session.scalar(
            select(Item)
            .where(Item.sha256 == signals.sha256, Item.id != item_id, Item.decided_at.is_not(None))
            .order_by(Item.decided_at.desc())
            .limit(1)
        )
        if earlier is not None:
            details["same_as"] = earlier.id
            audit.log(session, "hotline", "hotline.triage", f"item:{item_id}", details)
            review.decide(hl, session, item, earlier.classification, f"item:{earlier.id}", state="known")
            return
        if verdict.verdict == "near":
            best = min(m.distance for m in verdict.matches)
            points = NEAR_POINTS * (1 + (PDQ_MATCH_THRESHOLD - best) / PDQ_MATCH_THRESHOLD)
            item.risk_parts = [
                *item.risk_parts,
                {"name": "near", "points": round(points, 1), "why": f"PDQ distance {best} to a listed item"},
            ]
            item.risk = sum(float(p["points"]) for p in item.risk_parts)
        item.state = "review"
        hl.vault.put(session, item_id, fetched.content, item.content_type, now)
        audit.log(session, "hotline", "hotline.triage", f"item:{item_id}", {**details, "queued": True})
