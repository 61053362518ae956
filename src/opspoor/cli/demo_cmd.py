"""`opspoor demo`: the whole job on benign sample photos, on an embedded SQLite store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_command(
        workdir: Annotated[
            Path | None, typer.Option(help="Where the demo writes its files (default: data dir/demo).")
        ] = None,
        db: Annotated[
            str | None, typer.Option("--db", help="Database URL (default: a fresh SQLite file in workdir).")
        ] = None,
        workers: Annotated[int, typer.Option(help="Processes for hashing; 0 means all cores.")] = 0,
    ) -> None:
        """Build a list from benign sample photos and triage altered copies: known / near / unknown."""
        from rich.console import Console
        from rich.table import Table

        from opspoor.demo import run_demo
        from opspoor.store.db import data_dir

        console = Console(highlight=False)
        workdir = workdir or data_dir() / "demo"
        console.print(f"Demo folder: {workdir}")
        outcome = run_demo(workdir, db, workers or None)
        table = Table(title=f"Triage of {workdir / 'seized'} against list '{outcome.list_name}'")
        for column in ("file", "verdict", "evidence", "expected"):
            table.add_column(column)
        colour = {"known": "red", "near": "yellow", "unknown": "cyan", "error": "white"}
        for r in outcome.results:
            name = Path(r.path).name
            evidence = "; ".join(
                f"{m.list}/{m.signal}"
                + (f" ({m.variant})" if m.variant and m.variant != "original" else "")
                + f" d={m.distance}"
                + (f" score={m.score}" if m.score is not None else "")
                for m in r.matches[:3]
            ) or (r.error or "")
            verdict = f"[{colour[r.verdict]}]{r.verdict}[/]"
            table.add_row(name, verdict, evidence, outcome.expected.get(name, "?"))
        console.print(table)
        console.print(f"HTML report (no images): {outcome.report}")
        if outcome.mismatches:
            for name, want, got in outcome.mismatches:
                console.print(f"[red]unexpected:[/] {name}: expected {want}, got {got}")
            raise typer.Exit(1)
        console.print("All verdicts as expected.")
