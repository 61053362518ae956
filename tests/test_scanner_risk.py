"""Risk from circumstances, the analyst queue, re-visits and the two commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from opspoor.errors import OpspoorError
from opspoor.scanner.queue import decide, pending
from opspoor.scanner.revisit import revisit
from opspoor.scanner.risk import HashFacts, hash_parts, total
from opspoor.scanner.scan import run_scan
from opspoor.scanner.testsite import SampleSite, TestSite, build_sample_site
from opspoor.signals.compute import compute_signals
from opspoor.store.db import open_store, transaction
from opspoor.store.scanner import Host, Risk, Sighting
from test_scanner_crawl import TEST_SETTINGS, make_list, photos_from

pytestmark = pytest.mark.testdata


@pytest.fixture
def sample(testdata: Path) -> SampleSite:
    outside = TestSite("127.0.0.2").start()
    site = TestSite("127.0.0.1").start()
    try:
        yield build_sample_site(site, photos_from(testdata), outside.origin)
    finally:
        site.stop()
        outside.stop()


def _risk(session, kind: str, subject: str) -> Risk:  # type: ignore[no-untyped-def]
    return session.execute(
        select(Risk).where(Risk.subject_kind == kind, Risk.subject == subject)
    ).scalar_one()


def test_page_mixing_known_and_unknown_ranks_above_an_unrelated_page(sample: SampleSite, db_url: str) -> None:
    make_list(db_url, "test-list", list(sample.known.values()))
    summary = run_scan([sample.site.url("/")], TEST_SETTINGS, db_url)
    sha = {path: compute_signals(data).sha256 for path, data in {**sample.known, **sample.unknown}.items()}
    engine, factory = open_store(db_url)
    with factory() as session:
        mixed = _risk(session, "page", sample.site.url("/mixed.html"))
        unrelated = _risk(session, "page", sample.site.url("/unrelated.html"))
        assert mixed.score > unrelated.score
        assert {p["name"] for p in mixed.parts} == {"listed_items", "unknown_beside_listed"}
        # The unknown images beside listed ones rank above the unrelated page's unknown images.
        beside = _risk(session, "hash", sha["/img/u0.jpg"])
        apart = _risk(session, "hash", sha["/img/u3.jpg"])
        assert beside.score > apart.score
        parts = {p["name"]: p for p in beside.parts}
        assert parts["same_page_listed"]["value"] == 2 and parts["same_page_listed"]["points"] > 0
        assert all(p["why"] for p in beside.parts)
        assert beside.score == pytest.approx(sum(p["points"] for p in beside.parts))
        assert _risk(session, "hash", sha["/img/k0.jpg"]).score == 100
        host = _risk(session, "host", sample.site.origin.removeprefix("http://"))
        assert host.score > 0 and {"listed_items", "listed_share"} <= {p["name"] for p in host.parts}
        # Queue: unknowns beside listed material (u0, u1 on mixed, u5 beside k0 on again), not the
        # unrelated page's, not the listed ones.
        queued = {item.sha256: item for item in pending(session)}
        assert set(queued) == {sha["/img/u0.jpg"], sha["/img/u1.jpg"], sha["/img/u5.jpg"]}
        assert queued[sha["/img/u0.jpg"]].page_url == sample.site.url("/mixed.html")
    assert summary.queued == 3
    # A second scan refreshes scores and does not queue twice; the sightings count grows.
    again = run_scan([sample.site.url("/")], TEST_SETTINGS, db_url)
    assert again.queued == 0
    with factory() as session:
        for path in sample.unknown:  # every hash's row was refreshed by the second scan
            risk = _risk(session, "hash", sha[path])
            assert risk.scan_id == again.scan_id and "sightings" in {p["name"] for p in risk.parts}
        assert len(pending(session)) == 3
    engine.dispose()


def test_confirmed_item_marks_its_hosts_and_raises_later_risk(sample: SampleSite, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    make_list(url, "test-list", list(sample.known.values()))
    run_scan([sample.site.url("/")], TEST_SETTINGS, url)
    engine, factory = open_store(url)
    with transaction(factory) as session:
        item = pending(session)[0]
        decide(session, item.id, "confirmed", actor="analyst-1", note="checked")
        with pytest.raises(Exception, match="decision"):
            decide(session, item.id, "maybe", actor="analyst-1")
    second = run_scan([sample.site.url("/unrelated.html")], TEST_SETTINGS, url)
    with factory() as session:
        host = session.execute(select(Host)).scalars().first()
        assert host.confirmed_at is not None
        u3 = compute_signals(sample.unknown["/img/u3.jpg"]).sha256
        parts = {p["name"] for p in _risk(session, "hash", u3).parts}
        assert "host_confirmed_before" in parts
    assert second.status == "done"
    engine.dispose()


def test_revisit_tells_online_changed_and_gone(sample: SampleSite, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scan.db'}"
    summary = run_scan([sample.site.url("/unrelated.html")], TEST_SETTINGS, url)
    engine, factory = open_store(url)
    with factory() as session:
        rows = {s.media_url.rsplit("/", 1)[1]: s.id for s in session.execute(select(Sighting)).scalars()}
    assert summary.media == 3
    sample.site.file("/img/u2.jpg", sample.known["/img/k0.jpg"])  # the file was swapped
    del sample.site.resources["/img/u3.jpg"]  # taken down
    results = {r.media_url.rsplit("/", 1)[1]: r for r in revisit(factory, list(rows.values()), TEST_SETTINGS)}
    assert results["u2.jpg"].online and results["u2.jpg"].changed is True
    assert results["u2.jpg"].pdq_distance is not None and results["u2.jpg"].pdq_distance > 31
    assert not results["u3.jpg"].online and results["u3.jpg"].http_status == 404
    assert results["u4.jpg"].online and results["u4.jpg"].changed is False
    with pytest.raises(Exception, match="no sighting"):
        revisit(factory, [999999], TEST_SETTINGS)
    engine.dispose()


@given(
    st.integers(0, 50), st.integers(0, 50), st.integers(0, 50), st.booleans(), st.sets(st.text(max_size=3))
)
def test_hash_risk_is_bounded_and_explained(
    sightings: int, page: int, host: int, before: bool, hosts
) -> None:  # type: ignore[no-untyped-def]
    facts = HashFacts(
        sightings=sightings,
        page_hosts=set(hosts),
        max_page_matched=page,
        max_host_matched=host,
        confirmed_before=before,
    )
    parts = hash_parts(facts)
    score = total(parts)
    assert 0 <= score <= 100
    assert all(p.points >= 0 and p.why for p in parts)
    more = hash_parts(HashFacts(**{**facts.__dict__, "max_page_matched": page + 1}))
    assert total(more) >= score  # more listed material beside it never lowers the risk


def test_scan_and_sightings_commands(
    sample: SampleSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opspoor.cli.app import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("OPSPOOR_DATABASE_URL", url)
    monkeypatch.setenv("OPSPOOR_ALLOW_PRIVATE_FETCH", "1")  # the test setting; no CLI flag exists
    make_list(url, "test-list", list(sample.known.values()))
    runner = CliRunner()
    result = runner.invoke(
        app, ["scan", sample.site.url("/"), "--max-pages", "3", "--rate", "1000", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["pages"] == 3 and summary["status"] == "done"
    result = runner.invoke(app, ["sightings", "--min-risk", "40", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and all(r["risk"] >= 40 and r["risk_parts"] for r in rows)
    result = runner.invoke(app, ["sightings", "--min-risk", "40", "--host", sample.site.origin[7:]])
    assert "same_page_listed" in result.stdout  # the score's parts are shown
    result = runner.invoke(app, ["sightings", "--queue", "--json"])
    queued = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(queued) == 3 and all(q["state"] == "new" and q["parts"] for q in queued)
    k0 = compute_signals(sample.known["/img/k0.jpg"]).sha256
    result = runner.invoke(app, ["sightings", "--hash", k0, "--json", "--revisit"])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and all(r["sha256"] == k0 and r["revisit"]["changed"] is False for r in rows)
    result = runner.invoke(app, ["sightings", "--hash", "xyz"])
    assert isinstance(result.exception, OpspoorError) and "hex digits" in str(result.exception)
    monkeypatch.delenv("OPSPOOR_ALLOW_PRIVATE_FETCH")
    result = runner.invoke(app, ["scan", sample.site.url("/"), "--json"])
    assert json.loads(result.stdout)["media"] == 0  # without the test setting: refused
    result = runner.invoke(app, ["scan", "ftp://example.org/"])
    assert isinstance(result.exception, OpspoorError) and "http" in str(result.exception)
