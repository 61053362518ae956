"""Media and link extraction, URL normalisation, scope, robots and rate limits, without a network."""

from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opspoor.scanner.errors import BadSeed, ScannerError
from opspoor.scanner.extract import css_urls, decode_html, extract, srcset_urls
from opspoor.scanner.geo import country_of
from opspoor.scanner.ratelimit import HostLimiter
from opspoor.scanner.robots import RobotsAnswer, RobotsCache
from opspoor.scanner.scope import Scope, normalise_url
from opspoor.scanner.settings import ScanSettings

PAGE = """<html><head><base href="/sub/">
<meta property="og:image" content="http://cdn.example.org/og.jpg">
<meta name="twitter:image" content="tw.png"><link rel="image_src" href="share.jpg">
<style>.a { background: url('bg.png') } @font-face { src: url(f.woff2) }</style></head>
<body style="background-image: url(&quot;body.jpg&quot;)">
<img src="a.jpg" srcset="a.jpg 1x, b.jpg 2x"><img data-src="lazy.webp" alt="">
<picture><source srcset="c.avif 480w, d.avif 800w" type="image/avif"><img src="e.jpg"></picture>
<video poster="p.jpg" src="v1.mp4"><source src="v2.webm" type="video/webm"></video>
<audio><source src="sound.ogg"></audio>
<a href="page2.html#frag">next</a><a href="BIG.JPG">full</a><a href="mailto:x@example.org">m</a>
<a href="javascript:void(0)">j</a><iframe src="/frame.html"></iframe>
<img src="data:image/png;base64,AAAA"><img src="a.jpg"></body></html>"""


def test_every_kind_of_embedding_is_found_once() -> None:
    found = extract(PAGE, "http://Site.Example:8080/dir/index.html")
    base = "http://site.example:8080/sub/"
    media = {m.url: m.found_as for m in found.media}
    assert media == {
        "http://cdn.example.org/og.jpg": "og:image",
        base + "tw.png": "og:image",
        base + "share.jpg": "link",
        base + "bg.png": "css",
        base + "body.jpg": "css",
        base + "a.jpg": "img",
        base + "b.jpg": "srcset",
        base + "lazy.webp": "img",
        base + "c.avif": "picture",
        base + "d.avif": "picture",
        base + "e.jpg": "picture",
        base + "p.jpg": "poster",
        base + "v1.mp4": "video",
        base + "v2.webm": "video",
        base + "BIG.JPG": "link",
    }
    assert len(found.media) == len(media)  # a.jpg appears three times, found once
    assert found.links == [base + "page2.html", "http://site.example:8080/frame.html"]


def test_srcset_and_css_parsing() -> None:
    assert srcset_urls("a.jpg 1x,b.jpg 2x, c.jpg 3x") == ["a.jpg", "b.jpg", "c.jpg"]
    assert srcset_urls("img/x,1.jpg 480w, y.jpg 800w") == ["img/x,1.jpg", "y.jpg"]
    assert srcset_urls("data:image/png;base64,AAA 1x") == []
    assert css_urls("a{b:url(x.png)} c{d:url( 'y.jpg' )} e{f:url(#g)} h{i:url(z.css)}") == ["x.png", "y.jpg"]


def test_charset_is_taken_from_header_or_meta() -> None:
    text = "café".encode("latin-1")
    assert decode_html(text, "text/html; charset=ISO-8859-1") == "café"
    assert "café" in decode_html(b'<meta charset="latin-1">' + text, "text/html")
    assert decode_html(text, "text/html; charset=no-such-codec").startswith("caf")


@given(st.text(max_size=2000))
def test_extract_never_fails_on_any_text(html: str) -> None:
    found = extract(html, "http://example.org/")
    assert all(u.startswith(("http://", "https://")) for u in found.links)
    assert all(m.url.startswith(("http://", "https://")) for m in found.media)


def test_urls_are_normalised() -> None:
    assert normalise_url("HTTP://Example.ORG:80/a?b=1#frag") == "http://example.org/a?b=1"
    assert normalise_url("https://example.org:443") == "https://example.org/"
    assert normalise_url("http://[::1]:8080/x") == "http://[::1]:8080/x"
    for bad in (
        "ftp://example.org/",
        "mailto:a@b",
        "http://user:pw@example.org/",
        "http://",
        "http://x:99999/",
    ):
        assert normalise_url(bad) is None


def test_scope_kinds() -> None:
    host = Scope.build("host", ["http://www.example.org/"])
    assert host.contains("http://www.example.org/a") and host.contains("https://www.example.org/")
    assert not host.contains("http://img.example.org/") and not host.contains("http://www.example.org:8080/")
    domain = Scope.build("domain", ["http://www.example.org/"])
    assert domain.contains("http://img.cdn.example.org/x.jpg") and domain.contains("http://example.org/")
    assert not domain.contains("http://badexample.org/") and not domain.contains(
        "http://example.org.evil.net/"
    )
    assert not domain.contains("http://img.example.org:8080/")
    listed = Scope.build("list", ["http://127.0.0.1:8000/"], ["127.0.0.2:9000", "cdn.example.net"])
    assert listed.contains("http://127.0.0.2:9000/") and listed.contains("https://cdn.example.net/y")
    assert not listed.contains("http://127.0.0.2:9001/") and not listed.contains("http://127.0.0.1:8001/")
    ip_domain = Scope.build("domain", ["http://10.0.0.1/"])
    assert not ip_domain.contains("http://1.10.0.0.1/")
    with pytest.raises(BadSeed):
        Scope.build("host", ["not a url"])


def test_settings_are_checked() -> None:
    for bad in ({"scope": "planet"}, {"robots": "maybe"}, {"max_pages": 0}, {"host_rate": 0}):
        with pytest.raises(ScannerError):
            ScanSettings(**bad)  # type: ignore[arg-type]
    shared = ScanSettings(host_rate=10, host_concurrency=4).for_share(4)
    assert shared.host_rate == 2.5 and shared.host_concurrency == 1


def test_robots_rules_and_status_handling() -> None:
    answers = {
        "http://a.test/robots.txt": RobotsAnswer(200, "User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n"),
        "http://b.test/robots.txt": RobotsAnswer(404, ""),
        "http://c.test/robots.txt": RobotsAnswer(503, ""),
        "http://d.test/robots.txt": RobotsAnswer(None, ""),
        "http://e.test/robots.txt": RobotsAnswer(
            200, "User-agent: opspoor\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
        ),
    }
    calls: list[str] = []

    async def fetch_text(url: str) -> RobotsAnswer:
        calls.append(url)
        return answers[url]

    async def run() -> None:
        robots = RobotsCache(fetch_text)
        assert await robots.allowed("http://a.test/page.html")
        assert not await robots.allowed("http://a.test/private/x.html")
        assert await robots.crawl_delay("http://a.test/") == 2.0
        assert await robots.allowed("http://b.test/anything")  # 4xx: no rules
        assert not await robots.allowed("http://c.test/")  # 5xx: disallow all (RFC 9309)
        assert not await robots.allowed("http://d.test/")  # unreachable: disallow all
        assert not await robots.allowed("http://e.test/x")  # our own group wins
        await asyncio.gather(*(robots.allowed(f"http://a.test/{i}") for i in range(10)))

    asyncio.run(run())
    assert calls.count("http://a.test/robots.txt") == 1  # fetched once per host


def test_host_limiter_spaces_requests() -> None:
    async def run() -> float:
        limiter = HostLimiter(rate=20.0, concurrency=10)
        start = time.perf_counter()

        async def one() -> None:
            async with limiter.slot("h"):
                pass

        await asyncio.gather(*(one() for _ in range(6)))
        return time.perf_counter() - start

    assert asyncio.run(run()) >= 5 / 20 - 0.01  # 6 starts at 20/s take at least 0.25 s


def test_country_lookup_is_offline_and_allows_unknown() -> None:
    assert country_of("8.8.8.8") == "US"
    assert country_of("2001:4860:4860::8888") == "US"
    assert country_of("127.0.0.1") is None and country_of("10.1.2.3") is None
    assert country_of("not an address") is None and country_of(None) is None
