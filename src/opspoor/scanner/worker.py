"""A page worker: fetch one page, find its media, fetch and hash each media item in memory, match
it, record page and sightings. The same class runs in-process (single-process scan) and inside a
Ray actor (distributed scan).

Media bytes live only in memory, from the fetch to the end of hashing; nothing is written to disk.
Each media URL is fetched at most once per worker and scan (a site's logo on every page costs one
download); its result is reused for every page that embeds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opspoor.net.fetch import BadContentType, BadURL, BlockedAddress, FetchError
from opspoor.scanner import fetching
from opspoor.scanner.errors import OutOfScope, RobotsDisallowed, ScannerError
from opspoor.scanner.extract import decode_html, extract
from opspoor.scanner.geo import country_of
from opspoor.scanner.hashing import HashPool
from opspoor.scanner.ratelimit import HostLimiter
from opspoor.scanner.record import Recorder
from opspoor.scanner.records import (
    ERROR,
    MATCHED_VERDICTS,
    SKIPPED,
    MediaResult,
    PageJob,
    PageOutcome,
    PageRecord,
    SightingRecord,
)
from opspoor.scanner.robots import ROBOTS_MAX_BYTES, RobotsAnswer, RobotsCache
from opspoor.scanner.scope import Scope, host_key
from opspoor.scanner.settings import ScanSettings
from opspoor.store.lists import utcnow

# Results kept per worker so a media URL on many pages (a logo) is fetched once; bounded so that a
# long scan does not grow without limit (a result is about 1 KB, more with video hashes).
MEDIA_CACHE_MAX = 50_000
# Some servers send images as a generic binary type; the content decides what it is.
_GENERIC_TYPES = ("application/octet-stream", "binary/octet-stream")


@dataclass(frozen=True)
class ScanContext:
    """Everything a worker needs, picklable (sent to Ray workers as is)."""

    scan_id: int
    store_url: str
    seeds: tuple[str, ...]
    settings: ScanSettings

    def scope(self) -> Scope:
        return Scope.build(self.settings.scope, self.seeds, self.settings.extra_hosts)


class PageWorker:
    def __init__(self, context: ScanContext, *, share: int = 1, matcher: Any = None) -> None:
        self.context = context
        self.settings = context.settings.for_share(share)
        self.scope = context.scope()
        self._limiter = HostLimiter(self.settings.host_rate, self.settings.host_concurrency)
        self._robots = RobotsCache(self._fetch_robots)
        self._media_cache: dict[str, asyncio.Task[MediaResult]] = {}
        self._media_slots = asyncio.Semaphore(self.settings.media_concurrency)
        self._client = fetching.scoped_client(
            self.scope,
            connections=self.settings.media_concurrency + self.settings.page_concurrency,
            timeout=max(self.settings.page_timeout, self.settings.media_timeout),
        )
        self._hashing = HashPool(
            context.store_url,
            self.settings.lists,
            threads=self.settings.hash_threads,
            processes=self.settings.hash_processes,
            matcher=matcher,
        )
        self._recorder = Recorder(context.store_url, context.scan_id)

    async def start(self) -> None:
        """Start hashing (builds the matcher from the store's lists unless one was given)."""
        await self._hashing.start()

    async def close(self) -> None:
        await self._client.aclose()
        self._hashing.close()
        self._recorder.close()

    # -- fetching ---------------------------------------------------------------------------
    async def _fetch_robots(self, url: str) -> RobotsAnswer:
        try:
            async with self._limiter.slot(host_key(url)):
                got = await fetching.get(
                    self._client,
                    url,
                    max_bytes=ROBOTS_MAX_BYTES,
                    timeout=self.settings.page_timeout,
                    allowed_content_types=None,
                    allow_private=self.settings.allow_private,
                )
        except (BlockedAddress, BadURL):
            raise  # the site itself is refused; every URL on it reports why
        except OutOfScope:
            # Redirected off the scope: a robots.txt we may not follow counts as unavailable, like
            # one behind too many redirects (RFC 9309 section 2.3.1.2), i.e. no rules.
            return RobotsAnswer(404, "")
        except FetchError:
            return RobotsAnswer(None, "")
        return RobotsAnswer(got.status, got.content.decode("utf-8", errors="replace"))

    async def _get(self, url: str, *, max_bytes: int, timeout: float, types: Sequence[str]) -> Any:
        fetching.check_scope(self.scope, url)
        host = host_key(url)
        if self.settings.robots == "obey":
            if not await self._robots.allowed(url):
                raise RobotsDisallowed(f"robots.txt of {host} disallows {url}")
            delay = await self._robots.crawl_delay(url)
            if delay:
                self._limiter.slow_down(host, delay)
        async with self._limiter.slot(host):
            return await fetching.get(
                self._client,
                url,
                max_bytes=max_bytes,
                timeout=timeout,
                allowed_content_types=types,
                allow_private=self.settings.allow_private,
            )

    # -- pages ------------------------------------------------------------------------------
    async def crawl_page(self, job: PageJob) -> PageOutcome:
        page = PageRecord(url=job.url, host=host_key(job.url), depth=job.depth, fetched_at=utcnow())
        outcome = PageOutcome(url=job.url, depth=job.depth)
        sightings: list[SightingRecord] = []
        try:
            fetched = await self._get(
                job.url,
                max_bytes=self.settings.page_max_bytes,
                timeout=self.settings.page_timeout,
                types=self.settings.page_types,
            )
        except BadContentType as exc:
            # A reported URL is often the media item itself: then it is a sighting on its own URL.
            result = await self._media(job.url)
            if result.http_status is not None:
                page.http_status, page.ip, page.country = result.http_status, result.ip, result.country
                sightings.append(SightingRecord(job.url, page.host, "direct", utcnow(), result))
            else:
                page.error = outcome.error = str(exc)
        except (FetchError, ScannerError) as exc:
            page.error = outcome.error = str(exc)
        else:
            page.http_status, page.ip = fetched.status, fetched.ip
            page.country = country_of(fetched.ip)
            if fetched.status >= 400:
                page.error = outcome.error = f"HTTP {fetched.status}"
            else:
                html = decode_html(fetched.content, fetched.headers.get("content-type"))
                base = fetched.final_url  # links are relative to where a redirect led
                del fetched
                found = await asyncio.to_thread(extract, html, base)
                outcome.links = found.links
                page.links_count = len(found.links)
                results = await asyncio.gather(*(self._media(ref.url) for ref in found.media))
                seen_at = utcnow()
                for ref, result in zip(found.media, results, strict=True):
                    sightings.append(
                        SightingRecord(ref.url, host_key(ref.url), ref.found_as, seen_at, result)
                    )
        outcome.media = len(sightings)
        outcome.matched = sum(s.media.verdict in MATCHED_VERDICTS for s in sightings)
        await asyncio.to_thread(self._recorder.write_page, page, sightings)
        return outcome

    # -- media ------------------------------------------------------------------------------
    async def _media(self, url: str) -> MediaResult:
        task = self._media_cache.get(url)
        if task is None:
            if len(self._media_cache) >= MEDIA_CACHE_MAX:
                self._forget_oldest()
            task = self._media_cache[url] = asyncio.ensure_future(self._fetch_media(url))
        return await task

    def _forget_oldest(self) -> None:
        """Drop the oldest tenth of finished results (dicts keep insertion order)."""
        done = [u for u, t in self._media_cache.items() if t.done()][: MEDIA_CACHE_MAX // 10 or 1]
        for url in done:
            del self._media_cache[url]

    async def _fetch_media(self, url: str) -> MediaResult:
        async with self._media_slots:
            try:
                fetched = await self._get(
                    url,
                    max_bytes=self.settings.media_max_bytes,
                    timeout=self.settings.media_timeout,
                    types=self.settings.media_types + _GENERIC_TYPES,
                )
            except (OutOfScope, RobotsDisallowed) as exc:
                return MediaResult(verdict=SKIPPED, error=str(exc))
            except FetchError as exc:
                return MediaResult(verdict=ERROR, error=str(exc))
            status, ip = fetched.status, fetched.ip
            content_type = fetched.headers.get("content-type")
            size = len(fetched.content)
            if status >= 300:
                result = MediaResult(verdict=ERROR, error=f"HTTP {status}")
            else:
                result = await self._hashing.run(fetched.content)
            del fetched  # the bytes go now; only what was computed from them stays
        result.http_status, result.ip, result.country = status, ip, country_of(ip)
        result.content_type, result.size = content_type, size
        return result
