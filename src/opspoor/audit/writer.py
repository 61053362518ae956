"""Group commit for the audit log: many requests' rows in one transaction.

Every match must be in the audit log before its verdict is answered, but one transaction (and one
fsync) per match caps a busy service at a few hundred matches per second. Requests hand their row to
one writer thread and wait; the thread writes whatever has queued up meanwhile in one transaction
and then wakes them all. Under light load a batch is one row; under heavy load batches grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from opspoor.audit.chain import log_many
from opspoor.store.db import transaction

log = logging.getLogger("opspoor.audit")

MAX_BATCH = 500
_Row = tuple[str, str, str, Mapping[str, Any] | None]
_Item = tuple[_Row, asyncio.Future[None], asyncio.AbstractEventLoop]


class AuditWriter:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def log(
        self, actor: str, action: str, subject: str, details: Mapping[str, Any] | None = None
    ) -> None:
        """Append a row; returns once it is committed (raises if the write failed)."""
        self._ensure_thread()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put(((actor, action, subject, details), future, loop))
        await future

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            error: BaseException | None = None
            try:
                with transaction(self._factory) as session:
                    log_many(session, [row for row, _, _ in batch])
            except Exception as exc:  # noqa: BLE001 - handed to every waiting request
                log.error("audit write of %d rows failed: %s", len(batch), exc)
                error = exc
            for _, future, loop in batch:
                # RuntimeError: that event loop has closed (the server is shutting down).
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle, future, error)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():  # the request was cancelled (client went away); the row is written anyway
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
