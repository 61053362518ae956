"""`opspoor scan`: crawl from seed URLs within a scope, hash every embedded media item in memory,
record sightings, score risk and queue unknown high-risk hashes for analysts."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("scan")
    def scan_command(
        seeds: Annotated[list[str], typer.Argument(help="Seed or reported URLs (http/https).")],
        scope: Annotated[
            str, typer.Option(help="host: the seeds' hosts; domain: and their subdomains; list: --host too.")
        ] = "host",
        hosts: Annotated[
            list[str] | None, typer.Option("--host", help="A further in-scope host (scope list); repeatable.")
        ] = None,
        max_pages: Annotated[int, typer.Option("--max-pages", help="Page budget.")] = 100,
        depth: Annotated[int, typer.Option(help="Link depth from the seeds.")] = 3,
        lists: Annotated[
            list[str] | None, typer.Option("--list", help="Match against this list only; repeatable.")
        ] = None,
        robots: Annotated[str, typer.Option(help="robots.txt policy: obey or ignore.")] = "obey",
        rate: Annotated[float, typer.Option(help="Requests per second per host.")] = 10.0,
        threshold: Annotated[float, typer.Option(help="Risk from which unknown hashes are queued.")] = 40.0,
        ray: Annotated[
            str | None,
            typer.Option("--ray", help="Run on Ray: 'local' or a cluster address ('auto', 'HOST:6379')."),
        ] = None,
        workers: Annotated[int, typer.Option(help="Ray workers (with --ray).")] = 2,
        processes: Annotated[
            int, typer.Option(help="Hash in this many processes (0: threads); helps on busy machines.")
        ] = 0,
        as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    ) -> None:
        """Scan web pages for known material. Media is hashed in memory and never stored."""
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from opspoor.scanner.records import PageOutcome
        from opspoor.scanner.settings import ScanSettings, private_fetch_allowed
        from opspoor.store.db import default_url

        settings = ScanSettings(
            scope=scope,
            extra_hosts=tuple(hosts or ()),
            max_pages=max_pages,
            max_depth=depth,
            robots=robots,
            hash_processes=processes,
            lists=tuple(lists) if lists else None,
            host_rate=rate,
            queue_threshold=threshold,
            allow_private=private_fetch_allowed(),
        )
        err = Console(stderr=True)
        progress = Progress(
            TextColumn("Scanning"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[media]} media"),
            console=err,
            disable=not err.is_terminal,
            transient=False,
        )
        media = 0

        def on_page(outcome: PageOutcome) -> None:
            nonlocal media
            media += outcome.media
            progress.update(task, advance=1, media=media)

        url = default_url()
        with progress:
            task = progress.add_task("scan", total=max_pages, media=0)
            if ray:
                from opspoor.scanner.distributed import ensure_ray, run_scan_on_ray

                ensure_ray(None if ray == "local" else ray)
                summary = run_scan_on_ray(seeds, settings, url, workers=workers, on_page=on_page)
            else:
                from opspoor.scanner.scan import run_scan

                summary = run_scan(seeds, settings, url, on_page=on_page)
        if as_json:
            typer.echo(json.dumps(summary.as_dict()))
            return
        out = Console(soft_wrap=True, highlight=False, markup=False)
        out.print(
            f"scan {summary.scan_id}: {summary.pages} pages, {summary.media} media, "
            f"{summary.matched} matched, {summary.errors} errors, {summary.queued} queued for analysts "
            f"({summary.seconds:.1f} s)",
        )
        for s in (s for s in summary.top if s.score > 0):
            why = "; ".join(f"{p.name} +{p.points:g}" for p in s.parts) or "no risk factors"
            out.print(f"  {s.score:5.1f}  {s.subject_kind:4}  {s.subject}  [{why}]")
