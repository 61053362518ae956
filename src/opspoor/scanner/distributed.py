"""The same scan spread over Ray workers (`pip install opspoor[scale]`).

The driver keeps the frontier (opspoor.scanner.crawl, level by level, so the pages crawled do not
depend on the number of workers) and hands each page to one of N Ray actors, chosen by a hash of the
page URL. Each actor is a PageWorker: it fetches the page and its media, hashes in memory, matches
against its own copy of the lists, and writes pages and sightings straight to the shared database
(PostgreSQL on a real cluster). Every actor gets 1/N of the per-host rate, so together they keep the
scan's politeness limit. The driver then scores risk and queues for analysts, as a local scan does.

On a real cluster: start Ray on every node (`ray start --head` / `ray start --address=HEAD:6379`),
make opspoor and its dependencies importable there, and call `run_scan_on_ray(..., address="auto")`
or `opspoor scan --ray auto` from a node of the cluster; see docs/scanner.md.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Sequence
from typing import Any

from opspoor.scanner.crawl import OnPage, crawl_levels
from opspoor.scanner.errors import ScannerError
from opspoor.scanner.records import PageJob, PageOutcome
from opspoor.scanner.scan import ScanSummary, check_seeds, close_scan, open_scan
from opspoor.scanner.settings import ScanSettings
from opspoor.scanner.worker import PageWorker, ScanContext
from opspoor.store.db import open_store


class RayPageWorker:
    """The body of a Ray actor: a PageWorker in the actor's own event loop."""

    def __init__(self, context: ScanContext, share: int) -> None:
        self._worker = PageWorker(context, share=share)

    async def start(self) -> bool:
        await self._worker.start()
        return True

    async def crawl_page(self, job: PageJob) -> PageOutcome:
        return await self._worker.crawl_page(job)

    async def close(self) -> bool:
        await self._worker.close()
        return True


def shard(url: str, workers: int) -> int:
    """Which worker crawls `url`: stable across processes and runs (unlike hash())."""
    return zlib.crc32(url.encode("utf-8")) % workers


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ScannerError("scanning on Ray needs the 'scale' extra: pip install 'opspoor[scale]'") from exc
    return ray


def ensure_ray(address: str | None = None) -> Any:
    """Connect to the Ray cluster at `address` ("auto": the one this node belongs to), or start a
    local one, unless this process is connected already."""
    ray = _ray()
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return ray


async def scan_on_ray_async(
    seeds: Sequence[str],
    settings: ScanSettings,
    store_url: str,
    *,
    workers: int = 2,
    on_page: OnPage | None = None,
    requested_by: str | None = None,
) -> ScanSummary:
    if workers < 1:
        raise ScannerError("workers must be at least 1")
    ray = ensure_ray()
    seeds = check_seeds(seeds)
    engine, factory = await asyncio.to_thread(open_store, store_url)
    scan_id = open_scan(factory, seeds, settings, requested_by)
    context = ScanContext(scan_id, store_url, tuple(seeds), settings)
    actor_cls = ray.remote(num_cpus=1, max_concurrency=1000)(RayPageWorker)
    actors = [actor_cls.remote(context, workers) for _ in range(workers)]
    started = time.perf_counter()
    error = None

    async def dispatch(job: PageJob) -> PageOutcome:
        outcome: PageOutcome = await actors[shard(job.url, workers)].crawl_page.remote(job)
        return outcome

    try:
        await asyncio.gather(*(a.start.remote() for a in actors))
        await crawl_levels(
            seeds,
            context.scope(),
            settings,
            dispatch,
            in_flight=settings.page_concurrency * workers,
            on_page=on_page,
        )
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        try:
            await asyncio.gather(*(a.close.remote() for a in actors))
        finally:
            for actor in actors:
                ray.kill(actor)
            try:
                summary = await asyncio.to_thread(
                    close_scan, factory, scan_id, settings, time.perf_counter() - started, error
                )
            finally:
                engine.dispose()
    return summary


def run_scan_on_ray(
    seeds: Sequence[str],
    settings: ScanSettings,
    store_url: str,
    *,
    workers: int = 2,
    on_page: OnPage | None = None,
    requested_by: str | None = None,
) -> ScanSummary:
    return asyncio.run(
        scan_on_ray_async(
            seeds, settings, store_url, workers=workers, on_page=on_page, requested_by=requested_by
        )
    )
