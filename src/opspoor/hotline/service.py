"""The hotline: one object holding the store, settings, clock, media vault and matcher, with the
workflow's entry points (reports in, scheduled jobs run, analysts' assessments in).

The steps themselves live in triage.py (fetch, hash, match, queue), review.py (queue, consensus,
decision) and followup.py (notices, forwarding, re-checks, purges). Hosting-country lookup and the
clock are injectable, because loopback test servers have no country and deadlines are days long.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from opspoor import audit
from opspoor.hotline import scheduler
from opspoor.hotline.clock import Clock, SystemClock
from opspoor.hotline.errors import InvalidInput
from opspoor.hotline.settings import HotlineSettings
from opspoor.hotline.vault import Vault, load_key
from opspoor.matching.engine import Matcher
from opspoor.net.fetch import Fetched, fetch_sync
from opspoor.store.db import transaction
from opspoor.store.hotline import Item, Report

log = logging.getLogger("opspoor.hotline")

CountryLookup = Callable[[str, str | None], str | None]  # (host, ip) -> ISO code or None
REPORT_SOURCES = ("web", "api", "scanner")
FINAL_STATES = ("rejected", "removed", "unresolved", "failed")
URL_MAX = 2048


def fetch_media(settings: HotlineSettings, url: str) -> Fetched:
    """The hardened fetcher, callable from any thread, even one running an event loop (a test
    driving a browser, an async caller): then it runs in a short-lived thread of its own."""
    call = partial(
        fetch_sync,
        url,
        max_bytes=settings.fetch_max_bytes,
        timeout=settings.fetch_timeout,
        allow_private=settings.allow_private,
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(1, thread_name_prefix="hotline-fetch") as pool:
        return pool.submit(call).result()


def geoip_country(host: str, ip: str | None) -> str | None:
    from opspoor.scanner.geo import country_of

    return country_of(ip)


@dataclass(frozen=True)
class Submitted:
    report_id: int
    item_ids: list[int]


class Hotline:
    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: HotlineSettings | None = None,
        *,
        clock: Clock | None = None,
        country_lookup: CountryLookup | None = None,
    ) -> None:
        self.factory = factory
        self.settings = settings or HotlineSettings.from_env()
        self.clock: Clock = clock or SystemClock()
        self.country_lookup: CountryLookup = country_lookup or geoip_country
        self.vault = Vault(load_key(self.settings.media_key))
        self._matcher: Matcher | None = None
        self._matcher_lock = threading.Lock()

    def now(self) -> datetime:
        return self.clock.now()

    def matcher(self) -> Matcher:
        """The matcher over all active lists, brought up to date with list changes."""
        with self._matcher_lock:
            if self._matcher is None:
                self._matcher = Matcher.from_store(self.factory)
            else:
                self._matcher.refresh()
            return self._matcher

    # -- reports ----------------------------------------------------------------------------
    def submit(
        self,
        urls: list[str],
        *,
        source: str,
        reporter: str | None = None,
        comment: str | None = None,
        risk_hint: float | None = None,
        scanner_queue_id: int | None = None,
    ) -> Submitted:
        """Record a report; one item per media URL (a URL already open is not duplicated), each
        with a triage job due now."""
        if source not in REPORT_SOURCES:
            raise InvalidInput(f"report source is one of {', '.join(REPORT_SOURCES)}")
        clean = _clean_urls(urls, self.settings.max_report_urls)
        now = self.now()
        with transaction(self.factory) as session:
            report = Report(
                source=source,
                received_at=now,
                reporter=(reporter or None) and reporter[:255],
                comment=(comment or None) and comment[:4000],
            )
            session.add(report)
            session.flush()
            ids: list[int] = []
            for url in clean:
                existing = session.scalar(
                    select(Item.id).where(Item.url == url, Item.state.not_in(FINAL_STATES)).limit(1)
                )
                if existing is not None:
                    ids.append(existing)
                    continue
                parts = [{"name": "report", "points": 30.0, "why": f"reported ({source})"}]
                if risk_hint is not None:
                    parts = [{"name": "scanner", "points": float(risk_hint), "why": "scanner risk score"}]
                item = Item(
                    report_id=report.id,
                    url=url,
                    host=urlsplit(url).hostname or "",
                    state="new",
                    risk=sum(p["points"] for p in parts),
                    risk_parts=parts,
                    matches=[],
                    created_at=now,
                    notices_sent=0,
                    scanner_queue_id=scanner_queue_id,
                )
                session.add(item)
                session.flush()
                scheduler.schedule(session, "triage", item.id, now, now)
                ids.append(item.id)
            # A public reporter's contact details stay in the report, out of the (unerasable) audit log.
            audit.log(
                session,
                "public" if source == "web" else reporter or source,
                "hotline.report",
                f"report:{report.id}",
                {"source": source, "items": ids},
            )
            return Submitted(report.id, ids)

    # -- the scheduler ----------------------------------------------------------------------
    def run_due(self, limit: int = 100) -> int:
        """Run every job due now (in this thread); returns how many ran."""
        from opspoor.hotline import followup, triage

        handlers: dict[str, Callable[[Hotline, int], None]] = {
            "triage": triage.triage_item,
            "notify": followup.notify,
            "recheck": followup.recheck,
            "purge": followup.purge,
        }
        ran = 0
        with self.factory() as session:
            ids = scheduler.due(session, self.now(), limit)
        for job_id in ids:
            with transaction(self.factory) as session:
                job = scheduler.claim(session, job_id, self.now())
            if job is None:
                continue
            error = None
            try:
                handlers[job.kind](self, job.item_id or 0)
            except Exception as exc:  # noqa: BLE001 - one failing job must not stop the others
                log.exception("hotline job %s (%s) failed", job.id, job.kind)
                error = f"{type(exc).__name__}: {exc}"
            with transaction(self.factory) as session:
                scheduler.finish(session, job.id, self.now(), error)
            ran += 1
        return ran

    def import_scanner_queue(self, limit: int = 100) -> int:
        """Take the scanner's pending analyst-queue items into the hotline, highest risk first."""
        from opspoor.scanner.queue import decide, pending

        taken = 0
        with self.factory() as session:
            rows = [(q.id, q.media_url, q.score, q.page_url) for q in pending(session, limit)]
        for queue_id, url, score, page in rows:
            with transaction(self.factory) as session:
                decide(session, queue_id, "taken", "hotline")
            self.submit(
                [url],
                source="scanner",
                reporter="scanner",
                comment=f"found on {page}",
                risk_hint=score,
                scanner_queue_id=queue_id,
            )
            taken += 1
        return taken


def _clean_urls(urls: list[str], limit: int) -> list[str]:
    clean: list[str] = []
    for raw in urls:
        url = raw.strip()
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_MAX:
            raise InvalidInput(f"not an http(s) URL: {url[:100]!r}")
        if url not in clean:
            clean.append(url)
    if not clean:
        raise InvalidInput("a report needs at least one http(s) URL")
    if len(clean) > limit:
        raise InvalidInput(f"at most {limit} URLs per report")
    return clean
