"""Counting events per key in a sliding window, in this process's memory: slows password guessing at
/login and report floods at /report (each server process counts on its own, like the API's limits)."""

from __future__ import annotations

import threading
import time


class Throttle:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        if len(self._events) > 10_000:  # made-up keys must not grow memory without bound
            self._events.clear()
        recent = [t for t in self._events.get(key, []) if now - t < self.window]
        self._events[key] = recent
        return recent

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= self.limit

    def count(self, key: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent(key, now).append(now)

    def reset(self) -> None:
        with self._lock:
            self._events.clear()
