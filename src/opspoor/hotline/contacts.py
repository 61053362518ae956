"""Who hears about an item: the host's abuse contact, or the partner hotline of the hosting country.

Abuse contact: an operator's override for the host (hotline_contacts) wins; otherwise the `abuse`
mailbox that RFC 2142 (section 4) reserves for every domain, at the host's domain without a
leading `www.`. Partner hotlines: a directory by country (hotline_partners), as INHOPE's network
hands a report to the member hotline in the hosting country.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from opspoor.hotline.errors import InvalidInput, ItemNotFound
from opspoor.store.hotline import AbuseContact, Partner


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str | None
    webhook: str | None
    source: str  # override, rfc2142, partner


def abuse_contact(session: Session, host: str) -> Recipient:
    host = host.lower().split(":")[0]
    override = session.get(AbuseContact, host)
    if override is not None and (override.email or override.webhook):
        return Recipient(host, override.email, override.webhook, "override")
    domain = host.removeprefix("www.")
    return Recipient(host, f"abuse@{domain}", None, "rfc2142")


def set_contact(
    session: Session, host: str, email: str | None, webhook: str | None, note: str | None = None
) -> None:
    if not email and not webhook:
        raise InvalidInput("an abuse contact needs an e-mail address or a webhook URL")
    _check_webhook(webhook)
    host = host.lower().strip()
    row = session.get(AbuseContact, host) or AbuseContact(host=host)
    row.email, row.webhook, row.note = email, webhook, note
    session.add(row)


def list_contacts(session: Session) -> list[AbuseContact]:
    return list(session.scalars(select(AbuseContact).order_by(AbuseContact.host)))


def partner_for(session: Session, country: str | None) -> Recipient | None:
    if not country:
        return None
    row = session.get(Partner, country.upper())
    if row is None:
        return None
    return Recipient(row.name, row.email, row.webhook, "partner")


def set_partner(session: Session, country: str, name: str, email: str | None, webhook: str | None) -> None:
    country = country.strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise InvalidInput(f"a country is an ISO 3166 alpha-2 code, not {country!r}")
    if not email and not webhook:
        raise InvalidInput("a partner hotline needs an e-mail address or a webhook URL")
    _check_webhook(webhook)
    row = session.get(Partner, country) or Partner(country=country)
    row.name, row.email, row.webhook = name, email, webhook
    session.add(row)


def remove_partner(session: Session, country: str) -> None:
    row = session.get(Partner, country.strip().upper())
    if row is None:
        raise ItemNotFound(f"no partner hotline for {country!r}")
    session.delete(row)


def list_partners(session: Session) -> list[Partner]:
    return list(session.scalars(select(Partner).order_by(Partner.country)))


def _check_webhook(url: str | None) -> None:
    if url and not url.startswith(("https://", "http://")):
        raise InvalidInput(f"a webhook is an http(s) URL, not {url!r}")
