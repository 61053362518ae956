"""The review queue, analysts' assessments, the consensus rule and the decision.

Consensus: an item is decided when `consensus` analysts (HotlineSettings; Project Arachnid uses
three) gave the same classification. Any disagreement escalates the item to a senior analyst, whose
assessment decides it. `iccam:not_illegal` rejects the item; every other classification confirms
it: its hashes go into the hotline's list, a notice (or a forward) is scheduled, and the review copy
of the media is deleted after the retention period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from opspoor import audit
from opspoor.hotline import scheduler
from opspoor.hotline.errors import InvalidInput, ItemNotFound, NotAllowed
from opspoor.hotline.users import User
from opspoor.lists.classification import InvalidClassification, parse_classification
from opspoor.lists.errors import ListNotFound
from opspoor.lists.rows import NewEntry
from opspoor.lists.service import add_entries, create_list, get_list
from opspoor.store.db import transaction
from opspoor.store.hotline import OPEN_STATES, Assessment, Item, ReviewMedia

if TYPE_CHECKING:
    from opspoor.hotline.service import Hotline

NOT_ILLEGAL = "iccam:not_illegal"
# What an analyst can choose, in the order of the form (the schemes of opspoor.lists.classification).
CHOICES = (
    "iccam:baseline",
    "iccam:national",
    NOT_ILLEGAL,
    "iwf:A",
    "iwf:B",
    "iwf:C",
    "ncmec:A1",
    "ncmec:A2",
    "ncmec:B1",
    "ncmec:B2",
    "ncii",
)


@dataclass(frozen=True)
class Outcome:
    state: str  # the item's state after the assessment
    classification: str | None


def queue(session: Session, user: User, limit: int = 200) -> list[Item]:
    """Items waiting for this user, highest risk first; escalated items only for seniors."""
    states = list(OPEN_STATES) if user.is_senior else ["review"]
    return list(
        session.scalars(
            select(Item).where(Item.state.in_(states)).order_by(Item.risk.desc(), Item.id).limit(limit)
        )
    )


def assessments(session: Session, item_id: int) -> list[Assessment]:
    return list(
        session.scalars(select(Assessment).where(Assessment.item_id == item_id).order_by(Assessment.id))
    )


def _canonical(classification: str) -> str:
    try:
        return str(parse_classification(classification))
    except InvalidClassification as exc:
        raise InvalidInput(str(exc)) from None


def assess(hl: Hotline, item_id: int, user: User, classification: str, note: str | None = None) -> Outcome:
    if not user.can_review:
        raise NotAllowed(f"{user.username} has no analyst role")
    value = _canonical(classification)
    now = hl.now()
    with transaction(hl.factory) as session:
        item = session.get(Item, item_id, with_for_update=True)
        if item is None:
            raise ItemNotFound(f"no item {item_id}")
        if item.state not in OPEN_STATES:
            raise InvalidInput(f"item {item_id} is {item.state}, not waiting for an assessment")
        if item.state == "escalated" and not user.is_senior:
            raise NotAllowed(f"item {item_id} is escalated: a senior analyst decides it")
        round_ = 2 if item.state == "escalated" else 1
        done = {a.analyst for a in assessments(session, item_id) if a.round == round_}
        if user.username in done:
            raise InvalidInput(f"{user.username} has already assessed item {item_id}")
        session.add(
            Assessment(
                item_id=item_id,
                analyst=user.username,
                classification=value,
                senior=user.is_senior,
                round=round_,
                note=(note or None) and note[:2000],
                at=now,
            )
        )
        session.flush()
        audit.log(session, user.username, "hotline.assess", f"item:{item_id}", {"classification": value})
        if round_ == 2:
            decide(hl, session, item, value, f"senior:{user.username}")
            return Outcome(item.state, value)
        votes = [a.classification for a in assessments(session, item_id) if a.round == 1]
        if len(set(votes)) > 1:
            item.state = "escalated"
            audit.log(session, "hotline", "hotline.escalate", f"item:{item_id}", {"votes": sorted(votes)})
            return Outcome(item.state, None)
        if len(votes) >= hl.settings.consensus:
            decide(hl, session, item, value, "consensus:" + ",".join(sorted(done | {user.username})))
        return Outcome(item.state, item.classification)


def decide(
    hl: Hotline, session: Session, item: Item, classification: str | None, by: str, state: str | None = None
) -> None:
    """Record the decision and start what follows from it (in the caller's transaction)."""
    now = hl.now()
    illegal = classification != NOT_ILLEGAL
    item.classification, item.decided_by, item.decided_at = classification, by, now
    item.state = state if state and illegal else ("confirmed" if illegal else "rejected")
    if session.get(ReviewMedia, item.id) is not None:
        hl.vault.schedule_deletion(session, item.id, now + timedelta(days=hl.settings.retention_days))
        scheduler.schedule(session, "purge", item.id, now + timedelta(days=hl.settings.retention_days), now)
    if illegal:
        if item.state == "confirmed":
            _add_to_list(hl, session, item, by)
        scheduler.schedule(session, "notify", item.id, now, now)
    if item.scanner_queue_id is not None:
        from opspoor.scanner.queue import decide as scanner_decide

        scanner_decide(session, item.scanner_queue_id, "confirmed" if illegal else "rejected", "hotline", by)
    audit.log(
        session,
        by,
        "hotline.decide",
        f"item:{item.id}",
        {"state": item.state, "classification": classification},
    )


def _add_to_list(hl: Hotline, session: Session, item: Item, by: str) -> None:
    name = hl.settings.list_name
    try:
        get_list(session, name)
    except ListNotFound:
        create_list(
            session,
            name,
            source=hl.settings.hotline_name,
            actor="hotline",
            description="Hashes of items the hotline's analysts confirmed",
        )
    ref = f"{hl.settings.hotline_name}#{item.id}"
    rows = [
        NewEntry(signal, value, item.classification, ref, item.sha256)
        for signal, value in (("md5", item.md5), ("sha1", item.sha1), ("sha256", item.sha256))
        if value
    ]
    # A flat image's PDQ (quality < 50) would only make false matches: Meta's pdq guidance.
    if item.pdq and (item.pdq_quality or 0) >= 50:
        rows.append(NewEntry("pdq", item.pdq, item.classification, ref, item.sha256, item.pdq_quality))
    if rows:
        add_entries(session, name, rows, actor=by, reason=f"confirmed by the hotline (item {item.id})")
