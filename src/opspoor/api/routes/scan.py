"""Scans over HTTP: submit URLs for scanning, follow a scan, query sightings and the analyst queue.

A scan runs in the background of the server process that accepted it (202 with its id); its
progress and results are in the store, so any server process can answer for it. Submitting needs
the analyst or admin role, and the operator must enable it (OPSPOOR_SCAN_API=1): a server that
crawls third-party sites on request is a capability to switch on deliberately. Every submission is
written to the audit log.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from opspoor.api.auth import require, service
from opspoor.api.errors import Forbidden, NotFound, request_id
from opspoor.api.keys import KeyInfo
from opspoor.api.models import ErrorBody
from opspoor.scanner.settings import ENV_SCAN_API, ScanSettings, scan_api_enabled

router = APIRouter(prefix="/v1", tags=["scanner"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    429: {"model": ErrorBody},
}
# Who may start crawls: they reach out to third-party servers on the operator's behalf.
SCAN_ROLES = frozenset({"analyst", "admin"})
_MAX_ID = 2**62  # ids are 64-bit in the store; larger numbers cannot name anything
_running: set[asyncio.Task[Any]] = set()  # keep references: the loop holds tasks only weakly


class ScanIn(BaseModel):
    urls: list[str] = Field(min_length=1, max_length=100, description="Seed or reported URLs (http/https).")
    scope: Literal["host", "domain", "list"] = "host"
    hosts: list[str] = Field(default_factory=list, max_length=100, description="Further hosts (scope list).")
    max_pages: int = Field(100, ge=1, le=10_000)
    max_depth: int = Field(3, ge=0, le=20)
    robots: Literal["obey", "ignore"] = "obey"
    lists: list[str] | None = Field(None, description="Match against these lists only (default: all).")


class ScanOut(BaseModel):
    scan_id: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    seeds: list[str]
    scope: str
    pages: int
    media: int
    matched: int
    error: str | None
    request_id: str


class SightingOut(BaseModel):
    id: int
    scan_id: int
    media_url: str
    page_url: str
    host: str
    page_host: str
    found_as: str
    ip: str | None
    country: str | None
    seen_at: datetime
    http_status: int | None
    verdict: str
    sha256: str | None
    md5: str | None
    pdq: str | None
    pdq_quality: int | None
    matches: list[dict[str, Any]]
    error: str | None
    risk: float | None
    risk_parts: list[dict[str, Any]]


class SightingsOut(BaseModel):
    sightings: list[SightingOut]
    request_id: str


class QueueItemOut(BaseModel):
    id: int
    sha256: str
    pdq: str | None
    score: float
    parts: list[dict[str, Any]]
    state: str
    queued_at: datetime
    media_url: str
    page_url: str
    host: str


class QueueOut(BaseModel):
    items: list[QueueItemOut]
    request_id: str


def _scan_out(request: Request, scan: Any) -> ScanOut:
    return ScanOut(
        scan_id=scan.id,
        status=scan.status,
        started_at=scan.started_at,
        finished_at=scan.finished_at,
        seeds=scan.seeds,
        scope=scan.scope,
        pages=scan.pages_count,
        media=scan.media_count,
        matched=scan.matched_count,
        error=scan.error,
        request_id=request_id(request),
    )


def _may_scan(caller: KeyInfo) -> None:
    if not caller.roles & SCAN_ROLES:
        raise Forbidden(f"starting a scan needs one of the roles: {', '.join(sorted(SCAN_ROLES))}")


@router.post("/scans", status_code=202, response_model=ScanOut, summary="Scan URLs.", responses=_ERRORS)
async def submit(request: Request, body: ScanIn, caller: KeyInfo = Depends(require("check"))) -> ScanOut:
    from opspoor.audit.chain import log
    from opspoor.scanner.scan import check_seeds, open_scan, scan_async
    from opspoor.store.db import default_url, transaction
    from opspoor.store.scanner import Scan

    _may_scan(caller)
    if not scan_api_enabled():
        raise Forbidden(f"scanning is not enabled on this server (the operator sets {ENV_SCAN_API}=1)")
    state = service(request)
    seeds = check_seeds(body.urls)
    settings = ScanSettings(
        scope=body.scope,
        extra_hosts=tuple(body.hosts),
        max_pages=body.max_pages,
        max_depth=body.max_depth,
        robots=body.robots,
        lists=tuple(body.lists) if body.lists else None,
        # A test setting of the server (never from the request): reach a loopback fixture site.
        allow_private=state.settings.fetch_allow_private,
    )
    scan_id = await asyncio.to_thread(open_scan, state.factory, seeds, settings, caller.actor)
    with transaction(state.factory) as session:
        log(session, caller.actor, "scan.submit", f"scan:{scan_id}", {"urls": seeds, **body.model_dump()})
        scan = session.get(Scan, scan_id)
        out = _scan_out(request, scan)
    url = state.settings.db_url or default_url()
    task = asyncio.create_task(scan_async(seeds, settings, url, scan_id=scan_id, requested_by=caller.actor))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return out


@router.get("/scans/{scan_id}", response_model=ScanOut, summary="A scan's state.", responses=_ERRORS)
def get_scan(
    request: Request,
    scan_id: int = PathParam(ge=1, le=_MAX_ID),
    caller: KeyInfo = Depends(require("check")),
) -> ScanOut:
    from opspoor.store.scanner import Scan

    _may_scan(caller)
    with service(request).factory() as session:
        scan = session.get(Scan, scan_id)
        if scan is None:
            raise NotFound(f"no scan with id {scan_id}")
        return _scan_out(request, scan)


@router.get("/sightings", response_model=SightingsOut, summary="Where media was seen.", responses=_ERRORS)
def sightings(
    request: Request,
    hash: str | None = Query(None, description="MD5, SHA-1, SHA-256 or PDQ hex."),
    host: str | None = Query(None, max_length=255),
    country: str | None = Query(None, min_length=2, max_length=2),
    min_risk: float | None = Query(None, ge=0, le=100),
    scan: int | None = Query(None, ge=1, le=_MAX_ID),
    limit: int = Query(100, ge=1, le=1000),
    caller: KeyInfo = Depends(require("check")),
) -> SightingsOut:
    from opspoor.scanner.query import find_sightings

    _may_scan(caller)
    with service(request).factory() as session:
        found = find_sightings(
            session, hash_value=hash, host=host, country=country, min_risk=min_risk, scan_id=scan, limit=limit
        )
    return SightingsOut(
        sightings=[SightingOut(**{k: v for k, v in s.__dict__.items()}) for s in found],
        request_id=request_id(request),
    )


@router.get("/scan-queue", response_model=QueueOut, summary="Unknown high-risk hashes.", responses=_ERRORS)
def queue(
    request: Request,
    state: Literal["new", "taken", "confirmed", "rejected"] = "new",
    limit: int = Query(100, ge=1, le=1000),
    caller: KeyInfo = Depends(require("check")),
) -> QueueOut:
    from opspoor.scanner.queue import pending

    _may_scan(caller)
    with service(request).factory() as session:
        items = [
            QueueItemOut(
                id=i.id,
                sha256=i.sha256,
                pdq=i.pdq,
                score=i.score,
                parts=i.parts,
                state=i.state,
                queued_at=i.queued_at,
                media_url=i.media_url,
                page_url=i.page_url,
                host=i.host,
            )
            for i in pending(session, limit=limit, state=state)
        ]
    return QueueOut(items=items, request_id=request_id(request))
