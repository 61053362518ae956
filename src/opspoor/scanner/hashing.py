"""Hash and match media bytes off the event loop: in threads (default) or in worker processes.

Threads are enough where decoding releases the GIL; on a busy machine the hashing threads starve
the crawler's event loop of the GIL, and processes keep the loop responsive (`hash_processes`).
Each process builds its own matcher from the store. Bytes reach a process through a pipe, never
through a file.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine

from opspoor.scanner.records import ERROR, MediaResult


def load_matcher(store_url: str, lists: Sequence[str] | None) -> tuple[Any, Engine]:
    """The matcher over the store's active entries, and the engine it keeps to read hit details."""
    from opspoor.matching.engine import Matcher
    from opspoor.store.db import make_engine, session_factory

    engine = make_engine(store_url)
    return Matcher.from_store(session_factory(engine), list(lists) if lists else None), engine


def hash_and_match(data: bytes, matcher: Any, lists: Sequence[str] | None) -> MediaResult:
    """Every applicable signal of `data`, and the matcher's verdict."""
    from opspoor.signals.compute import check_signals

    # Every-frame video hashing would cost seconds per video: the scanner records 1 fps vPDQ only.
    signals = check_signals(data, video_segments=False)
    result = MediaResult(
        verdict="unknown",
        kind=signals.kind,
        width=signals.width,
        height=signals.height,
        md5=signals.md5,
        sha1=signals.sha1,
        sha256=signals.sha256,
        pdq=signals.pdq,
        pdq_quality=signals.pdq_quality,
        extra=dict(signals.extra) or None,
        error=signals.error,
    )
    if matcher is not None:
        verdict = matcher.match_file(signals, lists=lists)
        result.verdict = verdict.verdict
        result.matches = [m.as_dict() for m in verdict.matches]
    if result.verdict == "unknown" and signals.error and signals.kind == "unknown":
        result.verdict = ERROR  # not media we can read; the exact hashes are still kept
    return result


_process_matcher: Any = None


def _init_process(store_url: str, lists: Sequence[str] | None) -> None:
    global _process_matcher
    _process_matcher, _engine = load_matcher(store_url, lists)


def _ready(pause: float) -> bool:
    time.sleep(pause)  # long enough that the pool starts another process for the next call
    return _process_matcher is not None


def _hash_in_process(data: bytes, lists: Sequence[str] | None) -> MediaResult:
    return hash_and_match(data, _process_matcher, lists)


class HashPool:
    def __init__(
        self,
        store_url: str,
        lists: Sequence[str] | None,
        *,
        threads: int,
        processes: int,
        matcher: Any = None,
    ) -> None:
        self._store_url = store_url
        self._lists = list(lists) if lists else None
        self._threads = threads or len(os.sched_getaffinity(0))
        self._processes = processes
        self._matcher = matcher
        self._engine: Engine | None = None
        self._pool: Executor | None = None

    async def start(self) -> None:
        if self._processes:
            self._pool = ProcessPoolExecutor(
                self._processes,
                mp_context=mp.get_context("forkserver"),
                initializer=_init_process,
                initargs=(self._store_url, self._lists),
            )
            # Start every process (and its matcher) now, not on the first image: start-up errors
            # surface before the crawl, and the crawl starts with all of them ready.
            loop = asyncio.get_running_loop()
            await asyncio.gather(
                *(loop.run_in_executor(self._pool, _ready, 0.2) for _ in range(self._processes))
            )
            return
        if self._matcher is None:
            self._matcher, self._engine = await asyncio.to_thread(load_matcher, self._store_url, self._lists)
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="opspoor-hash")

    async def run(self, data: bytes) -> MediaResult:
        if self._pool is None:
            raise RuntimeError("HashPool.start() was not awaited")
        loop = asyncio.get_running_loop()
        if self._processes:
            return await loop.run_in_executor(self._pool, _hash_in_process, data, self._lists)
        return await loop.run_in_executor(self._pool, hash_and_match, data, self._matcher, self._lists)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._engine is not None:
            self._engine.dispose()
