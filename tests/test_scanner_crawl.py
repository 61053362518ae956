"""The scanner against a fixture site on 127.0.0.1: what is found, matched, recorded and refused."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from opspoor.net import fetch as fetch_module
from opspoor.scanner.scan import run_scan
from opspoor.scanner.settings import ScanSettings
from opspoor.scanner.testsite import Resource, SampleSite, TestSite, build_sample_site
from opspoor.signals.compute import compute_signals
from opspoor.store.db import open_store, transaction
from opspoor.store.scanner import Host, Page, Scan, Sighting

pytestmark = pytest.mark.testdata

# Fast, and allowed to reach the loopback fixture site (a test setting, never user input).
TEST_SETTINGS = ScanSettings(allow_private=True, host_rate=1000.0, page_timeout=5.0, media_timeout=5.0)


def photos_from(testdata: Path, n: int = 8) -> list[bytes]:
    return [p.read_bytes() for p in sorted((testdata / "photos" / "bsds500").glob("*.jpg"))[:n]]


def make_list(url: str, name: str, images: list[bytes]) -> None:
    from opspoor.lists.service import add_entries, create_list

    engine, factory = open_store(url)
    rows = []
    for data in images:
        sig = compute_signals(data)
        rows.append({"signal_type": "sha256", "value": sig.sha256, "item_key": sig.sha256[:16]})
        rows.append({"signal_type": "pdq", "value": sig.pdq, "item_key": sig.sha256[:16]})
    with transaction(factory) as session:
        create_list(session, name, source="scanner test")
        add_entries(session, name, rows)
    engine.dispose()


def sightings(url: str, scan_id: int) -> list[Sighting]:
    engine, factory = open_store(url)
    with factory() as session:
        rows = list(session.execute(select(Sighting).where(Sighting.scan_id == scan_id)).scalars())
    engine.dispose()
    return rows


@pytest.fixture
def sample(testdata: Path) -> SampleSite:
    outside = TestSite("127.0.0.2").start()
    site = TestSite("127.0.0.1").start()
    try:
        yield build_sample_site(site, photos_from(testdata), outside.origin)
    finally:
        site.stop()
        outside.stop()
        assert outside.requests == [], "a host outside the scope was contacted"


def test_every_embedded_image_found_once_and_known_ones_matched(sample: SampleSite, db_url: str) -> None:
    make_list(db_url, "test-list", list(sample.known.values()))
    summary = run_scan([sample.site.url("/")], TEST_SETTINGS, db_url)
    rows = sightings(db_url, summary.scan_id)
    pairs = [(s.page_url, s.media_url) for s in rows]
    assert sorted(pairs) == sorted(sample.expected)  # each (page, image) exactly once
    # Each image URL downloaded at most once, though k0 is embedded on two pages.
    fetched = Counter(p for p in sample.site.paths() if p.startswith("/img/"))
    assert set(fetched.values()) == {1}
    assert "/private/hidden.html" not in sample.site.paths()  # robots.txt obeyed
    by_url = {s.media_url.rsplit("/", 1)[1]: s for s in rows if s.host == sample.site.origin[7:]}
    for name, data in sample.known.items():
        s = by_url[name.rsplit("/", 1)[1]]
        assert s.verdict == "known"
        assert s.matches and s.matches[0]["list"] == "test-list" and s.matches[0]["distance"] == 0
        assert s.sha256 == compute_signals(data).sha256
    for name in sample.unknown:
        assert by_url[name.rsplit("/", 1)[1]].verdict == "unknown"
    # 4 pages fetched, and the robots-disallowed one recorded with its reason.
    assert summary.pages == 5 and summary.matched == 3 and summary.media == 10


def test_sightings_carry_their_circumstances(sample: SampleSite, db_url: str) -> None:
    summary = run_scan([sample.site.url("/")], TEST_SETTINGS, db_url)
    rows = sightings(db_url, summary.scan_id)
    origin_host = sample.site.origin.removeprefix("http://")
    local = [s for s in rows if s.host == origin_host]
    assert len(local) == 9
    for s in local:
        assert s.ip == "127.0.0.1" and s.country is None  # loopback: no hosting country
        assert s.http_status == 200 and s.content_type == "image/jpeg"
        assert s.page_host == origin_host and s.page_url.startswith(sample.site.origin)
        assert s.seen_at is not None and s.size and s.width and s.height
        assert len(s.sha256) == 64 and len(s.pdq) == 64 and s.pdq_quality is not None
    found_as = {s.media_url.rsplit("/", 1)[1]: s.found_as for s in local}
    assert found_as["u1.jpg"] == "css" and found_as["u2.jpg"] == "og:image" and found_as["u4.jpg"] == "link"
    outside = [s for s in rows if s.host != origin_host]
    assert len(outside) == 1 and outside[0].verdict == "skipped" and "scope" in outside[0].error
    assert outside[0].http_status is None and outside[0].sha256 is None
    engine, factory = open_store(db_url)
    with factory() as session:
        host = session.execute(select(Host).where(Host.name == origin_host)).scalar_one()
        assert (host.pages_count, host.media_count, host.ip) == (5, 9, "127.0.0.1")
        pages = {p.url: p for p in session.execute(select(Page)).scalars()}
        hidden = sample.site.url("/private/hidden.html")
        assert set(pages) == {*sample.pages, hidden}
        assert "robots.txt" in pages[hidden].error and pages[hidden].http_status is None
        assert pages[sample.site.url("/mixed.html")].media_count == 5
        scan = session.get(Scan, summary.scan_id)
        assert scan.status == "done" and scan.pages_count == 5 and scan.scope_hosts == [origin_host]
    engine.dispose()


def test_nothing_outside_the_scope_is_fetched(testdata: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    photos = photos_from(testdata, 2)
    with TestSite("127.0.0.1") as other_port, TestSite("127.0.0.2") as other_ip, TestSite() as site:
        other_port.file("/x.jpg", photos[0])
        other_ip.file("/y.jpg", photos[1])
        site.file("/a.jpg", photos[0])
        site.redirect("/away.html", other_port.url("/"))
        site.redirect("/away.jpg", other_ip.url("/y.jpg"))
        site.redirect("/robots.txt", other_port.url("/robots.txt"))  # off scope: no rules, not fetched
        site.page(
            "/",
            f"""<a href="{other_port.url("/")}">p</a><a href="{other_ip.url("/")}">i</a>
            <a href="/away.html">r</a><img src="{other_port.url("/x.jpg")}"><img src="/away.jpg">
            <img src="/a.jpg">""",
        )
        summary = run_scan([site.url("/")], TEST_SETTINGS, url)
        assert other_port.requests == [] and other_ip.requests == []
    rows = {s.media_url: s for s in sightings(url, summary.scan_id)}
    assert rows[site.url("/a.jpg")].verdict in ("unknown", "known")
    assert rows[site.url("/away.jpg")].verdict == "skipped"  # redirected out of scope: refused
    assert rows[other_port.url("/x.jpg")].verdict == "skipped"
    engine, factory = open_store(url)
    with factory() as session:
        pages = {p.url: p for p in session.execute(select(Page)).scalars()}
    engine.dispose()
    assert set(pages) == {site.url("/"), site.url("/away.html")}
    assert "scope" in pages[site.url("/away.html")].error


def test_private_addresses_refused_without_the_test_setting(sample: SampleSite, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    settings = ScanSettings(host_rate=1000.0)  # allow_private off, as from the CLI or the API
    port = sample.site.origin.rsplit(":", 1)[1]
    summary = run_scan([sample.site.url("/"), f"http://localhost:{port}/"], settings, url)
    assert sample.site.requests == []
    engine, factory = open_store(url)
    with factory() as session:
        errors = {p.url: p.error for p in session.execute(select(Page)).scalars()}
    engine.dispose()
    assert summary.pages == 2 and summary.media == 0
    assert "loopback" in errors[sample.site.url("/")]
    assert "loopback" in errors[f"http://localhost:{port}/"]  # via the DNS answer


def test_private_addresses_refused_via_redirect(
    testdata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fixture site stands in for a public server (only 127.0.0.1 is treated as public);
    its redirects to loopback, private and link-local addresses must be refused by the fetcher."""
    real = fetch_module.blocked_reason
    monkeypatch.setattr(
        fetch_module, "blocked_reason", lambda ip: None if str(ip) == "127.0.0.1" else real(ip)
    )
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    with TestSite("127.0.0.2") as internal, TestSite() as site:
        internal.page("/", "<img src='/secret.jpg'>")
        site.file("/ok.jpg", photos_from(testdata, 1)[0])
        site.redirect("/to-internal.html", internal.url("/"))
        site.redirect("/meta.jpg", "http://169.254.169.254/latest/meta-data/")
        site.redirect("/lan.jpg", "http://10.1.2.3/x.jpg")
        site.page(
            "/", "<a href='/to-internal.html'>x</a><img src='/meta.jpg'><img src='/lan.jpg'><img src=/ok.jpg>"
        )
        settings = ScanSettings(
            scope="list", extra_hosts=(internal.origin, "169.254.169.254", "10.1.2.3"), host_rate=1000.0
        )
        summary = run_scan([site.url("/")], settings, url)
        assert internal.requests == []
    rows = {s.media_url.rsplit("/", 1)[1]: s for s in sightings(url, summary.scan_id)}
    assert rows["ok.jpg"].http_status == 200 and rows["ok.jpg"].sha256
    assert rows["meta.jpg"].verdict == "error" and "link-local" in rows["meta.jpg"].error
    assert rows["lan.jpg"].verdict == "error" and "private" in rows["lan.jpg"].error
    engine, factory = open_store(url)
    with factory() as session:
        page = session.execute(select(Page).where(Page.url == site.url("/to-internal.html"))).scalar_one()
    engine.dispose()
    assert "loopback" in page.error


def test_slow_and_oversized_responses_abandoned_at_their_limit(testdata: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    photo = photos_from(testdata, 1)[0]
    big = photo + bytes(2_000_000)
    with TestSite() as site:
        site.add("/slow.jpg", Resource(photo, "image/jpeg", chunks=40, chunk_delay=0.25))  # 10 s
        site.add("/big.jpg", Resource(big, "image/jpeg"))
        site.add("/big-unsized.jpg", Resource(big, "image/jpeg", send_length=False))
        site.file("/fine.jpg", photo)
        site.page("/", "".join(f"<img src='/{n}.jpg'>" for n in ("slow", "big", "big-unsized", "fine")))
        settings = ScanSettings(
            allow_private=True, host_rate=1000.0, media_timeout=1.0, media_max_bytes=1_000_000
        )
        started = time.perf_counter()
        summary = run_scan([site.url("/")], settings, url)
        elapsed = time.perf_counter() - started
    rows = {s.media_url.rsplit("/", 1)[1]: s for s in sightings(url, summary.scan_id)}
    assert elapsed < 8.0  # the slow body (10 s) was cut at its 1 s deadline, not waited for
    assert rows["slow.jpg"].verdict == "error" and "longer than" in rows["slow.jpg"].error
    for name in ("big.jpg", "big-unsized.jpg"):
        assert rows[name].verdict == "error" and "limit" in rows[name].error and rows[name].sha256 is None
    assert rows["fine.jpg"].verdict == "unknown" and rows["fine.jpg"].sha256


def test_no_media_bytes_left_on_disk(
    sample: SampleSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    db = tmp_path / "db"
    db.mkdir()
    url = f"sqlite:///{db / 'scan.db'}"
    run_scan([sample.site.url("/")], TEST_SETTINGS, url)
    assert list(scratch.iterdir()) == []
    # No file the scan wrote (database, journal) holds any piece of any image it hashed.
    stored = b"".join(p.read_bytes() for p in db.iterdir() if p.is_file())
    for data in [*sample.known.values(), *sample.unknown.values()]:
        for start in range(1000, len(data) - 64, max(1, (len(data) - 1064) // 8)):
            assert data[start : start + 64] not in stored


def test_robots_ignore_policy_and_list_restriction(sample: SampleSite, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    make_list(url, "listed", list(sample.known.values()))
    make_list(url, "other", [sample.unknown["/img/u5.jpg"]])
    settings = ScanSettings(allow_private=True, host_rate=1000.0, robots="ignore", lists=("other",))
    summary = run_scan([sample.site.url("/")], settings, url)
    assert "/private/hidden.html" in sample.site.paths() and "/robots.txt" not in sample.site.paths()
    verdicts = {s.media_url.rsplit("/", 1)[1]: s.verdict for s in sightings(url, summary.scan_id)}
    assert verdicts["k0.jpg"] == "unknown"  # on "listed", which this scan does not match against
    assert verdicts["u5.jpg"] == "known"
    assert summary.pages == 5


def test_hashing_in_processes_gives_the_same_sightings(sample: SampleSite, tmp_path: Path) -> None:
    from dataclasses import replace

    url = f"sqlite:///{tmp_path / 'scan.db'}"
    make_list(url, "test-list", list(sample.known.values()))
    threads = run_scan([sample.site.url("/")], TEST_SETTINGS, url)
    processes = run_scan([sample.site.url("/")], replace(TEST_SETTINGS, hash_processes=1), url)

    def seen(scan_id: int) -> set[tuple[object, ...]]:
        return {(s.page_url, s.media_url, s.verdict, s.sha256, s.pdq) for s in sightings(url, scan_id)}

    assert seen(processes.scan_id) == seen(threads.scan_id)
    assert processes.matched == 3


def test_videos_hashed_and_re_encoded_known_images_matched_near(testdata: Path, tmp_path: Path) -> None:
    import io

    from PIL import Image

    url = f"sqlite:///{tmp_path / 'scan.db'}"
    photo = photos_from(testdata, 1)[0]
    make_list(url, "test-list", [photo])
    copy = io.BytesIO()
    Image.open(io.BytesIO(photo)).save(copy, "JPEG", quality=60)  # other bytes, same picture
    video = (testdata / "video" / "test-padded-dimensions.mp4").read_bytes()
    with TestSite() as site:
        site.file("/copy.jpg", copy.getvalue())
        site.file("/clip.mp4", video, "video/mp4")
        site.page("/", "<img src='/copy.jpg'><video controls><source src='/clip.mp4'></video>")
        summary = run_scan([site.url("/")], TEST_SETTINGS, url)
    rows = {s.media_url.rsplit("/", 1)[1]: s for s in sightings(url, summary.scan_id)}
    near = rows["copy.jpg"]
    assert near.verdict == "near" and near.matches[0]["signal"] == "pdq"
    assert 0 < near.matches[0]["distance"] <= 31
    clip = rows["clip.mp4"]
    assert clip.kind == "video" and clip.found_as == "video" and clip.content_type == "video/mp4"
    assert clip.extra and clip.extra.get("vpdq") and clip.sha256


def test_a_reported_url_that_is_an_image_is_a_sighting_of_itself(testdata: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    photo = photos_from(testdata, 1)[0]
    make_list(url, "test-list", [photo])
    with TestSite() as site:
        site.file("/upload/abc", photo)  # no extension: only the content type says it is an image
        site.add("/file.zip", Resource(b"PK\x03\x04", "application/zip"))
        summary = run_scan([site.url("/upload/abc"), site.url("/file.zip")], TEST_SETTINGS, url)
    rows = sightings(url, summary.scan_id)
    assert [(s.page_url, s.media_url, s.found_as, s.verdict) for s in rows] == [
        (site.url("/upload/abc"), site.url("/upload/abc"), "direct", "known")
    ]
    engine, factory = open_store(url)
    with factory() as session:
        errors = {p.url: p.error for p in session.execute(select(Page)).scalars()}
    engine.dispose()
    assert errors[site.url("/upload/abc")] is None and "content type" in errors[site.url("/file.zip")]


def test_media_results_kept_per_worker_are_bounded(
    sample: SampleSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opspoor.scanner import worker

    monkeypatch.setattr(worker, "MEDIA_CACHE_MAX", 2)
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    summary = run_scan([sample.site.url("/")], TEST_SETTINGS, url)
    pairs = {(s.page_url, s.media_url) for s in sightings(url, summary.scan_id)}
    assert pairs == sample.expected  # forgetting results costs downloads, never sightings
