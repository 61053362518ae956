"""What one server process holds: store, matcher, who may see which list, key cache, rate limits.

The matcher follows list changes through `refresh()`, called by a background task every
`refresh_interval` seconds; the same pass re-reads list ownership and shares, so a list created or
shared through another server process becomes visible within about one interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from opspoor.api.keys import KeyInfo, hash_key, shares_by_tenant, verify_key
from opspoor.api.settings import Settings
from opspoor.audit.writer import AuditWriter
from opspoor.matching.engine import Matcher, Query
from opspoor.store.db import make_engine, migrate, session_factory
from opspoor.store.lists import HashList

log = logging.getLogger("opspoor.api")


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    """Token bucket per key, in this process's memory (each worker process limits on its own)."""

    rate: float
    burst: int
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key: str, now: float | None = None) -> float:
        """0 if the call may go ahead, else the seconds until it may."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate if self.rate > 0 else math.inf


class ServiceState:
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.db_url)
        self.factory: sessionmaker[Session] = session_factory(self.engine)
        self.matcher: Matcher | None = None
        self.limiter = RateLimiter(settings.rate_per_second, settings.rate_burst)
        self._keys: dict[str, tuple[KeyInfo | None, float]] = {}
        self._visible: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()
        self.last_refresh = 0.0  # time.monotonic() of the last successful refresh
        self.refresh_error: str | None = None
        self.audit = AuditWriter(self.factory)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    # -- start-up and keeping in step --------------------------------------------------------
    def start(self) -> None:
        migrate(self.engine)
        self.matcher = Matcher.from_store(self.factory)
        # Load (or compile) the index's machine code now, not during the first caller's request.
        self.matcher.match_values([Query("pdq", "0" * 64), Query("md5", "0" * 32)], lists=frozenset())
        self.reload_visibility()
        self.last_refresh = time.monotonic()
        # Everything loaded so far lives as long as the process: keep it out of the garbage
        # collector's full passes, which otherwise show up as latency spikes (gc.freeze docs).
        gc.collect()
        gc.freeze()

    def refresh(self) -> None:
        """Apply list changes and re-read visibility (runs in a worker thread)."""
        if self.matcher is None:
            return
        self.matcher.refresh()
        self.reload_visibility()
        self.last_refresh = time.monotonic()

    async def refresh_forever(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while True:
            # Every interval, or at once when this process changed a list (wake_refresh).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.refresh_interval)
            self._wake.clear()
            try:
                await asyncio.to_thread(self.refresh)
                self.refresh_error = None
            except Exception as exc:  # noqa: BLE001 - keep serving from the last good index
                self.refresh_error = f"{type(exc).__name__}: {exc}"
                log.warning("index refresh failed: %s", self.refresh_error)

    def wake_refresh(self) -> None:
        """Refresh soon, in the background (callable from any thread). A list-level change makes the
        matcher reload everything, which at millions of entries takes far longer than a request may."""
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: shutting down
                self._loop.call_soon_threadsafe(self._wake.set)

    def staleness(self) -> float:
        return time.monotonic() - self.last_refresh if self.last_refresh else math.inf

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    # -- who sees which list ----------------------------------------------------------------
    def reload_visibility(self) -> None:
        with self.factory() as session:
            owned: dict[str, set[str]] = {}
            for name, owner in session.execute(select(HashList.name, HashList.owner_tenant)):
                if owner:
                    owned.setdefault(owner, set()).add(name)
            shared = shares_by_tenant(session)
        visible = {
            tenant: frozenset(owned.get(tenant, set()) | shared.get(tenant, set()))
            for tenant in set(owned) | set(shared)
        }
        with self._lock:
            self._visible = visible

    def visible_lists(self, tenant: str) -> frozenset[str]:
        return self._visible.get(tenant, frozenset())

    # -- keys ---------------------------------------------------------------------------------
    def authenticate(self, key: str) -> KeyInfo | None:
        """The key's grants, from a short per-process cache (see Settings.key_cache_seconds)."""
        digest = hash_key(key)
        now = time.monotonic()
        cached = self._keys.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        with self.factory() as session:
            info = verify_key(session, key)
        if len(self._keys) > 10_000:  # a flood of made-up keys must not grow memory without bound
            self._keys.clear()
        self._keys[digest] = (info, now + self.settings.key_cache_seconds)
        return info

    def forget_keys(self) -> None:
        self._keys.clear()
