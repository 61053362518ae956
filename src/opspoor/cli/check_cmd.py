"""`opspoor check`: triage files and folders into known / near / unknown against hash lists."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check_command(
        paths: Annotated[list[Path], typer.Argument(help="Files and folders (recursive).")],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
        list_names: Annotated[
            list[str] | None, typer.Option("--list", help="Check against this list (repeatable).")
        ] = None,
        report: Annotated[
            Path | None, typer.Option("--report", help="Write an HTML report (no images) here.")
        ] = None,
        threshold: Annotated[
            int, typer.Option(min=0, max=256, help="PDQ Hamming distance that still matches.")
        ] = 31,
        db: Annotated[str | None, typer.Option("--db", help="Database URL (default: embedded).")] = None,
        workers: Annotated[int, typer.Option(help="Processes for hashing; 0 means all cores.")] = 0,
    ) -> None:
        """Say for every file whether it is known (exact hash), near (PDQ) or unknown.

        Exit code 1 if any file could not be read; matches do not change the exit code."""
        from rich.console import Console

        from opspoor.cli.files import iter_files
        from opspoor.cli.parallel import map_with_progress
        from opspoor.lists.service import get_list
        from opspoor.matching.engine import Matcher
        from opspoor.matching.triage import hash_for_check, triage
        from opspoor.store.db import open_store

        console = Console(stderr=True)
        engine, factory = open_store(db)
        try:
            if list_names:
                with factory() as session:
                    for name in list_names:
                        get_list(session, name)  # raises a clear error for an unknown list
            matcher = Matcher.from_store(factory, list_names or None)
            files = list(iter_files(paths))
            worker = partial(hash_for_check, robust=matcher.has_robust)
            hashed = map_with_progress(worker, files, workers=workers or None, label="Checking")
            results = []
            out = Console(highlight=False)
            for result in triage(hashed, matcher, threshold=threshold):
                results.append(result)
                if as_json:
                    typer.echo(json.dumps(result.as_json()))
                else:
                    best = result.matches[0] if result.matches else None
                    detail = (
                        f"{best.list}/{best.signal} d={best.distance} {best.classification or ''}"
                        if best
                        else (result.error or "")
                    )
                    out.print(f"{result.verdict:8} {result.path}  {detail}")
        finally:
            engine.dispose()
        if report is not None:
            from opspoor.matching.report import write_report

            write_report(results, report, lists=list_names or [], threshold=threshold)
            console.print(f"report written to {report}")
        if not as_json:
            counts = {v: sum(r.verdict == v for r in results) for v in ("known", "near", "unknown", "error")}
            console.print("  ".join(f"{k}: {n}" for k, n in counts.items()))
        if any(r.verdict == "error" for r in results):
            raise typer.Exit(1)
