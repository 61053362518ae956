"""`opspoor hash`: every signal of every file, as JSON lines or a readable table."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from opspoor.cli.files import iter_files
from opspoor.cli.parallel import map_with_progress

# The keys every JSON line starts with, in this order (agreed contract; more keys may follow).
RECORD_KEYS = ("path", "md5", "sha1", "sha256", "pdq", "pdq_quality", "error")


def hash_path(args: tuple[Path, bool, bool]) -> dict[str, Any]:
    """Hash one file; any problem becomes the record's `error`, so a run never stops on a bad file."""
    from opspoor.media.errors import MediaError
    from opspoor.media.image import read_limited
    from opspoor.signals.compute import compute_signals

    path, fast, dihedral = args
    record: dict[str, Any] = {"path": str(path)}
    try:
        data = read_limited(path)
        signals = compute_signals(data, fast=fast, dihedral=dihedral)
    except MediaError as exc:
        record.update(_empty(), error=str(exc))
        return record
    except Exception as exc:  # noqa: BLE001 - one file's bug must not end a run over a whole seizure
        record.update(_empty(), error=f"internal error while hashing: {type(exc).__name__}: {exc}")
        return record
    fields = asdict(signals)
    extra = fields.pop("extra")
    if not dihedral:
        fields.pop("pdq_dihedral")
    record.update({k: fields.pop(k) for k in RECORD_KEYS[1:]})
    record.update(fields)
    record.update(extra)
    return record


def _empty() -> dict[str, Any]:
    return {k: None for k in RECORD_KEYS[1:]}


def register(app: typer.Typer) -> None:
    @app.command("hash")
    def hash_command(
        paths: Annotated[list[Path], typer.Argument(help="Files and folders (recursive).")],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
        fast: Annotated[
            bool,
            typer.Option(
                "--fast",
                help="Reduced-scale luma-only JPEG decode: several times faster on big photos, "
                "within 10 bits of the reference (not bit-identical).",
            ),
        ] = False,
        dihedral: Annotated[
            bool, typer.Option("--dihedral", help="Also the 8 rotated/flipped PDQ hashes (pdq_dihedral).")
        ] = False,
        workers: Annotated[int, typer.Option(min=0, help="Processes; 0 means all cores.")] = 0,
    ) -> None:
        """Compute MD5, SHA-1, SHA-256 and PDQ of every file. Exit code 1 if any file failed."""
        from rich.console import Console

        from opspoor.media.errors import InvalidLimits
        from opspoor.media.limits import MediaLimits

        try:
            MediaLimits.from_env()  # a bad setting is one clear message, not one per file
        except InvalidLimits as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        files = list(iter_files(paths))
        failed = 0
        console = Console()
        jobs = [(f, fast, dihedral) for f in files]
        for record in map_with_progress(hash_path, jobs, workers=workers or None):
            if record["error"]:
                failed += 1
            if as_json:
                typer.echo(json.dumps(record))
            elif record["error"]:
                console.print(f"[red]{record['path']}[/red]: {record['error']}", highlight=False)
            else:
                pdq = record["pdq"] or "-"
                console.print(f"{record['path']}  pdq={pdq} q={record['pdq_quality']}", highlight=False)
        if failed:
            raise typer.Exit(1)
