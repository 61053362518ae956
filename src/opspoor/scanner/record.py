"""Write pages, sightings and host counts to the store: one transaction per page.

Several workers (threads, or Ray workers on other machines) write to the same database at once:
host rows are created with INSERT ... ON CONFLICT DO NOTHING and counted with in-database
increments, in host-name order so concurrent transactions cannot deadlock.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from opspoor.scanner.records import MATCHED_VERDICTS, PageRecord, SightingRecord
from opspoor.store.db import make_engine, session_factory, transaction
from opspoor.store.lists import utcnow
from opspoor.store.scanner import Host, Page, Sighting


class Recorder:
    def __init__(self, store_url: str, scan_id: int) -> None:
        self.scan_id = scan_id
        self._engine = make_engine(store_url)
        self._factory = session_factory(self._engine)
        self._lock = threading.Lock()  # one writer per worker; SQLite allows one anyway

    def write_page(self, page: PageRecord, sightings: list[SightingRecord]) -> None:
        with self._lock, transaction(self._factory) as session:
            matched = sum(s.media.verdict in MATCHED_VERDICTS for s in sightings)
            row = Page(
                scan_id=self.scan_id,
                links_count=page.links_count,
                media_count=len(sightings),
                matched_count=matched,
                **{k: v for k, v in asdict(page).items() if k != "links_count"},
            )
            session.add(row)
            session.flush()
            if sightings:
                session.execute(insert(Sighting), [self._sighting_row(row, s) for s in sightings])
            _count_hosts(session, page, sightings)

    def _sighting_row(self, page: Page, s: SightingRecord) -> dict[str, object]:
        media = asdict(s.media)
        return {
            "scan_id": self.scan_id,
            "page_id": page.id,
            "page_url": page.url,
            "page_host": page.host,
            "media_url": s.media_url,
            "host": s.host,
            "found_as": s.found_as,
            "seen_at": s.seen_at,
            **media,
        }

    def close(self) -> None:
        self._engine.dispose()


def _count_hosts(session: Session, page: PageRecord, sightings: list[SightingRecord]) -> None:
    pages: Counter[str] = Counter({page.host: 1})
    media: Counter[str] = Counter()
    matched: Counter[str] = Counter()
    where: dict[str, tuple[str | None, str | None]] = {page.host: (page.ip, page.country)}
    for s in sightings:
        if s.media.http_status is None and s.media.ip is None:
            continue  # never reached (outside the scope, robots): not counted for its host
        media[s.host] += 1
        matched[s.host] += s.media.verdict in MATCHED_VERDICTS
        where.setdefault(s.host, (s.media.ip, s.media.country))
    now = utcnow()
    dialect = session.get_bind().dialect.name
    upsert: Callable[..., Any] = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for name in sorted(where):
        ip, country = where[name]
        session.execute(
            upsert(Host)
            .values(
                name=name,
                ip=ip,
                country=country,
                first_seen=now,
                last_seen=now,
                pages_count=0,
                media_count=0,
                matched_count=0,
            )
            .on_conflict_do_nothing(index_elements=["name"])
        )
        session.execute(
            update(Host)
            .where(Host.name == name)
            .values(
                pages_count=Host.pages_count + pages[name],
                media_count=Host.media_count + media[name],
                matched_count=Host.matched_count + matched[name],
                last_seen=now,
                ip=ip if ip else Host.ip,
                country=country if country else Host.country,
                confirmed_at=func.coalesce(Host.confirmed_at, now) if matched[name] else Host.confirmed_at,
            )
        )
