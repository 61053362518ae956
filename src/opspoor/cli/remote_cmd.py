"""`opspoor remote check`: hash files here, send only the hashes to a hash-check service."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

remote_app = typer.Typer(help="Use a remote opspoor service.", no_args_is_help=True)

# Hashes per call: the service's default batch limit is 1000 and each file sends up to 4.
_FILES_PER_CALL = 200
_SIGNALS = ("md5", "sha1", "sha256", "pdq")


@remote_app.command("check")
def check(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (recursive).")],
    url: Annotated[str | None, typer.Option(help="Service URL (or OPSPOOR_URL).")] = None,
    key: Annotated[str | None, typer.Option(help="API key (or OPSPOOR_API_KEY).")] = None,
    threshold: Annotated[int | None, typer.Option(help="PDQ match distance (default 31).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
    workers: Annotated[int, typer.Option(help="Hashing processes; 0 means all cores.")] = 0,
) -> None:
    """Hash locally (the files never leave this machine) and print each file's verdict.
    Exit 1 if any file is known or near-known."""
    import json

    from opspoor.cli.files import iter_files
    from opspoor.cli.hash_cmd import hash_path
    from opspoor.cli.parallel import map_with_progress
    from opspoor.client import Client

    url = url or os.environ.get("OPSPOOR_URL")
    key = key or os.environ.get("OPSPOOR_API_KEY")
    if not url or not key:
        raise typer.BadParameter("give --url and --key (or OPSPOOR_URL and OPSPOOR_API_KEY)")
    files = list(iter_files(paths))
    jobs = [(p, False, False) for p in files]
    records = list(map_with_progress(hash_path, jobs, workers=workers, label="hashing"))
    flagged = 0
    with Client(url, key) as client:
        for start in range(0, len(records), _FILES_PER_CALL):
            chunk = records[start : start + _FILES_PER_CALL]
            queries, owners = _queries(chunk)
            results = client.check_hashes(queries, threshold).results if queries else []
            per_file: list[list[Any]] = [[] for _ in chunk]
            for owner, result in zip(owners, results, strict=True):
                per_file[owner].extend(result.matches)
            for record, matches in zip(chunk, per_file, strict=True):
                verdict = _verdict(matches)
                if verdict == "unknown" and not record.get("md5"):
                    verdict = "error"  # not even read: nothing was checked
                flagged += verdict in ("known", "near")
                if as_json:
                    out = {
                        "path": record["path"],
                        "verdict": verdict,
                        "error": record.get("error"),
                        "matches": [m.model_dump() for m in matches],
                    }
                    typer.echo(json.dumps(out, ensure_ascii=False))
                else:
                    where = ", ".join(f"{m.list}:{m.signal}@{m.distance}" for m in matches)
                    if verdict == "error":
                        where = str(record.get("error") or "")
                    typer.echo(f"{verdict:8} {record['path']}" + (f"  ({where})" if where else ""))
    if flagged:
        raise typer.Exit(1)


def _queries(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[int]]:
    queries: list[dict[str, Any]] = []
    owners: list[int] = []
    for i, record in enumerate(records):
        for signal in _SIGNALS:
            value = record.get(signal)
            if value:
                query: dict[str, Any] = {"signal": signal, "value": value}
                if signal == "pdq" and record.get("pdq_quality") is not None:
                    query["quality"] = record["pdq_quality"]
                queries.append(query)
                owners.append(i)
    return queries, owners


def _verdict(matches: list[Any]) -> str:
    if any(m.signal in ("md5", "sha1", "sha256") for m in matches):
        return "known"
    return "near" if matches else "unknown"


def register(app: typer.Typer) -> None:
    app.add_typer(remote_app, name="remote")
