"""robots.txt, per host, per scan: fetched once through the hardened fetcher and cached.

Status handling follows RFC 9309 section 2.3.1: a 4xx answer means there are no rules (crawl
everything); a 5xx answer or an unreachable server means "assume complete disallow".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.robotparser import RobotFileParser

# The product token we look for in robots.txt groups (RFC 9309 section 2.2.1).
USER_AGENT = "opspoor"
# RFC 9309 section 2.5: crawlers must parse at least 500 KiB of a robots.txt.
ROBOTS_MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class RobotsAnswer:
    status: int | None  # None: the server could not be reached
    text: str


class RobotsCache:
    def __init__(self, fetch_text: Callable[[str], Awaitable[RobotsAnswer]]) -> None:
        self._fetch_text = fetch_text
        self._parsers: dict[str, asyncio.Task[RobotFileParser]] = {}

    async def _parser(self, origin: str) -> RobotFileParser:
        task = self._parsers.get(origin)
        if task is None:
            task = asyncio.ensure_future(self._load(origin))
            self._parsers[origin] = task
        return await task

    async def _load(self, origin: str) -> RobotFileParser:
        parser = RobotFileParser(origin + "/robots.txt")
        answer = await self._fetch_text(origin + "/robots.txt")
        if answer.status is None or answer.status >= 500:
            parser.parse(["User-agent: *", "Disallow: /"])
        elif answer.status >= 400:
            parser.parse([])  # no rules: everything allowed
        else:
            parser.parse(answer.text.splitlines())
        return parser

    async def allowed(self, url: str) -> bool:
        parser = await self._parser(_origin(url))
        return parser.can_fetch(USER_AGENT, url)

    async def crawl_delay(self, url: str) -> float | None:
        parser = await self._parser(_origin(url))
        delay = parser.crawl_delay(USER_AGENT)
        return float(delay) if delay is not None else None


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
