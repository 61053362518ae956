"""Read sightings back, with the risk of their hash: for `opspoor sightings` and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from opspoor.scanner.errors import ScannerError
from opspoor.store.scanner import Risk, Sighting

_HASH_COLUMNS = {32: ("md5",), 40: ("sha1",), 64: ("sha256", "pdq")}


@dataclass
class SightingView:
    id: int
    scan_id: int
    media_url: str
    page_url: str
    host: str
    page_host: str
    found_as: str
    ip: str | None
    country: str | None
    seen_at: datetime
    http_status: int | None
    verdict: str
    sha256: str | None
    md5: str | None
    pdq: str | None
    pdq_quality: int | None
    matches: list[dict[str, Any]]
    error: str | None
    risk: float | None = None
    risk_parts: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["seen_at"] = self.seen_at.isoformat() + "Z"
        return out


def find_sightings(
    session: Session,
    *,
    hash_value: str | None = None,
    host: str | None = None,
    country: str | None = None,
    min_risk: float | None = None,
    scan_id: int | None = None,
    limit: int = 100,
) -> list[SightingView]:
    """Sightings, newest first; `hash_value` is an MD5, SHA-1, SHA-256 or PDQ hex value."""
    stmt = select(Sighting, Risk).outerjoin(
        Risk, and_(Risk.subject_kind == "hash", Risk.subject == Sighting.sha256)
    )
    if hash_value:
        value = hash_value.strip().lower()
        columns = _HASH_COLUMNS.get(len(value))
        if columns is None or any(c not in "0123456789abcdef" for c in value):
            raise ScannerError("a hash is 32 (MD5), 40 (SHA-1) or 64 (SHA-256, PDQ) hex digits")
        stmt = stmt.where(or_(*(getattr(Sighting, c) == value for c in columns)))
    if host:
        name = host.strip().lower()
        stmt = stmt.where(or_(Sighting.host == name, Sighting.page_host == name))
    if country:
        stmt = stmt.where(Sighting.country == country.strip().upper())
    if min_risk is not None:
        stmt = stmt.where(Risk.score >= min_risk)
    if scan_id is not None:
        stmt = stmt.where(Sighting.scan_id == scan_id)
    stmt = stmt.order_by(Sighting.id.desc()).limit(limit)
    out = []
    for s, risk in session.execute(stmt):
        out.append(
            SightingView(
                id=s.id,
                scan_id=s.scan_id,
                media_url=s.media_url,
                page_url=s.page_url,
                host=s.host,
                page_host=s.page_host,
                found_as=s.found_as,
                ip=s.ip,
                country=s.country,
                seen_at=s.seen_at,
                http_status=s.http_status,
                verdict=s.verdict,
                sha256=s.sha256,
                md5=s.md5,
                pdq=s.pdq,
                pdq_quality=s.pdq_quality,
                matches=s.matches,
                error=s.error,
                risk=risk.score if risk else None,
                risk_parts=risk.parts if risk else [],
            )
        )
    return out


def top_risks(session: Session, kind: str, limit: int = 20) -> list[Risk]:
    return list(
        session.execute(
            select(Risk)
            .where(Risk.subject_kind == kind)
            .order_by(Risk.score.desc(), Risk.subject)
            .limit(limit)
        ).scalars()
    )
