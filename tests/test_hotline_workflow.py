"""The hotline workflow without a browser, on SQLite and PostgreSQL: triage, consensus, notices,
forwarding, re-checks on a moved clock, escalation, purging, the list feed and the scheduler's state."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from opspoor.hotline import contacts, review, users
from opspoor.hotline.clock import ManualClock
from opspoor.hotline.errors import InvalidInput, MediaGone, NotAllowed
from opspoor.hotline.service import Hotline
from opspoor.hotline.settings import HotlineSettings
from opspoor.hotline.stats import compute
from opspoor.hotline.testsite import MediaHost, SmtpSink, noise_png
from opspoor.lists.rows import NewEntry
from opspoor.lists.service import active_entries, add_entries, create_list
from opspoor.store.db import open_store, transaction
from opspoor.store.hotline import Item, Notice, Recheck, ReviewMedia

COUNTRIES = {"127.0.0.1": "BE", "localhost": "NL"}  # loopback has no country: the fixture says which


@dataclass
class Env:
    hl: Hotline
    clock: ManualClock
    site: MediaHost
    smtp: SmtpSink
    a1: users.User
    a2: users.User
    senior: users.User


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating every branch per test is slow)."""
    path = tmp_path_factory.mktemp("hotline-template") / "template.db"
    engine, _ = open_store(f"sqlite:///{path}")
    engine.dispose()
    return path


@pytest.fixture
def env(template_db: Path, tmp_path: Path) -> Iterator[Env]:
    """On SQLite; `env_both` runs the main paths on PostgreSQL too."""
    copy = tmp_path / "hotline.db"
    shutil.copy(template_db, copy)
    yield from _env(f"sqlite:///{copy}")


@pytest.fixture
def env_both(db_url: str) -> Iterator[Env]:
    yield from _env(db_url)


def _env(db_url: str) -> Iterator[Env]:
    engine, factory = open_store(db_url)
    clock = ManualClock(datetime(2026, 11, 2, 9, 0))
    with MediaHost() as site, SmtpSink() as smtp:
        settings = HotlineSettings(
            home_country="BE",
            consensus=2,
            allow_private=True,
            smtp_port=smtp.port,
            max_notices=3,
            escalation_email="police@example.test",
            scheduler_interval=0,
        )
        hl = Hotline(factory, settings, clock=clock, country_lookup=lambda host, ip: COUNTRIES.get(host))
        with transaction(factory) as s:
            a1 = users.add_user(s, "ana", "a long password 1", ["analyst"], clock.now())
            a2 = users.add_user(s, "bo", "a long password 2", ["analyst"], clock.now())
            senior = users.add_user(s, "sam", "a long password 3", ["senior"], clock.now())
            contacts.set_contact(s, "127.0.0.1", "abuse@host.example", None)
            contacts.set_partner(s, "NL", "Meldpunt (test)", None, site.url("/partner-nl"))
        yield Env(hl, clock, site, smtp, a1, a2, senior)
    engine.dispose()


def _item(hl: Hotline, item_id: int) -> Item:
    with hl.factory() as s:
        item = s.get(Item, item_id)
        assert item is not None
        return item


def _report(env: Env, path: str, seed: int, host: str = "127.0.0.1") -> int:
    env.site.files[path] = (noise_png(seed), "image/png")
    sub = env.hl.submit([env.site.url(path, host)], source="web", comment="seen in a forum")
    env.hl.run_due()
    return sub.item_ids[0]


def test_review_consensus_notice_recheck_removed_purged(env_both: Env) -> None:
    env = env_both
    hl = env.hl
    item_id = _report(env, "/a.png", 1)
    item = _item(hl, item_id)
    assert item.state == "review" and item.country == "BE" and item.sha256
    with hl.factory() as s:
        assert [i.id for i in review.queue(s, env.a1)] == [item_id]
        stored = s.get(ReviewMedia, item_id)
        assert stored is not None and stored.ciphertext and noise_png(1) not in stored.ciphertext  # encrypted
        assert hl.vault.get(s, item_id)[0] == noise_png(1)

    assert review.assess(hl, item_id, env.a1, "IWF:a").state == "review"
    with pytest.raises(InvalidInput, match="already assessed"):
        review.assess(hl, item_id, env.a1, "iwf:A")
    assert review.assess(hl, item_id, env.a2, "iwf:A").state == "confirmed"
    with hl.factory() as s:  # confirmed hashes flow into the hotline's list
        listed = {(r.signal_type, r.value) for r in active_entries(s, ["hotline-confirmed"])}
    assert ("sha256", item.sha256) in listed and ("pdq", item.pdq) in listed

    hl.run_due()  # the notice
    assert _item(hl, item_id).state == "noticed"
    assert len(env.smtp.messages) == 1
    mail = env.smtp.messages[0]
    assert mail["To"] == "abuse@host.example" and f"#{item_id}" in mail["Subject"]
    raw = mail.as_bytes()
    assert item.sha256.encode() in raw and b"IHDR" not in raw  # evidence, never the image
    assert not env.site.webhooks

    env.clock.advance(timedelta(days=4, hours=23))
    hl.run_due()
    with hl.factory() as s:
        assert s.scalar(select(func.count()).select_from(Recheck)) == 0  # not due before 5 days
    del env.site.files["/a.png"]  # the host removed it
    env.clock.advance(timedelta(hours=1))
    hl.run_due()
    item = _item(hl, item_id)
    assert item.state == "removed" and item.removed_at == env.clock.now()
    with hl.factory() as s:
        checks = s.scalars(select(Recheck)).all()
        assert [(c.outcome, c.http_status) for c in checks] == [("removed", 404)]
        stats = compute(s, env.clock.now())
    assert stats.removal_by_host[0].key == "127.0.0.1" and stats.removal_by_host[0].median_hours == 120.0
    assert stats.removal_by_category[0].key == "iwf:A"

    env.clock.advance(timedelta(days=1))  # decided 6 days ago: within the 7-day retention
    hl.run_due()
    with hl.factory() as s:
        assert hl.vault.get(s, item_id)[0] == noise_png(1)
    env.clock.advance(timedelta(days=1))
    hl.run_due()
    with hl.factory() as s, pytest.raises(MediaGone):
        hl.vault.get(s, item_id)


def test_item_hosted_abroad_is_forwarded_not_noticed(env_both: Env) -> None:
    env = env_both
    item_id = _report(env, "/nl.png", 2, host="localhost")
    review.assess(env.hl, item_id, env.a1, "iccam:baseline")
    review.assess(env.hl, item_id, env.a2, "iccam:baseline")
    env.hl.run_due()
    assert _item(env.hl, item_id).state == "forwarded"
    assert not env.smtp.messages  # no local notice to the host
    [(path, doc)] = env.site.webhooks
    assert path == "/partner-nl" and doc["type"] == "forward" and doc["hosting_country"] == "NL"
    assert doc["url"].startswith("http://localhost:") and "image" not in doc


def test_known_item_never_reaches_the_queue(env: Env) -> None:
    hl = env.hl
    from opspoor.signals.compute import compute_signals

    known = compute_signals(noise_png(3))
    with transaction(hl.factory) as s:
        create_list(s, "partner-list", source="test")
        add_entries(s, "partner-list", [NewEntry("sha256", known.sha256, "ncmec:A1", "ref-1")])
    item_id = _report(env, "/known.png", 3)
    item = _item(hl, item_id)
    assert item.verdict == "known" and item.classification == "ncmec:A1"
    assert item.decided_by == "list:partner-list"
    with hl.factory() as s:
        assert review.queue(s, env.senior) == []
        assert s.get(ReviewMedia, item_id) is None  # its bytes were never kept
    hl.run_due()
    assert _item(hl, item_id).state == "noticed" and len(env.smtp.messages) == 1
    # The same image at another URL is classified from the hotline's decision too.
    env.site.files["/copy.png"] = (noise_png(3), "image/png")
    copy = hl.submit([env.site.url("/copy.png")], source="api").item_ids[0]
    hl.run_due()
    assert _item(hl, copy).state in ("known", "noticed")


def test_disagreement_escalates_to_a_senior(env: Env) -> None:
    hl = env.hl
    item_id = _report(env, "/d.png", 4)
    review.assess(hl, item_id, env.a1, "iwf:A")
    assert review.assess(hl, item_id, env.a2, "iwf:C").state == "escalated"
    with hl.factory() as s:
        assert review.queue(s, env.a1) == []
        assert [i.id for i in review.queue(s, env.senior)] == [item_id]
    with pytest.raises(NotAllowed):
        review.assess(hl, item_id, env.a1, "iwf:A")
    out = review.assess(hl, item_id, env.senior, "iwf:B")
    assert (out.state, out.classification) == ("confirmed", "iwf:B")


def test_not_illegal_is_rejected_and_never_noticed(env: Env) -> None:
    item_id = _report(env, "/r.png", 5)
    review.assess(env.hl, item_id, env.a1, "iccam:not_illegal")
    review.assess(env.hl, item_id, env.a2, "iccam:not_illegal")
    env.hl.run_due()
    assert _item(env.hl, item_id).state == "rejected" and not env.smtp.messages


def test_renotify_until_the_limit_then_escalate(env: Env) -> None:
    hl = env.hl
    item_id = _report(env, "/stay.png", 6)
    review.assess(hl, item_id, env.a1, "iwf:A")
    review.assess(hl, item_id, env.a2, "iwf:A")
    hl.run_due()
    for _ in range(4):
        env.clock.advance(timedelta(days=5))
        hl.run_due()
    item = _item(hl, item_id)
    assert item.state == "unresolved" and item.notices_sent == 3
    with hl.factory() as s:
        kinds = [n.kind for n in s.scalars(select(Notice).order_by(Notice.id))]
        outcomes = [c.outcome for c in s.scalars(select(Recheck).order_by(Recheck.id))]
    assert kinds == ["notice", "renotice", "renotice", "escalation"]
    assert outcomes == ["renotified", "renotified", "escalated"]
    assert env.smtp.messages[-1]["To"] == "police@example.test"


def test_scheduler_state_survives_a_restart(env: Env) -> None:
    env.site.files["/late.png"] = (noise_png(7), "image/png")
    env.hl.submit([env.site.url("/late.png")], source="api")
    # A new process: a new Hotline on the same database picks up the pending triage job.
    again = Hotline(env.hl.factory, env.hl.settings, clock=env.clock, country_lookup=env.hl.country_lookup)
    assert again.run_due() == 1
    assert again.run_due() == 0
    with again.factory() as s:
        assert s.scalar(select(Item.state)) == "review"


def test_bad_reports_are_refused(env: Env) -> None:
    for urls in ([], ["ftp://x.example/a"], ["javascript:alert(1)"], ["http://"]):
        with pytest.raises(InvalidInput):
            env.hl.submit(urls, source="web")
    item_id = env.hl.submit([env.site.url("/missing.png")], source="web").item_ids[0]
    env.hl.run_due()
    assert _item(env.hl, item_id).state == "failed"


def test_media_key_file_is_made_once_and_bad_keys_are_refused(tmp_path: Path) -> None:
    import os

    from opspoor.hotline.vault import KEY_FILE, load_key

    first = load_key(None)
    assert load_key(None) == first  # the file from the data directory, made once
    path = Path(os.environ["OPSPOOR_HOME"]) / KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(InvalidInput, match="Fernet"):
        load_key("not a key")
