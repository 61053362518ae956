"""The crawl frontier: breadth first, one depth level at a time, each level in URL order.

Working level by level makes the set of pages crawled the same however many workers there are and
whatever order they finish in (with a page budget too), so a scan spread over Ray gives the same
sightings as one in a single process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from opspoor.scanner.records import PageJob, PageOutcome
from opspoor.scanner.scope import Scope, normalise_url
from opspoor.scanner.settings import ScanSettings

Dispatch = Callable[[PageJob], Awaitable[PageOutcome]]
OnPage = Callable[[PageOutcome], None]


async def crawl_levels(
    seeds: list[str],
    scope: Scope,
    settings: ScanSettings,
    dispatch: Dispatch,
    *,
    in_flight: int,
    on_page: OnPage | None = None,
) -> list[PageOutcome]:
    """Crawl from `seeds` within `scope`, up to settings.max_depth and settings.max_pages."""
    level = sorted({u for s in seeds if (u := normalise_url(s)) and scope.contains(u)})
    seen = set(level)
    budget = settings.max_pages
    slots = asyncio.Semaphore(in_flight)
    outcomes: list[PageOutcome] = []

    async def one(job: PageJob) -> PageOutcome:
        async with slots:
            outcome = await dispatch(job)
        if on_page is not None:
            on_page(outcome)
        return outcome

    depth = 0
    while level and budget > 0 and depth <= settings.max_depth:
        batch = level[:budget]
        budget -= len(batch)
        results = await asyncio.gather(*(one(PageJob(url, depth)) for url in batch))
        outcomes.extend(results)
        following: set[str] = set()
        for result in results:
            for link in result.links:
                if link not in seen and scope.contains(link):
                    following.add(link)
        seen |= following
        level = sorted(following)
        depth += 1
    return outcomes
