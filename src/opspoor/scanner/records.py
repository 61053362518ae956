"""Plain values passed between the crawler, its workers (also across Ray) and the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Verdicts of a sighting: the matcher's known/near/unknown, plus what the scanner adds.
MATCHED_VERDICTS = ("known", "near")
ERROR = "error"  # fetched (or tried to) but nothing could be hashed
SKIPPED = "skipped"  # not fetched on purpose: outside the scope or disallowed by robots.txt


@dataclass(frozen=True)
class PageJob:
    url: str
    depth: int


@dataclass
class PageOutcome:
    url: str
    depth: int
    links: list[str] = field(default_factory=list)
    media: int = 0
    matched: int = 0
    error: str | None = None


@dataclass
class MediaResult:
    """What is kept of one media URL: never its bytes."""

    verdict: str
    http_status: int | None = None
    ip: str | None = None
    country: str | None = None
    content_type: str | None = None
    size: int | None = None
    kind: str | None = None
    width: int | None = None
    height: int | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    extra: dict[str, Any] | None = None
    matches: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


@dataclass
class PageRecord:
    url: str
    host: str
    depth: int
    fetched_at: datetime
    http_status: int | None = None
    ip: str | None = None
    country: str | None = None
    error: str | None = None
    links_count: int = 0


@dataclass
class SightingRecord:
    media_url: str
    host: str
    found_as: str
    seen_at: datetime
    media: MediaResult
