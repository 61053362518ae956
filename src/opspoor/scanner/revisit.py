"""Re-visit sightings: is the item still online, and are its bytes the same? Used to check that a
removal notice worked (the item is gone) or that a host swapped the file.

The media URL alone is fetched again (scope: its own host), through the same hardened fetcher and
limits as a scan; the new bytes are hashed in memory and dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from opspoor.net.fetch import FetchError
from opspoor.scanner import fetching
from opspoor.scanner.errors import NotFound, ScannerError
from opspoor.scanner.scope import Scope
from opspoor.scanner.settings import ScanSettings
from opspoor.store.db import transaction
from opspoor.store.lists import utcnow
from opspoor.store.scanner import Revisit, Sighting


@dataclass
class RevisitResult:
    sighting_id: int
    media_url: str
    online: bool
    changed: bool | None  # None: nothing to compare (offline, or never hashed)
    http_status: int | None
    sha256: str | None
    pdq: str | None
    pdq_distance: int | None
    error: str | None


async def _check(s: Sighting, settings: ScanSettings) -> RevisitResult:
    from opspoor.signals.compute import compute_signals
    from opspoor.signals.pdq import hamming

    result = RevisitResult(s.id, s.media_url, False, None, None, None, None, None, None)
    client = fetching.scoped_client(
        Scope.build("host", [s.media_url]), connections=2, timeout=settings.media_timeout
    )
    try:
        fetched = await fetching.get(
            client,
            s.media_url,
            max_bytes=settings.media_max_bytes,
            timeout=settings.media_timeout,
            allowed_content_types=None,
            allow_private=settings.allow_private,
        )
    except (FetchError, ScannerError) as exc:
        result.error = str(exc)
        return result
    finally:
        await client.aclose()
    result.http_status = fetched.status
    if fetched.status >= 300:
        result.error = f"HTTP {fetched.status}"
        return result
    result.online = True
    signals = await asyncio.to_thread(compute_signals, fetched.content)
    del fetched
    result.sha256, result.pdq = signals.sha256, signals.pdq
    if s.sha256:
        result.changed = signals.sha256 != s.sha256
    if s.pdq and signals.pdq:
        result.pdq_distance = hamming(s.pdq, signals.pdq)
    return result


def _load(session: Session, ids: Sequence[int]) -> list[Sighting]:
    rows = {s.id: s for s in session.execute(select(Sighting).where(Sighting.id.in_(ids))).scalars()}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise NotFound(f"no sighting with id {', '.join(map(str, missing))}")
    return [rows[i] for i in ids]


async def revisit_async(
    factory: sessionmaker[Session], sighting_ids: Sequence[int], settings: ScanSettings
) -> list[RevisitResult]:
    with factory() as session:
        sightings = _load(session, list(sighting_ids))
    results = await asyncio.gather(*(_check(s, settings) for s in sightings))
    with transaction(factory) as session:
        now = utcnow()
        for r in results:
            session.add(
                Revisit(
                    sighting_id=r.sighting_id,
                    checked_at=now,
                    http_status=r.http_status,
                    online=r.online,
                    changed=r.changed,
                    sha256=r.sha256,
                    pdq=r.pdq,
                    pdq_distance=r.pdq_distance,
                    error=r.error,
                )
            )
    return list(results)


def revisit(
    factory: sessionmaker[Session], sighting_ids: Sequence[int], settings: ScanSettings
) -> list[RevisitResult]:
    return asyncio.run(revisit_async(factory, sighting_ids, settings))
