"""Who may call what: API key authentication, role checks and per-key rate limits, in one place.

A key is sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Routes declare the permission
they need (`require("check")`); the table below says which roles grant it. An unknown or revoked key
gets 401, a valid key without the permission 403, a key over its rate 429 with Retry-After.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

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

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An opspoor API key.")
_bearer = HTTPBearer(auto_error=False, description="An opspoor API key as a bearer token.")


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

    async def dependency(
        request: Request,
        api_key: str | None = Security(_api_key),
        bearer: HTTPAuthorizationCredentials | None = Security(_bearer),
    ) -> KeyInfo:
        return authorize(request, api_key or (bearer.credentials if bearer else None), permission)

    return dependency


async def metrics_access(
    request: Request,
    api_key: str | None = Security(_api_key),
    bearer: HTTPAuthorizationCredentials | None = Security(_bearer),
) -> KeyInfo | None:
    """An admin key for /metrics, unless the operator made it public (Settings.metrics_public)."""
    if service(request).settings.metrics_public:
        return None
    return authorize(request, api_key or (bearer.credentials if bearer else None), "metrics")
