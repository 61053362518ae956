"""The one hardened HTTP fetcher: every URL opspoor downloads goes through `fetch`.

Why each guard exists (server-side request forgery is the classic hole of hash services; HMA's
`/h/hash?url=` follows redirects to private addresses):
- Only http and https, no credentials in the URL.
- The host is resolved once per hop, every answer is checked (a name that resolves to one public
  and one private address is refused), and the connection is pinned to the checked address, so a
  DNS answer that changes between check and connect (DNS rebinding) cannot reach an internal host.
  TLS still verifies the certificate against the real host name (SNI and hostname check use it).
- Redirects are followed by hand, and every hop is checked again.
- The body is streamed and cut at `max_bytes` (also when the server lies about or omits
  Content-Length); the whole exchange, DNS included, has one deadline of `timeout` seconds.
- Proxy settings from the environment are ignored (a proxy would connect on our behalf, unchecked).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import httpx

from opspoor.errors import OpspoorError

_SCHEMES = {"http": 80, "https": 443}
_REDIRECTS = {301, 302, 303, 307, 308}
# NAT64 (RFC 6052) embeds an IPv4 address in the low 32 bits; check that one.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_USER_AGENT = "opspoor-fetch/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(OpspoorError):
    """A URL could not be fetched safely."""


class BadURL(FetchError):
    """The URL is not an absolute http(s) URL we are willing to fetch."""


class BlockedAddress(FetchError):
    """The host resolves to an address that must never be reached from a public service."""


class ResponseTooLarge(FetchError):
    """The body is larger than the caller's limit."""


class FetchTimeout(FetchError):
    """The exchange took longer than the caller's deadline."""


class BadContentType(FetchError):
    """The response's content type is not one the caller accepts."""


class TooManyRedirects(FetchError):
    """The redirect chain is longer than allowed."""


class FetchFailed(FetchError):
    """The connection or the HTTP exchange failed."""


@dataclass(frozen=True)
class Fetched:
    url: str  # as asked for
    final_url: str  # after redirects
    status: int
    headers: Mapping[str, str]
    content: bytes
    ip: str  # the address the final response came from


def blocked_reason(ip: IPAddress) -> str | None:
    """Why `ip` must not be contacted, or None for a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or (ip.sixtofour if ip.sixtofour else None)
        if ip.teredo:
            embedded = ip.teredo[1]
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = blocked_reason(embedded)
            return f"{inner} (embedded in {ip})" if inner else None
    for flag, reason in (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
    ):
        if flag:
            return reason
    if not ip.is_global:  # e.g. 100.64.0.0/10 carrier-grade NAT, documentation ranges
        return "not globally routable"
    return None


async def _resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (A and AAAA), in resolver order."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchFailed(f"cannot resolve host {host!r}: {exc.strerror}") from exc
    seen: list[str] = []
    for info in infos:
        addr = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        if addr not in seen:
            seen.append(addr)
    return seen


def _check_url(url: httpx.URL) -> tuple[str, int]:
    if url.scheme not in _SCHEMES:
        raise BadURL(f"only http and https URLs can be fetched, not {url.scheme or 'a relative URL'!r}")
    if not url.host:
        raise BadURL("the URL has no host")
    if url.userinfo:
        raise BadURL("URLs with a user name or password are not fetched")
    return url.host, url.port or _SCHEMES[url.scheme]


async def _pick_address(host: str, port: int, allow_private: bool) -> str:
    """The checked address to connect to; refuses if any answer is blocked."""
    try:
        answers = [str(ipaddress.ip_address(host))]
    except ValueError:  # a name, not a literal address
        answers = await _resolve(host, port)
    if not answers:
        raise FetchFailed(f"host {host!r} has no address")
    if not allow_private:
        for answer in answers:
            reason = blocked_reason(ipaddress.ip_address(answer))
            if reason:
                raise BlockedAddress(f"host {host!r} resolves to a {reason} address ({answer}); refused")
    return answers[0]


def _pinned_request(client: httpx.AsyncClient, url: httpx.URL, ip: str) -> httpx.Request:
    """A GET for `url` that connects to `ip` but speaks to the original host (Host, SNI, cert)."""
    request = client.build_request(
        "GET",
        url.copy_with(host=ip),
        headers={
            "Host": url.netloc.decode("ascii"),
            # Compressed bodies would make the byte cap apply to the wire, not to what we keep.
            "Accept-Encoding": "identity",
            "User-Agent": _USER_AGENT,
        },
    )
    request.extensions["sni_hostname"] = url.host
    return request


def _type_allowed(content_type: str, allowed: Collection[str]) -> bool:
    main = content_type.split(";", 1)[0].strip().lower()
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern == main or (pattern.endswith("/*") and main.startswith(pattern[:-1])):
            return True
    return False


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge(f"the response declares {declared} bytes, more than the limit {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLarge(f"the response is larger than the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _fetch_chain(
    url: str,
    client: httpx.AsyncClient,
    *,
    max_bytes: int,
    allowed_content_types: Collection[str] | None,
    allow_private: bool,
    max_redirects: int,
) -> Fetched:
    try:
        current = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise BadURL(f"not a valid URL: {exc}") from exc
    for _hop in range(max_redirects + 1):
        host, port = _check_url(current)
        ip = await _pick_address(host, port, allow_private)
        request = _pinned_request(client, current, ip)
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"no answer from {host!r} in time") from exc
        except httpx.HTTPError as exc:
            raise FetchFailed(f"fetching from {host!r} failed: {type(exc).__name__}") from exc
        try:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                try:
                    current = current.join(response.headers["location"])
                except (httpx.InvalidURL, ValueError) as exc:
                    raise BadURL(f"the server redirected to an invalid URL: {exc}") from exc
                continue
            content_type = response.headers.get("content-type", "")
            if allowed_content_types is not None and not _type_allowed(content_type, allowed_content_types):
                raise BadContentType(f"content type {content_type or 'none'!r} is not accepted")
            try:
                content = await _read_capped(response, max_bytes)
            except httpx.TimeoutException as exc:
                raise FetchTimeout(f"the body from {host!r} did not arrive in time") from exc
            except httpx.HTTPError as exc:
                raise FetchFailed(f"reading from {host!r} failed: {type(exc).__name__}") from exc
            return Fetched(
                url=url,
                final_url=str(current),
                status=response.status_code,
                headers=dict(response.headers),
                content=content,
                ip=ip,
            )
        finally:
            await response.aclose()
    raise TooManyRedirects(f"more than {max_redirects} redirects")


async def fetch(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    allowed_content_types: Collection[str] | None = None,
    allow_private: bool = False,
    client: httpx.AsyncClient | None = None,
    max_redirects: int = 5,
) -> Fetched:
    """GET `url` safely: public addresses only, at most `max_bytes`, within `timeout` seconds overall.

    `allow_private=True` exists for tests against a local server; never set it from user input.
    Non-2xx answers are returned (status tells), not raised.
    """
    own = client is None
    if client is None:
        client = httpx.AsyncClient(trust_env=False, timeout=httpx.Timeout(timeout), follow_redirects=False)
    try:
        async with asyncio.timeout(timeout):
            return await _fetch_chain(
                url,
                client,
                max_bytes=max_bytes,
                allowed_content_types=allowed_content_types,
                allow_private=allow_private,
                max_redirects=max_redirects,
            )
    except TimeoutError as exc:
        raise FetchTimeout(f"fetching {url!r} took longer than {timeout:g} s") from exc
    finally:
        if own:
            await client.aclose()


def fetch_sync(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    allowed_content_types: Collection[str] | None = None,
    allow_private: bool = False,
    max_redirects: int = 5,
) -> Fetched:
    """`fetch` for synchronous callers (not from inside a running event loop)."""
    return asyncio.run(
        fetch(
            url,
            max_bytes=max_bytes,
            timeout=timeout,
            allowed_content_types=allowed_content_types,
            allow_private=allow_private,
            max_redirects=max_redirects,
        )
    )
