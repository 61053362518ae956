"""Which URLs a scan may fetch: the declared scope, checked for every page, media item and
redirect hop."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from opspoor.scanner.errors import BadSeed

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_url(url: str) -> str | None:
    """Absolute http(s) URL without fragment, lower-case scheme and host, no default port; None
    for anything else (mailto:, javascript:, data:, malformed)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def host_key(url: str) -> str:
    """The host of a normalised URL as the scope and the store name it: name[:port]."""
    return urlsplit(url).netloc


def _split(key: str) -> tuple[str, str]:
    if key.startswith("["):
        host, _, rest = key[1:].partition("]")
        return host, rest.removeprefix(":")
    host, _, port = key.partition(":")
    return host, port


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Scope:
    """host: exactly the seeds' hosts (name and port). domain: the seeds' domains (a leading `www.`
    dropped) and all their subdomains, on the seeds' ports. list: exactly the given hosts plus the
    seeds' hosts. Another port or another address is another host."""

    kind: str
    hosts: frozenset[str]

    @classmethod
    def build(cls, kind: str, seeds: Iterable[str], extra_hosts: Iterable[str] = ()) -> Scope:
        keys = set()
        for seed in seeds:
            url = normalise_url(seed)
            if url is None:
                raise BadSeed(f"not an absolute http(s) URL: {seed!r}")
            keys.add(host_key(url))
        if kind == "list":
            for extra in extra_hosts:
                url = normalise_url(extra if "://" in extra else f"http://{extra}")
                if url is None:
                    raise BadSeed(f"not a host name: {extra!r}")
                keys.add(host_key(url))
        if kind == "domain":
            keys = {k.removeprefix("www.") if not _is_ip(_split(k)[0]) else k for k in keys}
        return cls(kind, frozenset(keys))

    def contains(self, url: str) -> bool:
        """Whether the normalised URL `url` may be fetched."""
        key = host_key(url)
        if key in self.hosts:
            return True
        if self.kind != "domain":
            return False
        name, port = _split(key)
        for allowed in self.hosts:
            allowed_name, allowed_port = _split(allowed)
            if port == allowed_port and not _is_ip(allowed_name) and name.endswith("." + allowed_name):
                return True
        return False

    def contains_host(self, key: str) -> bool:
        return self.contains(f"http://{key}/")
