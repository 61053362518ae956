"""Prometheus metrics at /metrics (an admin key, unless Settings.metrics_public)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from opspoor.api.auth import metrics_access, service
from opspoor.api.keys import KeyInfo

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    summary="Prometheus metrics of this process.",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request, _caller: KeyInfo | None = Depends(metrics_access)) -> Response:
    state = service(request)
    m = request.app.state.metrics
    if state.matcher is not None:
        m.index_entries.set(len(state.matcher))
    m.index_age.set(state.staleness())
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
