"""The app factory: one FastAPI app per process, on the same store, index and matching as the CLI.

`create_app(settings)` wires routers, the auth dependency (inside each router), error handlers and
the one ASGI middleware; the lifespan opens the store, loads the matcher and starts the background
task that keeps the index in step with list changes. Other parts add their router with one line in
ROUTERS.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from opspoor import __version__
from opspoor.api import errors
from opspoor.api.auth import SECURITY_SCHEMES
from opspoor.api.metrics import Metrics
from opspoor.api.middleware import Edge
from opspoor.api.routes import audit, check, health, lists, metrics, scan
from opspoor.api.settings import Settings
from opspoor.api.state import ServiceState
from opspoor.web import router as web

# One row per router (the scanner and the hotline add theirs here).
ROUTERS = (health.router, check.router, lists.router, audit.router, metrics.router, scan.router, web.router)

DESCRIPTION = """Check media against hash lists of known material without sending the media: send hashes
(`/v1/check/hashes`), or a file that is hashed in memory and discarded (`/v1/check/file`). Every match
carries its evidence (list, classification, signal, distance, quality); every response a request id
(`X-Request-ID`). Authenticate with an API key (`Authorization: Bearer <key>` or `X-API-Key`)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: ServiceState = app.state.service
        await asyncio.to_thread(state.start)
        task = asyncio.create_task(state.refresh_forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await asyncio.to_thread(state.audit.close)
            state.engine.dispose()

    app = FastAPI(
        title="opspoor hash-check service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.service = ServiceState(settings)
    app.state.metrics = Metrics()
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(Edge, settings=settings, metrics=app.state.metrics, fastapi_app=app)
    _declare_security(app)
    return app


def _declare_security(app: FastAPI) -> None:
    """Every operation needs a key (ApiKey or Bearer) unless it says otherwise (health: none)."""
    plain_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = plain_openapi()
            spec.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            spec["security"] = [{name: []} for name in SECURITY_SCHEMES]
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app_from_env() -> FastAPI:
    """For `uvicorn --factory` worker processes: settings come from OPSPOOR_API_* variables."""
    return create_app(Settings.from_env())
