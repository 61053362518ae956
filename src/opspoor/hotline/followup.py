"""After the decision: notice the host or forward to the partner hotline, re-check until removed,
re-notify, escalate, and delete review media after the retention period.

Routing: an item hosted in another country than the hotline's (HotlineSettings.home_country) goes to
that country's partner hotline when the directory has one; otherwise the host's abuse contact gets a
notice. Re-checks: the first after `recheck_days` (Child Focus: 5 days), then every `renotify_days`
(Arachnid: daily) with a new notice while the item is online; after `max_notices` the item is
escalated and re-checks stop. A forwarded item is re-checked for the statistics only: the partner
hotline notices the host.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from opspoor import audit
from opspoor.hotline import notices, scheduler
from opspoor.hotline.contacts import Recipient, abuse_contact, partner_for
from opspoor.hotline.service import fetch_media
from opspoor.net.fetch import FetchError
from opspoor.signals.compute import compute_signals
from opspoor.signals.pdq import PDQ_MATCH_THRESHOLD, hamming
from opspoor.store.db import transaction
from opspoor.store.hotline import Item, Recheck

if TYPE_CHECKING:
    from opspoor.hotline.service import Hotline

NOTIFIABLE = ("confirmed", "known")


def notify(hl: Hotline, item_id: int) -> None:
    now = hl.now()
    with transaction(hl.factory) as session:
        item = session.get(Item, item_id)
        if item is None or item.state not in NOTIFIABLE:
            return
        home = hl.settings.home_country
        partner = (
            partner_for(session, item.country) if home and item.country and item.country != home else None
        )
        if partner is not None:
            sent = notices.send(session, hl.settings, item, "forward", partner, now)
            kind, new_state = "forward", "forwarded"
        else:
            contact = abuse_contact(session, item.host)
            sent = notices.send(session, hl.settings, item, "notice", contact, now)
            kind, new_state = "notice", "noticed"
        if not sent:
            raise notices_failed(item_id)
        item.state, item.noticed_at, item.notices_sent = new_state, now, item.notices_sent + 1
        scheduler.schedule(session, "recheck", item.id, now + timedelta(days=hl.settings.recheck_days), now)
        audit.log(session, "hotline", f"hotline.{kind}", f"item:{item_id}", {"country": item.country})


class NoticeFailed(Exception):
    """Every channel failed; the scheduler retries the job."""


def notices_failed(item_id: int) -> NoticeFailed:
    return NoticeFailed(f"item {item_id}: no channel delivered the notice (see its notices)")


def _still_there(hl: Hotline, item: Item) -> tuple[int | None, bool, bool | None, str | None]:
    """(HTTP status, online, same media, error) for the item's URL now."""
    try:
        fetched = fetch_media(hl.settings, item.url)
    except FetchError as exc:
        # Unreachable counts as offline: a host that took the server down removed the item too.
        return None, False, None, str(exc)[:500]
    if fetched.status >= 400:
        return fetched.status, False, None, None
    signals = compute_signals(fetched.content)
    if signals.sha256 == item.sha256:
        return fetched.status, True, True, None
    if signals.pdq and item.pdq and hamming(signals.pdq, item.pdq) <= PDQ_MATCH_THRESHOLD:
        return fetched.status, True, True, None  # re-encoded or resized, still the same picture
    return fetched.status, True, False, None  # something else is served there now


def recheck(hl: Hotline, item_id: int) -> None:
    with hl.factory() as session:
        item = session.get(Item, item_id)
        if item is None or item.state not in ("noticed", "forwarded"):
            return
    status, online, same, error = _still_there(hl, item)
    now = hl.now()
    settings = hl.settings
    with transaction(hl.factory) as session:
        item = session.get(Item, item_id)
        assert item is not None
        present = online and same is not False
        if not present:
            outcome = "removed"
            item.state, item.removed_at = "removed", now
        elif item.state == "forwarded":
            outcome = "online"
            checks = session.scalar(select(func.count()).where(Recheck.item_id == item_id)) or 0
            if checks + 1 >= settings.max_notices:
                item.state = "unresolved"
            else:
                scheduler.schedule(
                    session, "recheck", item_id, now + timedelta(days=settings.renotify_days), now
                )
        elif item.notices_sent >= settings.max_notices:
            outcome = "escalated"
            item.state = "unresolved"
            if settings.escalation_email:
                target = Recipient("escalation", settings.escalation_email, None, "settings")
                notices.send(session, settings, item, "escalation", target, now)
        else:
            outcome = "renotified"
            if notices.send(session, settings, item, "renotice", abuse_contact(session, item.host), now):
                item.notices_sent += 1
            scheduler.schedule(session, "recheck", item_id, now + timedelta(days=settings.renotify_days), now)
        session.add(
            Recheck(
                item_id=item_id,
                checked_at=now,
                http_status=status,
                online=present,
                same=same,
                outcome=outcome,
                error=error,
            )
        )
        audit.log(
            session, "hotline", "hotline.recheck", f"item:{item_id}", {"outcome": outcome, "status": status}
        )


def purge(hl: Hotline, item_id: int) -> None:
    """Delete every review copy whose retention ended (not only this item's: catches up after downtime)."""
    with transaction(hl.factory) as session:
        gone = hl.vault.purge_due(session, hl.now())
        if gone:
            audit.log(session, "hotline", "hotline.purge", "media", {"items": gone})
