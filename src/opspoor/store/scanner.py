"""Tables of the proactive scanner: scans, hosts, pages, media sightings, risk scores, the analyst
queue and re-visits.

A sighting is one media URL embedded in one page during one scan, with its circumstances (page,
host, resolved address, hosting country, time, HTTP status) and its signals and matches. The media
bytes are never stored: only what was computed from them.

Risk rows hold a score and the parts it is made of (`parts`, a list of {name, value, points, why}),
so an analyst sees why something ranks high. Unknown hashes whose score passes a threshold go to
`scan_queue`, which the hotline workflow consumes (see docs/scanner.md, "Hand-off").

Times are naive UTC on both backends, as in opspoor.store.lists. The schema is created by the
hand-written Alembic revision `scanner_0001`; keep the two in step.
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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from opspoor.store.db import Base

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

HOST_MAX = 255  # longest DNS name (RFC 1035), plus a port
IP_MAX = 45  # longest textual IPv6 address
SCAN_STATES = ("running", "done", "failed")
QUEUE_STATES = ("new", "taken", "confirmed", "rejected")
RISK_SUBJECTS = ("hash", "host", "page")


class Scan(Base):
    __tablename__ = "scan_scans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    seeds: Mapped[list[str]] = mapped_column(JSON)
    scope: Mapped[str] = mapped_column(String(16))
    scope_hosts: Mapped[list[str]] = mapped_column(JSON)
    max_pages: Mapped[int] = mapped_column(Integer)
    max_depth: Mapped[int] = mapped_column(Integer)
    robots: Mapped[str] = mapped_column(String(8))
    lists: Mapped[list[str] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str | None] = mapped_column(String(200))
    pages_count: Mapped[int] = mapped_column(Integer, default=0)
    media_count: Mapped[int] = mapped_column(Integer, default=0)
    matched_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class Host(Base):
    """A host name (with port when not the default), counted over all scans."""

    __tablename__ = "scan_hosts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(HOST_MAX), unique=True)
    ip: Mapped[str | None] = mapped_column(String(IP_MAX))
    country: Mapped[str | None] = mapped_column(String(2))
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    pages_count: Mapped[int] = mapped_column(Integer, default=0)
    media_count: Mapped[int] = mapped_column(Integer, default=0)
    matched_count: Mapped[int] = mapped_column(Integer, default=0)
    # First time matched material was seen here or an analyst confirmed an item seen here.
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)


class Page(Base):
    __tablename__ = "scan_pages"
    __table_args__ = (UniqueConstraint("scan_id", "url"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scan_scans.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(HOST_MAX), index=True)
    depth: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    http_status: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str | None] = mapped_column(String(IP_MAX))
    country: Mapped[str | None] = mapped_column(String(2))
    error: Mapped[str | None] = mapped_column(Text)
    links_count: Mapped[int] = mapped_column(Integer, default=0)
    media_count: Mapped[int] = mapped_column(Integer, default=0)
    matched_count: Mapped[int] = mapped_column(Integer, default=0)


class Sighting(Base):
    __tablename__ = "scan_sightings"
    __table_args__ = (
        UniqueConstraint("page_id", "media_url"),
        Index("ix_scan_sightings_sha256", "sha256"),
        Index("ix_scan_sightings_pdq", "pdq"),
        Index("ix_scan_sightings_host", "host"),
        Index("ix_scan_sightings_country", "country"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scan_scans.id"), index=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("scan_pages.id"), index=True)
    page_url: Mapped[str] = mapped_column(Text)
    page_host: Mapped[str] = mapped_column(String(HOST_MAX))
    media_url: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(HOST_MAX))  # the media URL's host
    found_as: Mapped[str] = mapped_column(String(16))  # img, srcset, og:image, css, link, video, ...
    seen_at: Mapped[datetime] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(IP_MAX))
    country: Mapped[str | None] = mapped_column(String(2))
    http_status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str | None] = mapped_column(String(16))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    md5: Mapped[str | None] = mapped_column(String(32))
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64))
    pdq: Mapped[str | None] = mapped_column(String(64))
    pdq_quality: Mapped[int | None] = mapped_column(Integer)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # further signals (vpdq, ...)
    verdict: Mapped[str] = mapped_column(String(16))  # known, near, unknown, error, skipped
    matches: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)


class Risk(Base):
    """The latest risk score of a hash (sha256), a host or a page, with its parts."""

    __tablename__ = "scan_risk"
    __table_args__ = (UniqueConstraint("subject_kind", "subject"), Index("ix_scan_risk_score", "score"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(DateTime)
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scan_scans.id"))


class QueueItem(Base):
    """An unknown hash an analyst should look at, with the sighting that best shows where it is."""

    __tablename__ = "scan_queue"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    pdq: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), index=True)
    queued_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    sighting_id: Mapped[int] = mapped_column(ForeignKey("scan_sightings.id"))
    media_url: Mapped[str] = mapped_column(Text)
    page_url: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(HOST_MAX))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class Revisit(Base):
    """A later check of a sighting: is the item still online, are its bytes the same?"""

    __tablename__ = "scan_revisits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sighting_id: Mapped[int] = mapped_column(ForeignKey("scan_sightings.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime)
    http_status: Mapped[int | None] = mapped_column(Integer)
    online: Mapped[bool] = mapped_column(Boolean)
    changed: Mapped[bool | None] = mapped_column(Boolean)  # None when nothing could be compared
    sha256: Mapped[str | None] = mapped_column(String(64))
    pdq: Mapped[str | None] = mapped_column(String(64))
    pdq_distance: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
