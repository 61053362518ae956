"""Per-host politeness: at most `concurrency` requests in flight and `rate` request starts per
second, per host."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class _HostState:
    def __init__(self, concurrency: int, interval: float) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.interval = interval
        self.next_start = 0.0


class HostLimiter:
    def __init__(self, rate: float, concurrency: int) -> None:
        self._interval = 1.0 / rate
        self._concurrency = concurrency
        self._hosts: dict[str, _HostState] = {}

    def slow_down(self, host: str, min_interval: float) -> None:
        """Never start requests to `host` closer than `min_interval` s apart (robots Crawl-delay)."""
        state = self._state(host)
        state.interval = max(state.interval, min_interval)

    def _state(self, host: str) -> _HostState:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _HostState(self._concurrency, self._interval)
        return state

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        state = self._state(host)
        async with state.slots:
            now = time.monotonic()
            start = max(now, state.next_start)
            state.next_start = start + state.interval
            if start > now:
                await asyncio.sleep(start - now)
            yield
