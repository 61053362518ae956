"""The web UI's routes in one router for the app factory, plus its two static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from opspoor.web import api_reports, pages_auth, pages_ops, pages_report, pages_review

STATIC = Path(__file__).parent / "static"
_TYPES = {"web.css": "text/css; charset=utf-8", "web.js": "text/javascript; charset=utf-8"}

router = APIRouter(include_in_schema=False)
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
