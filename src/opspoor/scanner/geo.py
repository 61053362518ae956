"""Hosting country of an IP address, offline, from the table that ships in geoip2fast (a maintained
PyPI package whose bundled data derives from MaxMind's GeoLite2 country database)."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

_lock = threading.Lock()
_reader: Any = None


def _geo() -> Any:
    global _reader
    with _lock:
        if _reader is None:
            from geoip2fast import GeoIP2Fast

            # The "-ipv6" data file holds IPv4 and IPv6 ranges; the default one IPv4 only.
            _reader = GeoIP2Fast(verbose=False, geoip2fast_data_file="geoip2fast-ipv6.dat.gz")
        return _reader


@lru_cache(maxsize=65536)
def country_of(ip: str | None) -> str | None:
    """ISO 3166 alpha-2 code, or None when unknown (private, reserved, not in the table)."""
    if not ip:
        return None
    try:
        code = _geo().lookup(ip).country_code
    except Exception:  # noqa: BLE001 - a lookup failure only means "unknown"
        return None
    if not code or len(code) != 2 or not code.isalpha():
        return None  # "--" marks private and unknown ranges
    return code.upper()
