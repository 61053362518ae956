"""Risk scores for hashes, hosts and pages, from the circumstances of their sightings, each made of
named parts an analyst can read ("2 listed items on the same page: +42.5").

Why these circumstances: where known material is found, other images on the same page are likely
new material (the premise of Project Arachnid's and Web-IQ's LIBRA's proactive search); hosts that
carried confirmed material before are likely to again; an image spread over many sightings and hosts
is circulating. The weights are ours, chosen so that one listed item on the same page alone reaches
the default queue threshold (40) and nothing without any link to listed material does; they are
parameters (`Weights`), not findings.

Scores are 0..100. A hash that is itself on a list (verdict known or near) scores 100 and is not
queued: it is already known.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opspoor.scanner.errors import NotFound
from opspoor.scanner.records import MATCHED_VERDICTS
from opspoor.store.lists import utcnow
from opspoor.store.scanner import Host, Page, Risk, Scan, Sighting

_CHUNK = 500  # values per IN (...) query, well under SQLite's parameter limit


@dataclass(frozen=True)
class Part:
    name: str
    value: float
    points: float
    why: str


@dataclass(frozen=True)
class Weights:
    page_matched: float = 40.0  # at least one listed item on a page where the hash was seen
    page_matched_more: float = 10.0  # up to this much more for 5 or more
    host_matched: float = 15.0  # listed items on the hosts showing the hash (full at 5)
    host_confirmed_before: float = 15.0
    sightings: float = 10.0  # full at 16 sightings (log scale)
    hosts: float = 20.0  # full at 4 hosts


@dataclass
class HashFacts:
    listed: bool = False
    sightings: int = 0
    page_hosts: set[str] = field(default_factory=set)
    max_page_matched: int = 0  # listed items on the same page, at most
    max_host_matched: int = 0
    confirmed_before: bool = False


def total(parts: Iterable[Part]) -> float:
    return round(min(100.0, sum(p.points for p in parts)), 2)


def hash_parts(f: HashFacts, w: Weights = Weights()) -> list[Part]:
    if f.listed:
        return [Part("listed", 1, 100.0, "the hash matches a list entry")]
    parts = []
    if f.max_page_matched:
        more = w.page_matched_more * min(1.0, (f.max_page_matched - 1) / 4)
        parts.append(
            Part(
                "same_page_listed",
                f.max_page_matched,
                w.page_matched + more,
                f"{f.max_page_matched} listed item(s) on a page where it was seen",
            )
        )
    if f.max_host_matched:
        parts.append(
            Part(
                "same_host_listed",
                f.max_host_matched,
                w.host_matched * min(1.0, f.max_host_matched / 5),
                f"{f.max_host_matched} listed item(s) seen on a host showing it",
            )
        )
    if f.confirmed_before:
        parts.append(
            Part(
                "host_confirmed_before",
                1,
                w.host_confirmed_before,
                "a host showing it carried confirmed material before this scan",
            )
        )
    if f.sightings > 1:
        parts.append(
            Part(
                "sightings",
                f.sightings,
                w.sightings * min(1.0, math.log2(f.sightings) / 4),
                f"seen {f.sightings} times",
            )
        )
    if len(f.page_hosts) > 1:
        n = len(f.page_hosts)
        parts.append(Part("hosts", n, w.hosts * min(1.0, (n - 1) / 3), f"seen on {n} hosts"))
    return parts


def host_parts(matched: int, media: int, unknown_beside: int, confirmed_before: bool) -> list[Part]:
    parts = []
    if matched:
        parts.append(Part("listed_items", matched, 40 * min(1.0, matched / 5), f"{matched} listed item(s)"))
        parts.append(
            Part(
                "listed_share",
                round(matched / max(media, 1), 3),
                30 * matched / max(media, 1),
                f"{matched} of {media} media items listed",
            )
        )
    if unknown_beside:
        parts.append(
            Part(
                "unknown_beside_listed",
                unknown_beside,
                10 * min(1.0, unknown_beside / 10),
                f"{unknown_beside} unknown item(s) on pages with listed ones",
            )
        )
    if confirmed_before:
        parts.append(Part("confirmed_before", 1, 20.0, "carried confirmed material before this scan"))
    return parts


def page_parts(matched: int, unknown: int, confirmed_before: bool) -> list[Part]:
    parts = []
    if matched:
        parts.append(Part("listed_items", matched, 50 * min(1.0, matched / 2), f"{matched} listed item(s)"))
        if unknown:
            parts.append(
                Part(
                    "unknown_beside_listed",
                    unknown,
                    30 * min(1.0, unknown / 3),
                    f"{unknown} unknown item(s) beside them",
                )
            )
    if confirmed_before:
        parts.append(Part("host_confirmed_before", 1, 20.0, "its host carried confirmed material before"))
    return parts


@dataclass
class Scored:
    subject_kind: str
    subject: str
    score: float
    parts: list[Part]


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def _confirmed_hosts(session: Session, names: set[str], before: datetime) -> set[str]:
    out: set[str] = set()
    for chunk in _chunks(sorted(names)):
        rows = session.execute(
            select(Host.name).where(Host.name.in_(chunk), Host.confirmed_at < before)
        ).scalars()
        out.update(rows)
    return out


def score_scan(session: Session, scan_id: int, weights: Weights = Weights()) -> list[Scored]:
    """Score every hash, page host and page seen in scan `scan_id` (hash facts over all scans),
    store the scores with their parts, and return them highest first."""
    scan = session.get(Scan, scan_id)
    if scan is None:
        raise NotFound(f"no scan with id {scan_id}")
    pages = session.execute(select(Page).where(Page.scan_id == scan_id)).scalars().all()
    found = session.execute(
        select(Sighting.sha256).where(Sighting.scan_id == scan_id, Sighting.sha256.is_not(None))
    ).scalars()
    hashes = sorted({h for h in found if h})
    facts: dict[str, HashFacts] = defaultdict(HashFacts)
    hosts_seen: set[str] = {p.host for p in pages}
    for chunk in _chunks(hashes):
        rows = session.execute(
            select(Sighting.sha256, Sighting.verdict, Sighting.page_host, Page.matched_count)
            .join(Page, Page.id == Sighting.page_id)
            .where(Sighting.sha256.in_(chunk))
        )
        for sha256, verdict, page_host, page_matched in rows:
            f = facts[str(sha256)]
            f.sightings += 1
            f.page_hosts.add(page_host)
            if verdict in MATCHED_VERDICTS:
                f.listed = True
            f.max_page_matched = max(f.max_page_matched, page_matched)
            hosts_seen.add(page_host)
    host_rows = {}
    for chunk in _chunks(sorted(hosts_seen)):
        for host in session.execute(select(Host).where(Host.name.in_(chunk))).scalars():
            host_rows[host.name] = host
    confirmed = _confirmed_hosts(session, hosts_seen, scan.started_at)

    scored: list[Scored] = []
    for sha256 in hashes:
        f = facts[sha256]
        f.max_host_matched = max(
            (host_rows[h].matched_count for h in f.page_hosts if h in host_rows), default=0
        )
        f.confirmed_before = bool(f.page_hosts & confirmed)
        parts = hash_parts(f, weights)
        scored.append(Scored("hash", sha256, total(parts), parts))

    unknown_on_page = _count_by_page(session, scan_id)
    beside: dict[str, int] = defaultdict(int)
    for page in pages:
        unknown = unknown_on_page.get(page.id, 0)
        if page.matched_count:
            beside[page.host] += unknown
        parts = page_parts(page.matched_count, unknown, page.host in confirmed)
        scored.append(Scored("page", page.url, total(parts), parts))
    for name in sorted({p.host for p in pages}):
        if name not in host_rows:
            continue
        host = host_rows[name]
        parts = host_parts(host.matched_count, host.media_count, beside[name], name in confirmed)
        scored.append(Scored("host", name, total(parts), parts))
    _store(session, scan_id, scored)
    scored.sort(key=lambda s: (-s.score, s.subject_kind, s.subject))
    return scored


def _count_by_page(session: Session, scan_id: int) -> dict[int, int]:
    rows = session.execute(
        select(Sighting.page_id, func.count())
        .where(Sighting.scan_id == scan_id, Sighting.verdict == "unknown")
        .group_by(Sighting.page_id)
    )
    return {page_id: n for page_id, n in rows}


def _store(session: Session, scan_id: int, scored: list[Scored]) -> None:
    now = utcnow()
    existing: dict[tuple[str, str], Risk] = {}
    for kind in ("hash", "host", "page"):
        subjects = sorted({s.subject for s in scored if s.subject_kind == kind})
        for chunk in _chunks(subjects):
            for row in session.execute(
                select(Risk).where(Risk.subject_kind == kind, Risk.subject.in_(chunk))
            ).scalars():
                existing[(kind, row.subject)] = row
    for s in scored:
        parts = [asdict(p) for p in s.parts]
        known = existing.get((s.subject_kind, s.subject))
        if known is None:
            session.add(
                Risk(
                    subject_kind=s.subject_kind,
                    subject=s.subject,
                    score=s.score,
                    parts=parts,
                    computed_at=now,
                    scan_id=scan_id,
                )
            )
        else:
            known.score, known.parts, known.computed_at, known.scan_id = s.score, parts, now, scan_id
    session.flush()


def parts_text(parts: list[dict[str, Any]]) -> str:
    """'same_page_listed +40 (1 listed item(s) on a page where it was seen); ...'"""
    return "; ".join(f"{p['name']} +{p['points']:g} ({p['why']})" for p in parts) or "no risk factors"
