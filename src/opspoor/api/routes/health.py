"""Liveness (no key: load balancers probe it) and readiness (a key: it tells the index's state)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request

from opspoor import __version__
from opspoor.api.auth import require, service
from opspoor.api.errors import NotReady, request_id
from opspoor.api.keys import KeyInfo
from opspoor.api.models import ErrorBody, Health, Ready

router = APIRouter(prefix="/v1", tags=["health"])


@router.get(
    "/health", response_model=Health, summary="Liveness: the process answers.", openapi_extra={"security": []}
)
async def health() -> Health:
    return Health(version=__version__)


@router.get(
    "/ready",
    response_model=Ready,
    summary="Readiness: the database answers and the index is loaded and recent.",
    responses={503: {"model": ErrorBody}},
)
async def ready(request: Request, _caller: KeyInfo = Depends(require("ready"))) -> Ready:
    state = service(request)
    if state.matcher is None:
        raise NotReady("the index is still loading")
    try:
        await asyncio.to_thread(state.ping)
    except Exception as exc:  # noqa: BLE001 - any database failure means: not ready
        raise NotReady(f"the database does not answer ({type(exc).__name__})") from None
    age = state.staleness()
    # Three missed refreshes (or at least 10 s) and this process no longer follows list changes.
    if age > max(10.0, 3 * state.settings.refresh_interval):
        raise NotReady(f"the index has not followed list changes for {age:.0f} s ({state.refresh_error})")
    return Ready(
        entries_indexed=len(state.matcher), index_age_seconds=round(age, 3), request_id=request_id(request)
    )
