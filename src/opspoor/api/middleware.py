"""The one ASGI middleware: request ids, body size limits and request metrics.

Written as plain ASGI (not BaseHTTPMiddleware) because it runs on every request and must stay cheap.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opspoor.api.metrics import Metrics
from opspoor.api.settings import Settings

_CLIENT_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")


class BodyTooLargeHTTP(HTTPException):
    """Raised from `receive` so that FastAPI's body parsing passes it through as 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


def body_limit(settings: Settings, path: str) -> int:
    if path == "/v1/check/file":
        return settings.max_file_bytes
    if path.startswith("/v1/lists/") and path.endswith("/import"):
        return settings.max_import_bytes
    return settings.max_body_bytes


class Edge:
    def __init__(self, app: ASGIApp, settings: Settings, metrics: Metrics, fastapi_app: ASGIApp) -> None:
        self.app = app
        self.settings = settings
        self.metrics = metrics
        self.fastapi_app = fastapi_app  # what request.app must be on the fast path
        self.fast_hashes = settings.fast_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        rid = ""
        declared = -1
        for name, value in scope["headers"]:
            if name == b"x-request-id" and _CLIENT_ID.match(value):
                rid = value.decode()  # keep the caller's id, so both sides log the same one
            elif name == b"content-length":
                declared = int(value) if value.isdigit() else -1
        rid = rid or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        rid_header = (b"x-request-id", rid.encode())
        limit = body_limit(self.settings, scope["path"])
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message["headers"] = [*headers, rid_header]
            await send(message)

        try:
            if declared > limit:
                await _too_large(send_with_id, limit, rid)
                return
            capped = _capped(receive, limit)
            if self.fast_hashes and scope["method"] == "POST" and scope["path"] == "/v1/check/hashes":
                from opspoor.api.fastpath import check_hashes

                scope["app"] = self.fastapi_app
                await check_hashes(scope, capped, send_with_id)
                return
            await self.app(scope, capped, send_with_id)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or (
                scope["path"] if scope["path"] == "/v1/check/hashes" else "unmatched"
            )
            self.metrics.observe(path, scope["method"], status, time.perf_counter() - start)


def _capped(receive: Receive, limit: int) -> Callable[[], object]:
    received = 0

    async def wrapped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLargeHTTP(limit)
        return message

    return wrapped


async def _too_large(send: Send, limit: int, rid: str) -> None:
    import json

    body = json.dumps(
        {
            "error": "body_too_large",
            "message": f"the request body is larger than the limit of {limit} bytes",
            "details": [],
            "request_id": rid,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
