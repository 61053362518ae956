"""Hotline settings: defaults from the field, overridable by OPSPOOR_HOTLINE_<FIELD> variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

from opspoor.hotline.errors import InvalidInput

MIB = 1024 * 1024


@dataclass(frozen=True)
class HotlineSettings:
    hotline_name: str = "opspoor hotline"
    # ISO 3166 code of the hotline's own country: items hosted elsewhere go to a partner hotline
    # (INHOPE's model: the hotline in the hosting country acts). None: notice everything locally.
    home_country: str | None = None
    # Agreeing analysts needed to decide an item. Project Arachnid finalises with three; a small
    # hotline may run with two. Any disagreement escalates to a senior analyst, whose call is final.
    consensus: int = 2
    # First removal check after a notice: Child Focus checks after 5 days.
    recheck_days: float = 5.0
    # While the item is online, notice again at this interval: Arachnid re-sends daily until removal.
    renotify_days: float = 1.0
    # After this many notices without removal, escalate (to `escalation_email`) and stop re-checking.
    max_notices: int = 5
    escalation_email: str | None = None
    # Review copies of media are deleted this long after the decision.
    retention_days: float = 7.0
    # Confirmed items' hashes are added to this list (created on first use).
    list_name: str = "hotline-confirmed"
    # Notices by e-mail go through this SMTP server (a relay of the hotline's own mail system).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "hotline@localhost"
    smtp_starttls: bool = False
    smtp_timeout: float = 10.0
    webhook_timeout: float = 10.0
    # Fetching reported media (through the hardened fetcher).
    fetch_timeout: float = 15.0
    fetch_max_bytes: int = 32 * MIB
    # Tests only: let the fetcher reach loopback fixture servers. Never set from user input.
    allow_private: bool = False
    # Fernet key (urlsafe base64, 32 bytes) for review media; None: a key file in the data directory.
    media_key: str | None = None
    session_hours: float = 8.0
    secure_cookies: bool = False  # set behind TLS: the session cookie is then sent over HTTPS only
    # The web app runs due jobs every this many seconds (0: leave it to `opspoor hotline run-scheduler`).
    scheduler_interval: float = 30.0
    max_report_urls: int = 20

    def __post_init__(self) -> None:
        if self.consensus < 1:
            raise InvalidInput("consensus must be at least 1 analyst")
        if self.home_country is not None and (len(self.home_country) != 2 or not self.home_country.isalpha()):
            raise InvalidInput(f"home_country must be an ISO 3166 alpha-2 code, not {self.home_country!r}")

    @classmethod
    def from_env(cls, **overrides: object) -> HotlineSettings:
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(f"OPSPOOR_HOTLINE_{f.name.upper()}")
            if raw is None:
                continue
            default = getattr(cls, f.name)
            if isinstance(default, bool):
                values[f.name] = raw.strip().lower() in {"1", "true", "yes", "on"}
            elif isinstance(default, int | float):
                try:
                    values[f.name] = type(default)(raw)
                except ValueError:
                    raise InvalidInput(f"OPSPOOR_HOTLINE_{f.name.upper()}={raw!r} is not a number") from None
            else:
                values[f.name] = raw or None
        return replace(cls(**values), **overrides)  # type: ignore[arg-type]
