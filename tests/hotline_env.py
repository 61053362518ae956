"""Shared set-up for the hotline's web tests: a migrated SQLite template with staff accounts, and the
whole app (service + web UI + hotline on a manual clock) on a real uvicorn server on loopback, with a
media host, a webhook sink and an SMTP sink beside it."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from opspoor.hotline import contacts, users
from opspoor.hotline.clock import ManualClock
from opspoor.hotline.service import Hotline
from opspoor.hotline.settings import HotlineSettings
from opspoor.hotline.testsite import MediaHost, SmtpSink
from opspoor.store.db import open_store, transaction

PASSWORD = "correct horse battery"
STAFF = {"ana": ["analyst"], "bo": ["analyst"], "sam": ["senior"], "vic": ["viewer"]}
# Loopback has no hosting country; the tests say which "country" each loopback name is in.
COUNTRIES = {"127.0.0.1": "BE", "localhost": "NL"}
START = datetime(2026, 11, 2, 9, 0)


def make_template(path: Path) -> Path:
    engine, factory = open_store(f"sqlite:///{path}")
    with transaction(factory) as session:
        for name, roles in STAFF.items():
            users.add_user(session, name, PASSWORD, roles, START)
    engine.dispose()
    return path


@dataclass
class Running:
    base_url: str
    hl: Hotline
    clock: ManualClock
    site: MediaHost
    smtp: SmtpSink


@contextmanager
def running(template: Path, tmp_path: Path) -> Iterator[Running]:
    from opspoor.api.app import create_app
    from opspoor.api.settings import Settings

    db = tmp_path / "web.db"
    shutil.copy(template, db)
    url = f"sqlite:///{db}"
    clock = ManualClock(START)
    with MediaHost() as site, SmtpSink() as smtp:
        app = create_app(Settings(db_url=url))
        settings = HotlineSettings(
            home_country="BE", consensus=2, allow_private=True, smtp_port=smtp.port, scheduler_interval=0,
            retention_days=7,
        )  # fmt: skip
        hl = Hotline(
            app.state.service.factory, settings, clock=clock, country_lookup=lambda h, ip: COUNTRIES.get(h)
        )
        app.state.hotline = hl
        with transaction(hl.factory) as session:
            contacts.set_contact(session, "127.0.0.1", "abuse@host.example", None)
            contacts.set_partner(session, "NL", "Meldpunt (test)", None, site.url("/partner-nl"))
        with _serve(app) as base_url:
            yield Running(base_url, hl, clock, site, smtp)


@contextmanager
def _serve(app: object) -> Iterator[str]:
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
