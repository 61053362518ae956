"""Service settings: defaults, and OPSPOOR_API_* environment variables for `opspoor serve` workers."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

MIB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    db_url: str | None = None  # None: opspoor.store.db.default_url()
    # Request bodies. JSON calls are small; a file check carries one image; an import a whole list.
    max_body_bytes: int = 1 * MIB
    max_file_bytes: int = 32 * MIB
    max_import_bytes: int = 256 * MIB
    max_batch: int = 1000  # hashes per /v1/check/hashes call
    # Per-key token bucket, per process. Default 200/s: the per-customer rate of Microsoft's PhotoDNA
    # cloud service; raise it for a trusted bulk client.
    rate_per_second: float = 200.0
    rate_burst: int = 400
    # How often each process applies list changes to its in-memory index (seconds).
    refresh_interval: float = 1.0
    # How long a verified key (or a refusal) is remembered per process; also the delay until a
    # revoked key stops working.
    key_cache_seconds: float = 5.0
    fetch_timeout: float = 10.0
    fetch_max_bytes: int = 32 * MIB
    # Tests only: let /v1/check/url reach a local fixture server. Never set from user input.
    fetch_allow_private: bool = False
    # Serve /metrics without a key (for a scraper on a private network); default: admin key needed.
    metrics_public: bool = False
    # Answer POST /v1/check/hashes without FastAPI's routing and dependency machinery (api/fastpath.py).
    fast_path: bool = True

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then OPSPOOR_API_<FIELD> variables (and OPSPOOR_DATABASE_URL), then overrides."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(f"OPSPOOR_API_{f.name.upper()}")
            if raw is None:
                continue
            kind = type(getattr(cls, f.name)) if getattr(cls, f.name) is not None else str
            if kind is bool:
                values[f.name] = raw.strip().lower() in {"1", "true", "yes", "on"}
            else:
                values[f.name] = kind(raw)
        if "db_url" not in values and os.environ.get("OPSPOOR_DATABASE_URL"):
            values["db_url"] = os.environ["OPSPOOR_DATABASE_URL"]
        return replace(cls(**values), **overrides)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The environment that makes `from_env` in a worker process return these settings."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                env[f"OPSPOOR_API_{f.name.upper()}"] = str(value)
        return env
