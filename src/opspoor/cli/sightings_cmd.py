"""`opspoor sightings`: where media was seen, with its risk and the parts of the risk; optionally
re-visit the sightings found (still online? bytes changed?)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    @app.command("sightings")
    def sightings_command(
        hash_value: Annotated[
            str | None, typer.Option("--hash", help="An MD5, SHA-1, SHA-256 or PDQ value.")
        ] = None,
        host: Annotated[str | None, typer.Option(help="Media host or page host (name[:port]).")] = None,
        country: Annotated[str | None, typer.Option(help="Hosting country, ISO code (e.g. NL).")] = None,
        min_risk: Annotated[
            float | None, typer.Option("--min-risk", help="Only hashes scoring this or more.")
        ] = None,
        scan: Annotated[int | None, typer.Option(help="Only this scan.")] = None,
        limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
        revisit: Annotated[
            bool, typer.Option("--revisit", help="Fetch each again: still online? bytes changed?")
        ] = False,
        queue: Annotated[
            bool, typer.Option("--queue", help="Show the analyst queue (new items) instead.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per sighting.")] = False,
    ) -> None:
        """List sightings with their circumstances, matches and risk."""
        from rich.console import Console

        from opspoor.scanner.query import find_sightings
        from opspoor.scanner.risk import parts_text
        from opspoor.store.db import open_store

        _, factory = open_store()
        if queue:
            _show_queue(factory, limit, as_json)
            return
        with factory() as session:
            found = find_sightings(
                session,
                hash_value=hash_value,
                host=host,
                country=country,
                min_risk=min_risk,
                scan_id=scan,
                limit=limit,
            )
        checks = {}
        if revisit and found:
            from opspoor.scanner.revisit import revisit as run_revisit
            from opspoor.scanner.settings import ScanSettings, private_fetch_allowed

            settings = ScanSettings(allow_private=private_fetch_allowed())
            checks = {r.sighting_id: r for r in run_revisit(factory, [s.id for s in found], settings)}
        out = Console(soft_wrap=True, highlight=False, markup=False)
        for s in found:
            check = checks.get(s.id)
            if as_json:
                record = s.as_dict()
                if check is not None:
                    record["revisit"] = check.__dict__
                typer.echo(json.dumps(record))
                continue
            risk = f"{s.risk:5.1f}" if s.risk is not None else "    -"
            where = f"{s.country or '--'} {s.ip or '-'}"
            out.print(
                f"{s.id:>6} {risk} {s.verdict:8} {s.media_url}  on {s.page_url}"
                f"  [{where}, HTTP {s.http_status}]",
            )
            if s.risk_parts:
                out.print(f"       risk: {parts_text(s.risk_parts)}")
            for m in s.matches:
                out.print(
                    f"       match: list {m['list']} {m['signal']} distance {m['distance']}", highlight=False
                )
            if check is not None:
                state = "online" if check.online else f"offline ({check.error})"
                changed = {True: "bytes changed", False: "same bytes", None: "-"}[check.changed]
                out.print(f"       revisit: {state}, {changed}")
        if not found and not as_json:
            out.print("no sightings match")


def _show_queue(factory: Any, limit: int, as_json: bool) -> None:
    from rich.console import Console

    from opspoor.scanner.queue import pending
    from opspoor.scanner.risk import parts_text

    out = Console(soft_wrap=True, highlight=False, markup=False)
    with factory() as session:
        for item in pending(session, limit=limit):
            if as_json:
                fields = ("id", "sha256", "pdq", "score", "parts", "state", "media_url", "page_url", "host")
                typer.echo(json.dumps({k: getattr(item, k) for k in fields}))
                continue
            out.print(f"{item.id:>6} {item.score:5.1f} {item.sha256}  {item.media_url}  on {item.page_url}")
            out.print(f"       risk: {parts_text(item.parts)}")
