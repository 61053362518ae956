"""Statistics: items by state and source, and time to removal (from the first notice or forward to
the re-check that found the item gone) per host, hosting country and category."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opspoor.store.hotline import Item, Report


@dataclass(frozen=True)
class Removal:
    key: str
    count: int
    median_hours: float
    mean_hours: float


@dataclass
class Stats:
    items: int = 0
    reports: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    removed: int = 0
    removal_by_host: list[Removal] = field(default_factory=list)
    removal_by_country: list[Removal] = field(default_factory=list)
    removal_by_category: list[Removal] = field(default_factory=list)
    reports_per_day: list[tuple[str, int]] = field(default_factory=list)


def _summary(groups: dict[str, list[float]]) -> list[Removal]:
    return sorted(
        (
            Removal(k, len(v), round(statistics.median(v), 1), round(statistics.fmean(v), 1))
            for k, v in groups.items()
        ),
        key=lambda r: (-r.count, r.key),
    )


def compute(session: Session, now: datetime, days: int = 14) -> Stats:
    out = Stats()
    rows = session.execute(
        select(
            Item.state,
            Item.host,
            Item.country,
            Item.classification,
            Item.noticed_at,
            Item.removed_at,
            Report.source,
        ).join(Report, Report.id == Item.report_id)
    ).all()
    states: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    hosts: dict[str, list[float]] = defaultdict(list)
    countries: dict[str, list[float]] = defaultdict(list)
    cats: dict[str, list[float]] = defaultdict(list)
    for state, host, country, classification, noticed, removed, source in rows:
        states[state] += 1
        sources[source] += 1
        if classification:
            categories[classification] += 1
        if noticed is not None and removed is not None:
            hours = (removed - noticed).total_seconds() / 3600
            hosts[host].append(hours)
            countries[country or "unknown"].append(hours)
            cats[classification or "unclassified"].append(hours)
    out.items = len(rows)
    out.by_state, out.by_source, out.by_category = dict(states), dict(sources), dict(categories)
    out.removed = sum(len(v) for v in hosts.values())
    out.removal_by_host, out.removal_by_country = _summary(hosts), _summary(countries)
    out.removal_by_category = _summary(cats)
    received = session.scalars(
        select(Report.received_at).where(Report.received_at >= now - timedelta(days=days))
    )
    per_day = Counter(r.date().isoformat() for r in received)
    out.reports = session.scalar(select(func.count()).select_from(Report)) or 0
    out.reports_per_day = [
        (day, per_day.get(day, 0))
        for day in ((now - timedelta(days=days - 1 - i)).date().isoformat() for i in range(days))
    ]
    return out
