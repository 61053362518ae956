"""`opspoor hotline ...` commands, reports over the JSON API, and the hand-off from the scanner's
analyst queue (confirmed there when the hotline confirms)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hotline_env import make_template, running
from opspoor.api.keys import create_key
from opspoor.cli.app import app
from opspoor.hotline import review
from opspoor.hotline.testsite import MediaHost, noise_png
from opspoor.hotline.users import User
from opspoor.store.db import open_store, transaction
from opspoor.store.hotline import Item
from opspoor.store.scanner import Page, QueueItem, Scan, Sighting


def test_cli_staff_partners_contacts_report_scheduler_stats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("OPSPOOR_HOTLINE_ALLOW_PRIVATE", "1")
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> str:
        result = runner.invoke(app, ["hotline", *args, "--db", db], input=stdin)
        assert result.exit_code == 0, result.output
        return result.output

    assert "added ana (analyst, senior)" in run(
        "users",
        "add",
        "ana",
        "--role",
        "analyst",
        "--role",
        "senior",
        "--password-stdin",
        stdin="a long password here\n",
    )
    bad = runner.invoke(
        app,
        ["hotline", "users", "add", "x", "--role", "boss", "--password-stdin", "--db", db],
        input="a long password here\n",
    )
    assert bad.exit_code != 0
    assert "ana\tanalyst,senior" in run("users", "list")
    run("partners", "set", "nl", "Meldpunt", "--email", "report@meldpunt.example")
    assert "NL\tMeldpunt\treport@meldpunt.example" in run("partners", "list")
    run("contacts", "set", "Media.Example", "--email", "abuse@media.example", "--note", "asked by host")
    assert "media.example\tabuse@media.example" in run("contacts", "list")
    with MediaHost() as site:
        site.files["/x.png"] = (noise_png(21), "image/png")
        assert "report 1: items 1" in run("report", site.url("/x.png"), "--comment", "cli")
        assert "ran 1 jobs" in run("run-scheduler", "--once")
    stats = json.loads(run("stats", "--json"))
    assert stats["by_state"] == {"review": 1} and stats["by_source"] == {"api": 1}
    run("users", "disable", "ana")
    assert "(disabled)" in run("users", "list")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("cli-template") / "template.db")


def test_reports_over_the_json_api(template: Path, tmp_path: Path) -> None:
    with running(template, tmp_path) as env:
        with transaction(env.hl.factory) as session:
            _, checker = create_key(session, "platform", ["checker"])
        env.site.files["/api.png"] = (noise_png(22), "image/png")
        with httpx.Client(base_url=env.base_url, trust_env=False) as client:
            body = {"urls": [env.site.url("/api.png")], "comment": "upload flagged by a platform"}
            assert client.post("/v1/hotline/reports", json=body).status_code == 401
            auth = {"X-API-Key": checker}
            answer = client.post("/v1/hotline/reports", json=body, headers=auth)
            assert answer.status_code == 202, answer.text
            assert answer.json()["item_ids"] == [1]
            bad = client.post("/v1/hotline/reports", json={"urls": ["file:///etc/passwd"]}, headers=auth)
            assert bad.status_code == 422
        env.hl.run_due()
        with env.hl.factory() as session:
            item = session.get(Item, 1)
            assert item is not None and item.state == "review"


def _scanner_queue(url: str, media_url: str) -> None:
    _, factory = open_store(url)
    now = datetime(2026, 11, 2, 8, 0)
    with transaction(factory) as s:
        scan = Scan(
            started_at=now,
            seeds=["http://x"],
            scope="host",
            scope_hosts=[],
            max_pages=1,
            max_depth=0,
            robots="obey",
            status="done",
            pages_count=1,
            media_count=1,
            matched_count=0,
        )
        s.add(scan)
        s.flush()
        page = Page(scan_id=scan.id, url="http://127.0.0.1/page", host="127.0.0.1", depth=0, fetched_at=now)
        s.add(page)
        s.flush()
        sighting = Sighting(
            scan_id=scan.id,
            page_id=page.id,
            page_url=page.url,
            page_host="127.0.0.1",
            media_url=media_url,
            host="127.0.0.1",
            found_as="img",
            seen_at=now,
            sha256="ab" * 32,
            verdict="unknown",
            matches=[],
        )
        s.add(sighting)
        s.flush()
        s.add(
            QueueItem(
                sha256="ab" * 32,
                score=72.5,
                parts=[],
                state="new",
                queued_at=now,
                updated_at=now,
                sighting_id=sighting.id,
                media_url=media_url,
                page_url=page.url,
                host="127.0.0.1",
            )
        )


def test_scanner_queue_flows_in_and_the_decision_flows_back(template: Path, tmp_path: Path) -> None:
    with running(template, tmp_path) as env:
        env.site.files["/found.png"] = (noise_png(23), "image/png")
        url = str(env.hl.factory.kw["bind"].url)
        _scanner_queue(url, env.site.url("/found.png"))
        assert env.hl.import_scanner_queue() == 1
        assert env.hl.import_scanner_queue() == 0  # taken: not imported twice
        env.hl.run_due()
        with env.hl.factory() as session:
            item = session.scalars(select(Item)).one()
            assert (item.state, item.risk) == ("review", 72.5)
        for name in ("ana", "bo"):
            review.assess(env.hl, item.id, User(0, name, frozenset({"analyst"}), 24), "iccam:baseline")
        with env.hl.factory() as session:
            queued = session.scalars(select(QueueItem)).one()
        assert (queued.state, queued.decided_by) == ("confirmed", "hotline")
