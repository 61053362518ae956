"""The web UI's routes in one router for the app factory, plus its two static files."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from opspoor.hotline.runner import start_background
from opspoor.web import api_reports, pages_auth, pages_ops, pages_report, pages_review
from opspoor.web.context import hotline_of

STATIC = Path(__file__).parent / "static"
_TYPES = {"web.css": "text/css; charset=utf-8", "web.js": "text/javascript; charset=utf-8"}


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Runs inside the service's lifespan (after the store is migrated): the hotline scheduler runs
    in this process every `scheduler_interval` seconds, and stops with the server."""
    hl = hotline_of(app)
    stop = threading.Event()
    thread = start_background(hl, stop)
    try:
        yield
    finally:
        stop.set()
        if thread is not None:
            await asyncio.to_thread(thread.join, 30)


router = APIRouter(include_in_schema=False, lifespan=lifespan)
for _sub in (
    pages_auth.router,
    pages_review.router,
    pages_ops.router,
    pages_report.router,
    api_reports.router,
):
    router.include_router(_sub)


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in _TYPES:
        raise HTTPException(404, "no such file")
    return Response(
        (STATIC / name).read_bytes(), media_type=_TYPES[name], headers={"Cache-Control": "max-age=300"}
    )
