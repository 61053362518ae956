"""`opspoor serve`: the hash-check HTTP service under Uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
        db: Annotated[
            str | None,
            typer.Option("--db", help="Database URL (default: OPSPOOR_DATABASE_URL or local SQLite)."),
        ] = None,
        workers: Annotated[int, typer.Option(help="Worker processes, each with its own index.")] = 1,
        rate: Annotated[float | None, typer.Option(help="Requests/s per API key and process.")] = None,
        log_level: Annotated[str, typer.Option(help="Uvicorn log level.")] = "info",
    ) -> None:
        """Serve the /v1 API (see docs/openapi.json). Keys: `opspoor keys create`."""
        import os

        import uvicorn

        from opspoor.api.settings import Settings
        from opspoor.store.db import default_url, make_engine, migrate

        overrides: dict[str, object] = {"db_url": db or default_url()}
        if rate is not None:
            overrides["rate_per_second"] = rate
        settings = Settings.from_env(**overrides)
        engine = make_engine(settings.db_url)
        migrate(engine)  # once, before the workers start, so they do not race on it
        engine.dispose()
        os.environ.update(settings.to_env())
        options = _fast_loop_options()
        uvicorn.run(
            "opspoor.api.app:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=False,  # one line per request costs more than the request (use /metrics)
            server_header=False,
            **options,
        )


def _fast_loop_options() -> dict[str, str]:
    """uvloop and httptools when installed (they roughly double requests/s); else the defaults."""
    options: dict[str, str] = {}
    try:
        import uvloop  # noqa: F401

        options["loop"] = "uvloop"
    except ImportError:
        pass
    try:
        import httptools  # noqa: F401

        options["http"] = "httptools"
    except ImportError:
        pass
    return options
