"""The web UI's guards over real HTTP (no browser): sign-in, roles, CSRF, media headers and audit,
the public report form, and media gone after the retention period."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from hotline_env import PASSWORD, Running, make_template, running
from opspoor.hotline import review
from opspoor.hotline.testsite import noise_png
from opspoor.hotline.users import User
from opspoor.store.db import transaction
from opspoor.store.hotline import Item
from opspoor.store.service import AuditRow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("web-template") / "template.db")


@pytest.fixture
def env(template: Path, tmp_path: Path) -> Iterator[Running]:
    with running(template, tmp_path) as env:
        yield env


def _token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "form without a CSRF token"
    return found.group(1)


@contextmanager
def login(env: Running, name: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=env.base_url, trust_env=False, timeout=30) as client:
        form = client.get("/login")
        answer = client.post(
            "/login",
            data={"csrf": _token(form.text), "username": name, "password": PASSWORD, "next": "/queue"},
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/queue"
        yield client


def _queued_item(env: Running, seed: int = 1) -> int:
    env.site.files["/m.png"] = (noise_png(seed), "image/png")
    item_id = env.hl.submit([env.site.url("/m.png")], source="api").item_ids[0]
    env.hl.run_due()
    return item_id


def test_anonymous_users_go_to_the_login(env: Running) -> None:
    with httpx.Client(base_url=env.base_url, trust_env=False) as anon:
        for path in ("/queue", "/items/1", "/media/1", "/dashboard", "/audit"):
            answer = anon.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
        assert anon.get("/report").status_code == 200  # the public form needs no account


def test_wrong_password_and_open_redirect(env: Running) -> None:
    with httpx.Client(base_url=env.base_url, trust_env=False) as client:
        token = _token(client.get("/login").text)
        bad = client.post("/login", data={"csrf": token, "username": "ana", "password": "nope"})
        assert bad.status_code == 401 and "Wrong name or password" in bad.text
        good = client.post(
            "/login",
            data={"csrf": token, "username": "ana", "password": PASSWORD, "next": "//evil.example/x"},
        )
        assert good.status_code == 303 and good.headers["location"] == "/queue"
        cookie = good.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie


def test_a_user_without_the_analyst_role_sees_no_queue_and_no_media(env: Running) -> None:
    item_id = _queued_item(env)
    with login(env, "vic") as viewer:
        assert viewer.get("/queue").status_code == 403
        assert viewer.get(f"/media/{item_id}").status_code == 403
        assert viewer.get(f"/items/{item_id}").status_code == 403
        assert viewer.get("/dashboard").status_code == 200
    with env.hl.factory() as session:
        assert not session.scalars(select(AuditRow).where(AuditRow.action == "hotline.media.view")).all()


def test_posts_without_a_csrf_token_are_refused(env: Running) -> None:
    item_id = _queued_item(env)
    with login(env, "ana") as ana:
        refused = ana.post(f"/items/{item_id}/classify", data={"classification": "iwf:A"})
        assert refused.status_code == 403
        wrong = ana.post(f"/items/{item_id}/classify", data={"classification": "iwf:A", "csrf": "forged"})
        assert wrong.status_code == 403
        assert ana.post("/settings", data={"blur": "0"}).status_code == 403
        assert ana.post("/logout").status_code == 403
        token = _token(ana.get(f"/items/{item_id}").text)
        ok = ana.post(f"/items/{item_id}/classify", data={"classification": "iwf:A", "csrf": token})
        assert ok.status_code == 303
    with httpx.Client(base_url=env.base_url, trust_env=False) as anon:
        assert anon.post("/login", data={"username": "ana", "password": PASSWORD}).status_code == 403
        assert anon.post("/report", data={"urls": "http://example.test/a.jpg"}).status_code == 403
    with env.hl.factory() as session:
        assert [a.analyst for a in review.assessments(session, item_id)] == ["ana"]


def test_media_is_not_cached_and_every_view_is_audited(env: Running) -> None:
    item_id = _queued_item(env)
    with login(env, "ana") as ana:
        media = ana.get(f"/media/{item_id}")
        assert media.status_code == 200 and media.content == noise_png(1)
        assert "no-store" in media.headers["cache-control"]
        assert media.headers["content-type"] == "image/png"
        page = ana.get(f"/items/{item_id}")
        assert 'class="safe big"' in page.text and "no-store" in page.headers["cache-control"]
        assert "script-src 'self'" in page.headers["content-security-policy"]
    with env.hl.factory() as session:
        views = session.scalars(select(AuditRow).where(AuditRow.action == "hotline.media.view")).all()
    assert [(v.actor, v.subject) for v in views] == [("ana", f"item:{item_id}")]


def test_public_report_form_queues_a_triage(env: Running) -> None:
    env.site.files["/r.png"] = (noise_png(9), "image/png")
    with httpx.Client(base_url=env.base_url, trust_env=False) as anon:
        token = _token(anon.get("/report").text)
        bad = anon.post("/report", data={"csrf": token, "urls": "ftp://nope"})
        assert bad.status_code == 422 and "http(s)" in bad.text
        done = anon.post("/report", data={"csrf": token, "urls": env.site.url("/r.png"), "comment": "forum"})
        assert done.status_code == 200 and "Thank you" in done.text
    assert env.hl.run_due() == 1
    with env.hl.factory() as session:
        [item] = review.queue(session, User(0, "x", frozenset({"analyst"}), 24))
    assert item.url == env.site.url("/r.png")


def test_media_of_a_decided_item_is_gone_after_retention(env: Running) -> None:
    item_id = _queued_item(env)
    staff = {name: User(0, name, frozenset({"analyst"}), 24) for name in ("ana", "bo")}
    review.assess(env.hl, item_id, staff["ana"], "iccam:not_illegal")
    review.assess(env.hl, item_id, staff["bo"], "iccam:not_illegal")
    env.clock.advance(timedelta(days=6, hours=23))
    env.hl.run_due()
    with login(env, "ana") as ana:  # sessions last hours: sign in on the moved clock
        assert ana.get(f"/media/{item_id}").status_code == 200
        env.clock.advance(timedelta(hours=1))
        env.hl.run_due()
        assert ana.get(f"/media/{item_id}").status_code == 404
        assert "deleted after the retention period" in ana.get(f"/items/{item_id}").text


def test_password_guessing_is_throttled(env: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    from opspoor.web import pages_auth
    from opspoor.web.throttle import Throttle

    monkeypatch.setattr(pages_auth, "FAILED_LOGINS", Throttle(5, 900.0))  # this test's own counters
    with httpx.Client(base_url=env.base_url, trust_env=False) as client:
        token = _token(client.get("/login").text)
        for _ in range(5):
            wrong = client.post("/login", data={"csrf": token, "username": "bo", "password": "guess"})
            assert wrong.status_code == 401
        right = client.post("/login", data={"csrf": token, "username": "bo", "password": PASSWORD})
        assert right.status_code == 429 and "Too many failed attempts" in right.text


def test_video_is_shown_muted_and_blurred(env: Running) -> None:
    item_id = _queued_item(env)
    with transaction(env.hl.factory) as session:
        item = session.get(Item, item_id)
        assert item is not None
        item.kind = "video"  # the viewer's markup for video (the bytes do not matter here)
    with login(env, "ana") as ana:
        for path in ("/queue", f"/items/{item_id}"):
            html = ana.get(path).text
            video = re.search(r"<video[^>]*>", html)
            assert video and 'class="safe' in video.group(0) and " muted" in video.group(0)
            assert "autoplay" not in video.group(0)


def test_report_floods_are_braked(env: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    from opspoor.web import pages_report
    from opspoor.web.throttle import Throttle

    monkeypatch.setattr(pages_report, "REPORTS_PER_HOUR", Throttle(2, 3600.0))
    with httpx.Client(base_url=env.base_url, trust_env=False) as anon:
        token = _token(anon.get("/report").text)
        codes = [
            anon.post("/report", data={"csrf": token, "urls": f"http://host.example/{i}.jpg"}).status_code
            for i in range(3)
        ]
    assert codes == [200, 200, 429]
