"""Notices to hosting providers and hand-overs to partner hotlines: one document per item, with the
evidence (where, which hashes, how it was classified and by how many analysts) and never the media.

A document goes by e-mail (SMTP, plain text with the document as a JSON attachment) and/or as a JSON
POST to a webhook, whichever the recipient has. Every attempt is recorded (hotline_notices) with its
outcome, so a failed send is visible and retried by the re-check schedule.
"""

from __future__ import annotations

import json
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opspoor.hotline.contacts import Recipient
from opspoor.hotline.settings import HotlineSettings
from opspoor.lists.classification import InvalidClassification, parse_classification
from opspoor.store.hotline import Assessment, Item, Notice

KINDS = ("notice", "renotice", "forward", "escalation")
_SUBJECTS = {
    "notice": "Notice of illegal content hosted at {host}",
    "renotice": "Reminder: illegal content still hosted at {host}",
    "forward": "Report for your country: content hosted at {host}",
    "escalation": "Escalation: content at {host} not removed after {n} notices",
}


def label(classification: str | None) -> str:
    if not classification:
        return "unclassified"
    try:
        return parse_classification(classification).label
    except InvalidClassification:
        return classification


def document(
    session: Session, settings: HotlineSettings, item: Item, kind: str, now: datetime
) -> dict[str, Any]:
    analysts = session.scalar(select(func.count()).where(Assessment.item_id == item.id)) or 0
    basis = (
        "list match"
        if item.state == "known" or item.verdict == "known"
        else f"{analysts} analyst assessments"
    )
    return {
        "type": kind,
        "reference": f"{settings.hotline_name}#{item.id}",
        "hotline": settings.hotline_name,
        "sent_at": now.isoformat() + "Z",
        "url": item.url,
        "host": item.host,
        "ip": item.ip,
        "hosting_country": item.country,
        "classification": item.classification,
        "classification_label": label(item.classification),
        "basis": basis,
        "list_matches": [
            {k: m.get(k) for k in ("list", "signal", "distance", "classification", "source_ref")}
            for m in item.matches
        ],
        "hashes": {"md5": item.md5, "sha1": item.sha1, "sha256": item.sha256, "pdq": item.pdq},
        "first_reported_at": item.created_at.isoformat() + "Z",
        "decided_at": item.decided_at.isoformat() + "Z" if item.decided_at else None,
        "notice_number": item.notices_sent + 1,
        "check_after": (now + timedelta(days=settings.recheck_days)).isoformat() + "Z",
        "request": (
            "Please remove or disable access to the content at the URL above and preserve related "
            "records for law enforcement. The content itself is not attached."
        ),
    }


def _text(doc: dict[str, Any]) -> str:
    lines = [
        f"{doc['hotline']} - {doc['type']} {doc['reference']}",
        "",
        f"URL: {doc['url']}",
        f"Host: {doc['host']} (IP {doc['ip'] or 'unknown'}, country {doc['hosting_country'] or 'unknown'})",
        f"Classification: {doc['classification_label']} ({doc['basis']})",
        f"SHA-256: {doc['hashes']['sha256']}",
        f"MD5: {doc['hashes']['md5']}",
        f"PDQ: {doc['hashes']['pdq'] or '-'}",
        f"First reported: {doc['first_reported_at']}",
        f"Notice number: {doc['notice_number']}; we check again after {doc['check_after']}.",
        "",
        doc["request"],
    ]
    return "\n".join(lines) + "\n"


def _send_email(settings: HotlineSettings, to: str, subject: str, doc: dict[str, Any]) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(_text(doc))
    message.add_attachment(
        json.dumps(doc, indent=2).encode(),
        maintype="application",
        subtype="json",
        filename=f"notice-{doc['reference'].rsplit('#', 1)[-1]}.json",
    )
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        smtp.send_message(message)


def _send_webhook(settings: HotlineSettings, url: str, doc: dict[str, Any]) -> None:
    # Webhooks are configured by the operator (never taken from a report), so no address filter;
    # redirects are not followed, so a notice cannot be bounced somewhere else.
    with httpx.Client(timeout=settings.webhook_timeout, follow_redirects=False, trust_env=False) as client:
        response = client.post(url, json=doc)
        if response.status_code >= 300:
            raise httpx.HTTPStatusError(
                f"webhook answered {response.status_code}", request=response.request, response=response
            )


def send(
    session: Session,
    settings: HotlineSettings,
    item: Item,
    kind: str,
    recipient: Recipient,
    now: datetime,
) -> bool:
    """Send one document over every channel the recipient has; True if at least one got through."""
    doc = document(session, settings, item, kind, now)
    doc["recipient"] = recipient.name
    subject = _SUBJECTS[kind].format(host=item.host, n=item.notices_sent)
    subject = f"[{settings.hotline_name} #{item.id}] {subject}"
    delivered = False
    channels = [("email", recipient.email), ("webhook", recipient.webhook)]
    for channel, address in channels:
        if not address:
            continue
        error = None
        try:
            if channel == "email":
                _send_email(settings, address, subject, doc)
            else:
                _send_webhook(settings, address, doc)
            delivered = True
        except (OSError, smtplib.SMTPException, httpx.HTTPError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        session.add(
            Notice(
                item_id=item.id,
                kind=kind,
                channel=channel,
                recipient=address,
                state="failed" if error else "sent",
                sent_at=now,
                error=error,
                document=doc,
            )
        )
    session.flush()
    return delivered


def notices_for(session: Session, item_id: int | None = None, limit: int = 200) -> list[Notice]:
    stmt = select(Notice).order_by(Notice.id.desc()).limit(limit)
    if item_id is not None:
        stmt = stmt.where(Notice.item_id == item_id)
    return list(session.scalars(stmt))
