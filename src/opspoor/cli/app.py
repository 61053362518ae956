"""The root `opspoor` command. Each command group lives in its own module with a `register(app)`.

Command modules keep heavy imports (SQLAlchemy, FastAPI, OpenCV) inside their functions so that
`opspoor hash` starts fast.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="opspoor",
    help="Find known material by hash, triage media, and link photos to cameras.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)



@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    """opspoor: hash, match and triage media; link photos to cameras."""
    if version:
        from opspoor import __version__

        typer.echo(__version__)
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


# One row per command module (src/opspoor/cli/<name>.py, each with register(app)).
COMMAND_MODULES: tuple[str, ...] = (
    "hash_cmd",
    "check_cmd",
    "demo_cmd",
    "serve_cmd",
    "keys_cmd",
    "audit_cmd",
    "remote_cmd",
    "scan_cmd",
    "sightings_cmd",
    "lists_cmd",
    "camera_cmd",
    "hotline_cmd",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"opspoor.cli.{_name}").register(app)


def main() -> None:
    """Entry point: opspoor's own errors end the run with their message, not a traceback."""
    from opspoor.errors import OpspoorError

    try:
        app()
    except OpspoorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
