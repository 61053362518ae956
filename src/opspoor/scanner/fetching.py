"""The scanner's HTTP client: the hardened fetcher (opspoor.net.fetch) on a connection pool whose
transport refuses any request outside the scan's scope, redirect hops included.

The fetcher already refuses private, loopback and link-local addresses on every hop and pins each
connection to the checked address; this layer adds the scope, which the fetcher does not know about.
A refused hop surfaces from the fetcher as FetchFailed caused by `_OutOfScopeHop`; `get` turns it
into the scanner's typed OutOfScope.
"""

from __future__ import annotations

from collections.abc import Collection

import httpx

from opspoor.net.fetch import Fetched, FetchFailed, fetch
from opspoor.scanner.errors import OutOfScope
from opspoor.scanner.scope import Scope, host_key, normalise_url


class _OutOfScopeHop(httpx.TransportError):
    """Raised inside the transport; never leaves this module."""


class ScopedTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, scope: Scope) -> None:
        self._inner = inner
        self._scope = scope

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # The fetcher connects to the checked IP and names the real host in the Host header.
        host = request.headers.get("host", "")
        url = normalise_url(f"{request.url.scheme}://{host}/")
        if url is None or not self._scope.contains(url):
            raise _OutOfScopeHop(f"{host or request.url.host!r} is outside the scan's scope", request=request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def scoped_client(scope: Scope, *, connections: int, timeout: float) -> httpx.AsyncClient:
    inner = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        trust_env=False,
    )
    return httpx.AsyncClient(
        transport=ScopedTransport(inner, scope),
        trust_env=False,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
    )


async def get(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    allowed_content_types: Collection[str] | None,
    allow_private: bool,
) -> Fetched:
    """Fetch `url` through `client`; OutOfScope if it or any redirect hop leaves the scope."""
    try:
        return await fetch(
            url,
            max_bytes=max_bytes,
            timeout=timeout,
            allowed_content_types=allowed_content_types,
            allow_private=allow_private,
            client=client,
        )
    except FetchFailed as exc:
        if isinstance(exc.__cause__, _OutOfScopeHop):
            raise OutOfScope(f"{url}: redirected outside the scan's scope ({exc.__cause__})") from None
        raise


def check_scope(scope: Scope, url: str) -> None:
    if not scope.contains(url):
        raise OutOfScope(f"{host_key(url)} is outside the scan's scope; {url} not fetched")
