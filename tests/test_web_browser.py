"""The hotline in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

One end-to-end flow (report, blurred queue, reveal, two analysts, notice to an SMTP sink, re-check
after a simulated 5 days, statistics) and a few focused checks. Screenshots go to test-artifacts/.
All traffic stays on loopback: the app, the media host and the SMTP sink listen on 127.0.0.1 and the
browser runs with its background networking switched off.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hotline_env import PASSWORD, Running, make_template, running
from opspoor.hotline.testsite import noise_png
from opspoor.store.hotline import Item
from opspoor.store.service import AuditRow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

_MISSING = not CHROMIUM.exists() or shutil.which("chromium") is None
if _MISSING and os.environ.get("CI"):  # CI installs it (.ci/apt-packages): missing there is a failure
    raise RuntimeError("CI needs Debian's chromium at /usr/bin/chromium for the browser tests")
pytestmark = pytest.mark.skipif(_MISSING, reason="needs Debian's chromium package (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("browser-template") / "template.db")


@pytest.fixture
def env(template: Path, tmp_path: Path) -> Iterator[Running]:
    with running(template, tmp_path) as env:
        yield env


def sign_in(browser: Any, env: Running, name: str, screenshot: str | None = None) -> Any:
    page = browser.new_context(base_url=env.base_url, viewport={"width": 1200, "height": 860}).new_page()
    page.goto("/queue")
    assert "/login" in page.url  # anonymous users are sent to the sign-in page
    if screenshot:
        shot(page, screenshot)
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"hotline-{name}.png"), full_page=True)


def wait_loaded(page: Any, selector: str) -> None:
    # Polled from here: page.wait_for_function evaluates strings, which the UI's CSP forbids.
    page.wait_for_selector(selector)
    for _ in range(100):
        if page.eval_on_selector(selector, "el => el.complete && el.naturalWidth > 0"):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"{selector} did not load")


def filter_of(page: Any, selector: str) -> str:
    return str(page.eval_on_selector(selector, "el => getComputedStyle(el).filter"))


def test_report_review_notice_recheck_statistics(browser: Any, env: Running) -> None:
    hl = env.hl
    ana = sign_in(browser, env, "ana", screenshot="0-login")
    assert ana.url.endswith("/queue") and "Nothing waiting" in ana.content()

    # A member of the public reports a URL.
    env.site.files["/photo.png"] = (noise_png(11), "image/png")
    public = browser.new_context(base_url=env.base_url).new_page()
    public.goto("/report")
    public.fill("textarea[name=urls]", env.site.url("/photo.png"))
    public.fill("textarea[name=comment]", "seen on a forum")
    public.click("button[type=submit]")
    assert "Thank you" in public.content()
    shot(public, "1-report-received")
    assert hl.run_due() == 1  # triage: fetched, hashed, unknown -> queue

    # The queue shows it blurred and in greyscale.
    ana.goto("/queue")
    wait_loaded(ana, "img.safe")
    assert ana.eval_on_selector("img.safe", "el => el.naturalWidth") == 160
    blurred = filter_of(ana, "img.safe")
    assert "blur(24px)" in blurred and "grayscale(1)" in blurred
    shot(ana, "2-queue-blurred")

    # The item view; click to reveal.
    ana.click("a.open")
    wait_loaded(ana, "img.safe.big")
    assert "blur" in filter_of(ana, "img.safe.big")
    ana.click("img.safe.big")
    assert filter_of(ana, "img.safe.big") == "none"
    shot(ana, "3-item-revealed")
    ana.select_option("select[name=classification]", "iwf:A")
    ana.click("form.classify button[type=submit]")
    assert ana.url.endswith("/queue") and "you assessed" in ana.content()

    # A second analyst agrees: the item is confirmed.
    bo = sign_in(browser, env, "bo")
    bo.click("a.open")
    bo.select_option("select[name=classification]", "iwf:A")
    bo.click("form.classify button[type=submit]")
    with hl.factory() as session:
        item = session.scalars(select(Item)).one()
    assert item.state == "confirmed" and item.classification == "iwf:A"

    hl.run_due()  # the notice goes to the host's abuse contact over SMTP
    assert [m["To"] for m in env.smtp.messages] == ["abuse@host.example"]
    bo.goto(f"/items/{item.id}")
    assert "noticed" in bo.inner_text("h1") and "abuse@host.example" in bo.inner_text("table.notices")
    shot(bo, "4-item-noticed")
    bo.goto("/notices")
    assert "sent" in bo.inner_text("table.notices")
    shot(bo, "4b-notices")

    # Five simulated days later the host has removed it.
    del env.site.files["/photo.png"]
    env.clock.advance(timedelta(days=5))
    hl.run_due()
    sam = sign_in(browser, env, "sam")  # sessions last hours: sign in on the moved clock
    sam.goto(f"/items/{item.id}")
    assert "removed" in sam.inner_text("h1") and "removed" in sam.inner_text("table.rechecks")
    sam.goto("/dashboard")
    assert sam.inner_text("#stat-removed") == "1" and sam.inner_text("#stat-reports") == "1"
    assert "120.0" in sam.inner_text("table.removal")  # 5 days to removal
    assert sam.locator("svg.chart").count() == 5
    shot(sam, "5-dashboard")
    sam.goto("/audit")
    assert "hotline.media.view" in sam.content()
    shot(sam, "6-audit")
    with hl.factory() as session:
        viewers = set(session.scalars(select(AuditRow.actor).where(AuditRow.action == "hotline.media.view")))
    assert viewers == {"ana", "bo", "sam"}  # sam opened the item page while its media was kept


def test_viewer_cannot_open_queue_or_media_and_blur_is_per_user(browser: Any, env: Running) -> None:
    env.site.files["/v.png"] = (noise_png(12), "image/png")
    item_id = env.hl.submit([env.site.url("/v.png")], source="api").item_ids[0]
    env.hl.run_due()
    vic = sign_in(browser, env, "vic")
    assert vic.goto("/queue").status == 403
    assert vic.goto(f"/media/{item_id}").status == 403
    # A forged POST (no CSRF token) from a signed-in browser is refused.
    assert vic.request.post("/settings", form={"blur": "0"}).status == 403

    ana = sign_in(browser, env, "ana")
    ana.goto("/settings")
    ana.select_option("select[name=blur]", "8")
    ana.click("form.stack button[type=submit]")
    ana.goto("/queue")
    wait_loaded(ana, "img.safe")
    assert "blur(8px)" in filter_of(ana, "img.safe")
    shot(ana, "7-queue-blur-8")


def classify(page: Any, item_id: int, value: str) -> None:
    page.goto(f"/items/{item_id}")
    page.select_option("select[name=classification]", value)
    page.click("form.classify button[type=submit]")


def test_disagreement_goes_to_a_senior(browser: Any, env: Running) -> None:
    env.site.files["/e.png"] = (noise_png(13), "image/png")
    item_id = env.hl.submit([env.site.url("/e.png")], source="api").item_ids[0]
    env.hl.run_due()
    ana, bo = sign_in(browser, env, "ana"), sign_in(browser, env, "bo")
    classify(ana, item_id, "iwf:A")
    classify(bo, item_id, "iwf:C")
    assert "Nothing waiting" in bo.content()  # escalated: no longer for ordinary analysts
    sam = sign_in(browser, env, "sam")
    assert sam.locator(".card.escalated .badge.esc").inner_text() == "escalated"
    shot(sam, "8-escalated-for-senior")
    classify(sam, item_id, "iwf:B")
    sam.goto(f"/items/{item_id}")
    assert "confirmed" in sam.inner_text("h1") and "senior:sam" in sam.inner_text("td.classification")
