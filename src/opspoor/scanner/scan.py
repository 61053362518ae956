"""Run a scan in this process: open the scan, crawl with one page worker, then count, score risk and
queue for analysts. `opspoor.scanner.distributed` runs the same scan over Ray workers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from opspoor.scanner.crawl import OnPage, crawl_levels
from opspoor.scanner.errors import BadSeed, NotFound
from opspoor.scanner.queue import enqueue
from opspoor.scanner.records import MATCHED_VERDICTS
from opspoor.scanner.risk import Scored, score_scan
from opspoor.scanner.scope import normalise_url
from opspoor.scanner.settings import ScanSettings
from opspoor.scanner.worker import PageWorker, ScanContext
from opspoor.store.db import open_store, transaction
from opspoor.store.lists import utcnow
from opspoor.store.scanner import Scan, Sighting


@dataclass
class ScanSummary:
    scan_id: int
    status: str
    pages: int
    media: int
    matched: int
    errors: int
    queued: int
    seconds: float
    top: list[Scored] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scan_id": self.scan_id,
            "status": self.status,
            "pages": self.pages,
            "media": self.media,
            "matched": self.matched,
            "errors": self.errors,
            "queued": self.queued,
            "seconds": round(self.seconds, 3),
            "top": [
                {
                    "kind": s.subject_kind,
                    "subject": s.subject,
                    "score": s.score,
                    "parts": [p.__dict__ for p in s.parts],
                }
                for s in self.top
            ],
        }


def check_seeds(seeds: Sequence[str]) -> list[str]:
    if not seeds:
        raise BadSeed("give at least one seed URL")
    out = []
    for seed in seeds:
        url = normalise_url(seed)
        if url is None:
            raise BadSeed(f"not an absolute http(s) URL: {seed!r}")
        out.append(url)
    return out


def open_scan(
    factory: sessionmaker[Session],
    seeds: Sequence[str],
    settings: ScanSettings,
    requested_by: str | None = None,
) -> int:
    """Create the scan's row (status running) and return its id."""
    from opspoor.scanner.scope import Scope

    scope = Scope.build(settings.scope, seeds, settings.extra_hosts)
    with transaction(factory) as session:
        scan = Scan(
            started_at=utcnow(),
            seeds=list(seeds),
            scope=settings.scope,
            scope_hosts=sorted(scope.hosts),
            max_pages=settings.max_pages,
            max_depth=settings.max_depth,
            robots=settings.robots,
            lists=list(settings.lists) if settings.lists else None,
            status="running",
            requested_by=requested_by,
            pages_count=0,
            media_count=0,
            matched_count=0,
        )
        session.add(scan)
        session.flush()
        return scan.id


def close_scan(
    factory: sessionmaker[Session],
    scan_id: int,
    settings: ScanSettings,
    seconds: float,
    error: str | None = None,
) -> ScanSummary:
    """Count what the workers recorded, score risk, queue for analysts, mark the scan done."""
    with transaction(factory) as session:
        scan = session.get(Scan, scan_id)
        if scan is None:
            raise NotFound(f"no scan with id {scan_id}")
        counts = dict(
            session.execute(
                select(Sighting.verdict, func.count())
                .where(Sighting.scan_id == scan_id)
                .group_by(Sighting.verdict)
            ).all()
        )
        from opspoor.store.scanner import Page

        scan.pages_count = session.execute(select(func.count()).where(Page.scan_id == scan_id)).scalar_one()
        scan.media_count = sum(counts.values())
        scan.matched_count = sum(counts.get(v, 0) for v in MATCHED_VERDICTS)
        scored = score_scan(session, scan_id)
        queued = enqueue(session, scan_id, scored, settings.queue_threshold)
        scan.status = "failed" if error else "done"
        scan.error = error
        scan.finished_at = utcnow()
        return ScanSummary(
            scan_id=scan_id,
            status=scan.status,
            pages=scan.pages_count,
            media=scan.media_count,
            matched=scan.matched_count,
            errors=counts.get("error", 0),
            queued=queued,
            seconds=seconds,
            top=scored[:10],
        )


async def scan_async(
    seeds: Sequence[str],
    settings: ScanSettings,
    store_url: str,
    *,
    on_page: OnPage | None = None,
    requested_by: str | None = None,
    scan_id: int | None = None,
) -> ScanSummary:
    """Crawl from `seeds` in this process and record everything in the store at `store_url`."""
    seeds = check_seeds(seeds)
    engine, factory = await asyncio.to_thread(open_store, store_url)
    if scan_id is None:
        scan_id = open_scan(factory, seeds, settings, requested_by)
    started = time.perf_counter()
    context = ScanContext(scan_id, store_url, tuple(seeds), settings)
    worker = PageWorker(context)
    error = None
    try:
        await worker.start()
        await crawl_levels(
            seeds,
            context.scope(),
            settings,
            worker.crawl_page,
            in_flight=settings.page_concurrency,
            on_page=on_page,
        )
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        await worker.close()
        try:
            summary = await asyncio.to_thread(
                close_scan, factory, scan_id, settings, time.perf_counter() - started, error
            )
        finally:
            engine.dispose()
    return summary


def run_scan(
    seeds: Sequence[str],
    settings: ScanSettings,
    store_url: str,
    *,
    on_page: OnPage | None = None,
    requested_by: str | None = None,
) -> ScanSummary:
    return asyncio.run(scan_async(seeds, settings, store_url, on_page=on_page, requested_by=requested_by))
