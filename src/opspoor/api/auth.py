"""Who may call what: API key authentication, role checks and per-key rate limits, in one place.

A key is sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Routes declare the permission
they need (`require("check")`); the table below says which roles grant it. An unknown or revoked key
gets 401, a valid key without the permission 403, a key over its rate 429 with Retry-After.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from fastapi import Request

from opspoor.api.errors import Forbidden, RateLimited, Unauthorized
from opspoor.api.keys import KeyInfo
from opspoor.api.state import ServiceState

PERMISSIONS: dict[str, frozenset[str]] = {
    "check": frozenset({"checker", "analyst", "admin"}),  # verdicts for hashes, files, URLs
    "read_lists": frozenset({"checker", "analyst", "curator", "admin"}),  # metadata of visible lists
    "export": frozenset({"analyst", "curator", "admin"}),  # the hashes in visible lists
    "curate": frozenset({"curator", "admin"}),  # create, import, add, disable, share own lists
    "audit": frozenset({"analyst", "admin"}),
    "metrics": frozenset({"admin"}),
    "ready": frozenset({"checker", "analyst", "curator", "admin"}),
}

# Declared in the OpenAPI document by app.py (SECURITY_SCHEMES); read here straight from the headers,
# because FastAPI's security-scheme dependencies cost more per request than the whole hash lookup.
SECURITY_SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "An opspoor API key."},
    "Bearer": {"type": "http", "scheme": "bearer", "description": "An opspoor API key as a bearer token."},
}


def presented_key(request: Request) -> str | None:
    headers = request.headers
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def service(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


def authorize(request: Request, key: str | None, permission: str) -> KeyInfo:
    """The caller's key info if `key` is valid, within its rate and its roles grant `permission`."""
    allowed = PERMISSIONS[permission]
    if not key:
        raise Unauthorized(
            "an API key is required (Authorization: Bearer <key> or X-API-Key)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    state = service(request)
    info = state.authenticate(key)
    if info is None:
        raise Unauthorized("the API key is not valid or was revoked", headers={"WWW-Authenticate": "Bearer"})
    request.state.caller = info
    wait = state.limiter.take(info.key_id)
    if wait > 0:
        raise RateLimited(
            f"rate limit of {state.settings.rate_per_second:g} requests/s for this key exceeded",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    if not info.roles & allowed:
        raise Forbidden(
            f"this key's roles ({', '.join(sorted(info.roles))}) do not allow {permission!r}; "
            f"that needs one of: {', '.join(sorted(allowed))}"
        )
    return info


def require(permission: str) -> Callable[..., Awaitable[KeyInfo]]:
    """A dependency that returns the caller's key info if its roles grant `permission`."""

    async def dependency(request: Request) -> KeyInfo:
        return authorize(request, presented_key(request), permission)

    return dependency


async def metrics_access(request: Request) -> KeyInfo | None:
    """An admin key for /metrics, unless the operator made it public (Settings.metrics_public)."""
    if service(request).settings.metrics_public:
        return None
    return authorize(request, presented_key(request), "metrics")
