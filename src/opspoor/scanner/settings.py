"""What a scan may do: scope, budgets, limits, politeness. One frozen, picklable value per scan
(Ray workers receive it as is)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

SCOPES = ("host", "domain", "list")
ROBOTS_POLICIES = ("obey", "ignore")
# Test-only switch: lets tests and benchmarks crawl a fixture site on 127.0.0.1. It is read from the
# environment by `private_fetch_allowed()` only; the CLI and the API never take it from user input.
ENV_ALLOW_PRIVATE = "OPSPOOR_ALLOW_PRIVATE_FETCH"

MiB = 1024 * 1024


@dataclass(frozen=True)
class ScanSettings:
    scope: str = "host"
    extra_hosts: tuple[str, ...] = ()  # the hosts of scope "list", besides the seeds' own
    max_pages: int = 100
    max_depth: int = 3
    robots: str = "obey"
    lists: tuple[str, ...] | None = None  # match against these lists only (None: all)
    page_max_bytes: int = 5 * MiB
    # Media limit: big enough for phone photos and short clips, small enough to hold in memory.
    media_max_bytes: int = 64 * MiB
    page_timeout: float = 20.0
    media_timeout: float = 30.0
    page_types: tuple[str, ...] = ("text/html", "application/xhtml+xml")
    media_types: tuple[str, ...] = ("image/*", "video/*")
    host_rate: float = 10.0  # requests per second per host, for all workers together
    host_concurrency: int = 4  # requests in flight per host
    page_concurrency: int = 8  # pages in flight per worker
    media_concurrency: int = 32  # media downloads in flight per worker
    hash_threads: int = 0  # 0: one per core
    hash_processes: int = 0  # > 0: hash in this many processes instead of threads
    queue_threshold: float = 40.0  # unknown hashes scoring at least this go to the analyst queue
    allow_private: bool = False  # tests only (see ENV_ALLOW_PRIVATE)
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        from opspoor.scanner.errors import ScannerError

        if self.scope not in SCOPES:
            raise ScannerError(f"scope must be one of {', '.join(SCOPES)}, not {self.scope!r}")
        if self.robots not in ROBOTS_POLICIES:
            raise ScannerError(
                f"robots policy must be one of {', '.join(ROBOTS_POLICIES)}, not {self.robots!r}"
            )
        if self.max_pages < 1 or self.max_depth < 0:
            raise ScannerError("max_pages must be at least 1 and max_depth at least 0")
        if self.host_rate <= 0 or self.host_concurrency < 1:
            raise ScannerError("host_rate must be positive and host_concurrency at least 1")

    def for_share(self, workers: int) -> ScanSettings:
        """The settings of one of `workers` workers: the per-host rate is split between them, so
        all of them together stay within the scan's limit."""
        if workers <= 1:
            return self
        return replace(
            self,
            host_rate=self.host_rate / workers,
            host_concurrency=max(1, self.host_concurrency // workers),
        )


# Operator switch for POST /v1/scans: a server crawls third-party sites only when told to.
ENV_SCAN_API = "OPSPOOR_SCAN_API"


def scan_api_enabled() -> bool:
    return os.environ.get(ENV_SCAN_API) == "1"


def private_fetch_allowed() -> bool:
    """True only when the test environment asks for it (OPSPOOR_ALLOW_PRIVATE_FETCH=1)."""
    return os.environ.get(ENV_ALLOW_PRIVATE) == "1"
