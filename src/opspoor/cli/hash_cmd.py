"""`opspoor hash`: every signal of every file, as JSON lines or a readable table."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from opspoor.cli.files import iter_files
from opspoor.cli.parallel import map_with_progress


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
    except OSError as exc:
        record.update(_empty(), error=f"cannot read file: {exc.strerror or exc}")
        return record
    fields = asdict(signals)
    extra = fields.pop("extra")
    if not dihedral:
        fields.pop("pdq_dihedral")
    record.update(
        {k: fields.pop(k) for k in ("md5", "sha1", "sha256", "pdq", "pdq_quality", "error")}
    )
    record.update(fields)
    record.update(extra)
    return record


def _empty() -> dict[str, Any]:
    return {"md5": None, "sha1": None, "sha256": None, "pdq": None, "pdq_quality": None}


def register(app: typer.Typer) -> None:
    @app.command("hash")
    def hash_command(
        paths: Annotated[list[Path], typer.Argument(help="Files and folders (recursive).")],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
        fast: Annotated[
            bool, typer.Option("--fast", help="Reduced-scale JPEG decode (within 10 bits of reference).")
        ] = False,
        dihedral: Annotated[
            bool, typer.Option("--dihedral", help="Also the 8 rotated/flipped PDQ hashes.")
        ] = False,
        workers: Annotated[int, typer.Option(help="Processes; 0 means all cores.")] = 0,
    ) -> None:
        """Compute MD5, SHA-1, SHA-256 and PDQ of every file. Exit code 1 if any file failed."""
        from rich.console import Console

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
