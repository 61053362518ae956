"""Tables of the hotline workflow: users and web sessions, reports, items, assessments, encrypted
review media, notices, removal re-checks, scheduled jobs, abuse-contact overrides and partner hotlines.

An item is one media URL from one report. Its life: `new` (waiting for triage) -> `known` (matched a
list: classified from it, never shown to an analyst) or `review` (in the queue) -> `escalated`
(analysts disagreed: a senior decides) -> `confirmed` or `rejected`; a confirmed item is then
`noticed` (the host was told) or `forwarded` (a partner hotline in the hosting country was told),
and finally `removed`, or `unresolved` after the last re-check. `failed` when it could not be fetched.

Media bytes are stored only for items an analyst must see, encrypted (opspoor.hotline.vault), and
deleted after the decision plus a retention period. Times are naive UTC, as elsewhere in the store.
The schema is created by the hand-written Alembic revision `hotline_0001`; keep the two in step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from opspoor.store.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")

ITEM_STATES = (
    "new", "known", "review", "escalated", "confirmed", "rejected",
    "noticed", "forwarded", "removed", "unresolved", "failed",
)  # fmt: skip
OPEN_STATES = ("review", "escalated")  # waiting for an analyst
JOB_KINDS = ("triage", "notify", "recheck", "purge")
JOB_STATES = ("pending", "running", "done", "failed")


class HotlineUser(Base):
    __tablename__ = "hotline_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON)
    blur: Mapped[int] = mapped_column(Integer, default=24)  # px of CSS blur on media for this user
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "hotline_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("hotline_users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Report(Base):
    __tablename__ = "hotline_reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # web, api, scanner
    received_at: Mapped[datetime] = mapped_column(DateTime)
    reporter: Mapped[str | None] = mapped_column(String(255))  # contact, API key id or scanner
    comment: Mapped[str | None] = mapped_column(Text)


class Item(Base):
    __tablename__ = "hotline_items"
    __table_args__ = (
        Index("ix_hotline_items_state_risk", "state", "risk"),
        Index("ix_hotline_items_sha256", "sha256"),
        Index("ix_hotline_items_url", "url"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("hotline_reports.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(45))
    country: Mapped[str | None] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(16))
    risk: Mapped[float] = mapped_column(Float, default=0.0)
    risk_parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    kind: Mapped[str | None] = mapped_column(String(16))
    content_type: Mapped[str | None] = mapped_column(String(200))
    md5: Mapped[str | None] = mapped_column(String(32))
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64))
    pdq: Mapped[str | None] = mapped_column(String(64))
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    verdict: Mapped[str | None] = mapped_column(String(16))  # known, near, unknown (at triage)
    matches: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    classification: Mapped[str | None] = mapped_column(String(64))  # the final one
    decided_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    triaged_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    noticed_at: Mapped[datetime | None] = mapped_column(DateTime)  # first notice or forward
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    notices_sent: Mapped[int] = mapped_column(Integer, default=0)
    scanner_queue_id: Mapped[int | None] = mapped_column(BigInteger)  # scan_queue.id it came from
    error: Mapped[str | None] = mapped_column(Text)


class Assessment(Base):
    __tablename__ = "hotline_assessments"
    __table_args__ = (UniqueConstraint("item_id", "analyst", "round"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("hotline_items.id"), index=True)
    analyst: Mapped[str] = mapped_column(String(64))
    classification: Mapped[str] = mapped_column(String(64))
    senior: Mapped[bool] = mapped_column(Boolean, default=False)
    round: Mapped[int] = mapped_column(Integer, default=1)  # 2 = the senior's round after a dispute
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime)


class ReviewMedia(Base):
    """The item's bytes, encrypted; `ciphertext` is emptied (and deleted_at set) when purged."""

    __tablename__ = "hotline_media"

    item_id: Mapped[int] = mapped_column(ForeignKey("hotline_items.id"), primary_key=True)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_type: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime] = mapped_column(DateTime)
    delete_after: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)


class Notice(Base):
    """One notice to a host (kind notice) or hand-over to a partner hotline (kind forward)."""

    __tablename__ = "hotline_notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("hotline_items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # notice, renotice, forward, escalation
    channel: Mapped[str] = mapped_column(String(16))  # email, webhook
    recipient: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # sent, failed
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class Recheck(Base):
    __tablename__ = "hotline_rechecks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("hotline_items.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime)
    http_status: Mapped[int | None] = mapped_column(Integer)
    online: Mapped[bool] = mapped_column(Boolean)
    same: Mapped[bool | None] = mapped_column(Boolean)  # still the same media (None: not compared)
    outcome: Mapped[str] = mapped_column(String(16))  # removed, online, renotified, escalated
    error: Mapped[str | None] = mapped_column(Text)


class Job(Base):
    """A scheduled unit of work; the scheduler's whole state, so it survives restarts."""

    __tablename__ = "hotline_jobs"
    __table_args__ = (Index("ix_hotline_jobs_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_items.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class AbuseContact(Base):
    """An operator's override of where notices for a host go."""

    __tablename__ = "hotline_contacts"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(255))
    webhook: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class Partner(Base):
    """A partner hotline (INHOPE member) that takes items hosted in its country."""

    __tablename__ = "hotline_partners"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(255))
    webhook: Mapped[str | None] = mapped_column(Text)
