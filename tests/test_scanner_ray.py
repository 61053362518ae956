"""The same scan spread over Ray workers (a local Ray) gives the same sightings as one process,
written by the workers to the shared PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from opspoor.scanner.distributed import run_scan_on_ray, shard
from opspoor.scanner.scan import run_scan
from opspoor.scanner.testsite import SampleSite, TestSite, build_sample_site
from opspoor.store.db import open_store
from opspoor.store.scanner import Page, Sighting
from test_scanner_crawl import TEST_SETTINGS, make_list, photos_from

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.testdata, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture
def sample(testdata: Path) -> Iterator[SampleSite]:
    outside = TestSite("127.0.0.2").start()
    site = TestSite("127.0.0.1").start()
    try:
        # A second level of pages so that both workers get several pages.
        built = build_sample_site(site, photos_from(testdata), outside.origin)
        for i in range(6):
            site.page(f"/extra{i}.html", f"<img src='/img/u{i}.jpg'><a href='/mixed.html'>m</a>")
        site.resources["/"].body += "".join(f"<a href='/extra{i}.html'>e</a>" for i in range(6)).encode()
        yield built
    finally:
        site.stop()
        outside.stop()
        assert outside.requests == []


def _observed(url: str, scan_id: int) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    engine, factory = open_store(url)
    with factory() as session:
        sightings = {
            (s.page_url, s.media_url, s.found_as, s.verdict, s.http_status, s.ip, s.sha256, s.pdq, s.host)
            for s in session.execute(select(Sighting).where(Sighting.scan_id == scan_id)).scalars()
        }
        pages = {
            (p.url, p.depth, p.http_status, p.error, p.media_count, p.matched_count)
            for p in session.execute(select(Page).where(Page.scan_id == scan_id)).scalars()
        }
    engine.dispose()
    return sightings, pages


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_ray_scan_gives_the_same_sightings(local_ray: None, sample: SampleSite, db_url: str) -> None:
    make_list(db_url, "test-list", list(sample.known.values()))
    local = run_scan([sample.site.url("/")], TEST_SETTINGS, db_url)
    spread = run_scan_on_ray([sample.site.url("/")], TEST_SETTINGS, db_url, workers=2)
    assert spread.status == "done" and spread.matched == 3
    assert (spread.pages, spread.media, spread.matched) == (local.pages, local.media, local.matched)
    sightings, pages = _observed(db_url, spread.scan_id)
    assert (sightings, pages) == _observed(db_url, local.scan_id)
    assert len(pages) == 11
    # The pages really were spread over both workers.
    assert {shard(page[0], 2) for page in pages} == {0, 1}
