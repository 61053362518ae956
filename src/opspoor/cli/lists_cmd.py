"""`opspoor lists ...`: create hash lists, fill them from media or files, export, inspect, and take
wrong hashes out of matching with a reason. Every change is kept in the list's history."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

lists_app = typer.Typer(
    name="lists", help="Hash lists: create, add, import, export, show, disable.", no_args_is_help=True
)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: OPSPOOR_DATABASE_URL, else the embedded SQLite)."),
]
ActorOption = Annotated[
    str | None, typer.Option("--actor", help="Who makes the change (default: login name).")
]
FORMAT_HELP = "csv | lines | te-file | te-csv | te-json | hma-json (see README: Hash lists)."


@contextmanager
def _store(db: str | None) -> Iterator[sessionmaker[Session]]:
    """Sessions on the database, whose connections are closed when the command ends."""
    from opspoor.store.db import open_store

    engine, factory = open_store(db)
    try:
        yield factory
    finally:
        engine.dispose()


def _actor(actor: str | None) -> str | None:
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return None


def _fail(message: str) -> typer.Exit:
    from rich.console import Console

    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(1)


@contextmanager
def _progress() -> Iterator[Callable[[int], None]]:
    """A live row count on stderr while an import runs (on a terminal only)."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=console, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task("importing: 0 rows")
        yield lambda rows: bar.update(task, description=f"importing: {rows:,} rows")


def hash_for_list(path: Path) -> tuple[str, Any]:
    """Hash one file for `lists add` (module level: runs in worker processes)."""
    from opspoor.media.errors import MediaError
    from opspoor.media.image import read_limited
    from opspoor.signals.compute import compute_signals

    try:
        # Robust signals are opspoor's own: computed when media is added, so that crops, padding and
        # borders of it can be found later (lists imported as bare hashes keep plain PDQ).
        return str(path), compute_signals(read_limited(path), robust_reference=True)
    except MediaError as exc:
        return str(path), str(exc)


@lists_app.command("create")
def create_command(
    name: str,
    source: Annotated[str | None, typer.Option(help="Where the list comes from.")] = None,
    supplier: Annotated[str | None, typer.Option(help="Who supplied it.")] = None,
    supplied_at: Annotated[
        datetime | None, typer.Option("--supplied-at", help="When it was supplied (UTC).")
    ] = None,
    terms: Annotated[str | None, typer.Option(help="Terms of use / sharing.")] = None,
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Owning tenant (service multi-tenancy).")] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Create an empty hash list with its provenance."""
    from opspoor.lists.service import create_list
    from opspoor.store.db import transaction

    with _store(db) as factory, transaction(factory) as session:
        create_list(
            session,
            name,
            source=source,
            supplier=supplier,
            supplied_at=supplied_at,
            terms=terms,
            description=description,
            owner_tenant=tenant,
            enabled=not disabled,
            actor=_actor(actor),
        )
    typer.echo(f"created list {name}")


@lists_app.command("add")
def add_command(
    name: str,
    paths: Annotated[list[Path], typer.Argument(help="Media files and folders (recursive).")],
    classification: Annotated[str | None, typer.Option(help="e.g. iwf:A, ncmec:A1, iccam:baseline")] = None,
    source_ref: Annotated[str | None, typer.Option("--source-ref", help="Reference for every entry.")] = None,
    workers: Annotated[int, typer.Option(help="Processes; 0 means all cores.")] = 0,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Hash media and add its md5, sha1, sha256 and PDQ, linked by sha256. Exit code 1 if a file
    could not be read (the others are still added, all in one transaction)."""
    from rich.console import Console

    from opspoor.cli.files import iter_files
    from opspoor.cli.parallel import map_with_progress
    from opspoor.lists.classification import parse_classification
    from opspoor.lists.media import add_media, entries_for_media
    from opspoor.lists.service import get_list
    from opspoor.store.db import transaction

    if classification:
        parse_classification(classification)  # fail before hashing, not after
    err = Console(stderr=True)
    files = list(iter_files(paths))
    items = []
    failed = 0
    with _store(db) as factory:
        with factory() as session:
            get_list(session, name)  # before hashing: a wrong name should not cost an hour
        for path, hashed in map_with_progress(hash_for_list, files, workers=workers or None, label="Hashing"):
            if isinstance(hashed, str):
                failed += 1
                err.print(f"[red]{path}[/red]: {hashed}", highlight=False)
                continue
            _, warnings = entries_for_media(hashed, classification=classification, source_ref=source_ref)
            for warning in warnings:
                err.print(f"[yellow]{path}[/yellow]: {warning}", highlight=False)
            items.append(hashed)
        with transaction(factory) as session:
            result, _ = add_media(
                session,
                name,
                items,
                classification=classification,
                source_ref=source_ref,
                actor=_actor(actor),
                reason="lists add",
            )
    typer.echo(
        f"{len(files) - failed} file(s) hashed: {result.added} entries added, "
        f"{result.existing} already in {name}, {result.duplicates} repeated"
    )
    if failed:
        raise typer.Exit(1)


@lists_app.command("import")
def import_command(
    name: str,
    file: Annotated[Path, typer.Argument(help="The file to import; - for standard input.")],
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "csv",
    signal: Annotated[str | None, typer.Option(help="Signal type where the file gives none.")] = None,
    classification: Annotated[str | None, typer.Option(help="For rows without one.")] = None,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Import a list file, all or nothing: any bad row (reported with its line) imports nothing."""
    from opspoor.lists.errors import ImportRejected
    from opspoor.lists.importing import import_stream
    from opspoor.store.db import transaction

    source = "<stdin>" if str(file) == "-" else file.name
    try:
        stream = nullcontext(sys.stdin) if str(file) == "-" else file.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        with stream as text, _progress() as progress, _store(db) as factory, transaction(factory) as session:
            report = import_stream(
                session,
                name,
                text,
                fmt,
                signal=signal,
                classification=classification,
                actor=_actor(actor),
                source=source,
                progress=progress,
            )
    except ImportRejected as exc:
        raise _fail(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise _fail(f"{file} is not UTF-8 text (byte {exc.start})") from None
    r = report.result
    typer.echo(
        f"{report.rows} rows read: {r.added} added, {r.existing} already in {name}, {r.duplicates} repeated"
    )
    for why, count in sorted(report.skipped.items()):
        typer.echo(f"skipped {count} row(s): {why}")


@lists_app.command("export")
def export_command(
    name: str,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default: stdout).")] = None,
    include_all: Annotated[
        bool, typer.Option("--all", help="Also disabled and disputed entries, with state and reason.")
    ] = False,
    signal: Annotated[str | None, typer.Option(help="Only this signal type.")] = None,
    db: DbOption = None,
) -> None:
    """Write a list's active entries (or all of them, with --all) to a file or stdout."""
    from opspoor.lists.importing import export_stream

    if fmt == "lines" and signal is None:
        raise _fail("the lines format does not say which hash a line is: give --signal")
    with _store(db) as factory, factory() as session:
        if output is None:
            count = export_stream(session, name, sys.stdout, fmt, include_all=include_all, signal=signal)
        else:
            with output.open("w", encoding="utf-8", newline="") as out:
                count = export_stream(session, name, out, fmt, include_all=include_all, signal=signal)
    if output is not None:
        typer.echo(f"{count} entries written to {output}")


def _state_command(state: str) -> Any:
    def command(
        name: str,
        value: str,
        reason: Annotated[str, typer.Option(help="Why (kept in the history).")],
        signal: Annotated[str | None, typer.Option(help="Signal type, if the value is ambiguous.")] = None,
        db: DbOption = None,
        actor: ActorOption = None,
    ) -> None:
        from opspoor.lists import service
        from opspoor.store.db import transaction

        change = {"disable": service.disable_entry, "dispute": service.dispute_entry}.get(
            state, service.enable_entry
        )
        with _store(db) as factory, transaction(factory) as session:
            entry = change(session, name, value, reason, actor=_actor(actor), signal_type=signal)
            typer.echo(f"{entry.signal_type} {entry.value} in {name}: {entry.state}")

    command.__doc__ = {
        "disable": "Take a hash out of matching (e.g. a confirmed false positive); history is kept.",
        "dispute": "Take a hash out of matching while a complaint about it is reviewed.",
        "enable": "Put a disabled or disputed hash back into matching.",
    }[state]
    return command


for _state in ("disable", "dispute", "enable"):
    lists_app.command(_state)(_state_command(_state))


@lists_app.command("set")
def set_command(
    name: str,
    source: Annotated[str | None, typer.Option(help="Where the list comes from.")] = None,
    supplier: Annotated[str | None, typer.Option(help="Who supplied it.")] = None,
    supplied_at: Annotated[
        datetime | None, typer.Option("--supplied-at", help="When it was supplied (UTC).")
    ] = None,
    terms: Annotated[str | None, typer.Option(help="Terms of use / sharing.")] = None,
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Owning tenant.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (kept in the history).")] = None,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Change a list's provenance; old and new values go into its history."""
    from opspoor.lists.service import update_list
    from opspoor.store.db import transaction

    given = {
        "source": source,
        "supplier": supplier,
        "supplied_at": supplied_at,
        "terms": terms,
        "description": description,
        "owner_tenant": tenant,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise _fail(
            "nothing to change: give at least one of --source, --supplier, --supplied-at, --terms, ..."
        )
    with _store(db) as factory, transaction(factory) as session:
        update_list(session, name, actor=_actor(actor), reason=reason, **changes)
    typer.echo(f"list {name} updated: {', '.join(changes)}")


@lists_app.command("reclassify")
def reclassify_command(
    name: str,
    value: str,
    classification: Annotated[str, typer.Argument(help="e.g. iwf:A, ncmec:A1+ai; 'none' clears it.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the history).")],
    signal: Annotated[str | None, typer.Option(help="Signal type, if the value is ambiguous.")] = None,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Change an entry's classification; the old one stays in the history."""
    from opspoor.lists.service import reclassify_entry
    from opspoor.store.db import transaction

    new = None if classification.strip().lower() == "none" else classification
    with _store(db) as factory, transaction(factory) as session:
        entry = reclassify_entry(session, name, value, new, reason, actor=_actor(actor), signal_type=signal)
        shown = (entry.classification or "none") + ("+ai" if entry.ai_generated else "")
        typer.echo(f"{entry.signal_type} {entry.value} in {name}: {shown}")


@lists_app.command("switch")
def switch_command(
    name: str,
    on: Annotated[bool, typer.Option("--on/--off", help="Switch the whole list on or off.")],
    reason: Annotated[str | None, typer.Option(help="Why (kept in the history).")] = None,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Switch a whole list in or out of matching."""
    from opspoor.lists.service import set_list_enabled
    from opspoor.store.db import transaction

    with _store(db) as factory, transaction(factory) as session:
        set_list_enabled(session, name, on, reason=reason, actor=_actor(actor))
    typer.echo(f"list {name} {'on' if on else 'off'}")


@lists_app.command("show")
def show_command(name: Annotated[str | None, typer.Argument()] = None, db: DbOption = None) -> None:
    """All lists with entry counts per signal type and state; with NAME, its provenance too."""
    from opspoor.cli.lists_view import show_list, show_lists
    from opspoor.lists.history import summaries

    with _store(db) as factory, factory() as session:
        found = summaries(session, [name] if name else None)
    if name:
        show_list(found[0])
    else:
        show_lists(found)


@lists_app.command("history")
def history_command(
    name: str,
    value: Annotated[str | None, typer.Argument(help="One entry's value (default: the whole list).")] = None,
    signal: Annotated[str | None, typer.Option(help="Signal type, if the value is ambiguous.")] = None,
    limit: Annotated[int, typer.Option(help="Newest events to show.")] = 50,
    db: DbOption = None,
) -> None:
    """The history of a list (imports, switches, entry changes) or of one entry, newest first."""
    from opspoor.cli.lists_view import show_history
    from opspoor.lists.history import entry_history, list_history

    with _store(db) as factory, factory() as session:
        if value is None:
            events = list_history(session, name)[:limit]
            entries = entry_history(session, name, limit=limit)
            show_history(f"{name}: list events", events)
            show_history(f"{name}: entry events", entries)
        else:
            show_history(
                f"{name}: {value}", entry_history(session, name, value, signal_type=signal, limit=limit)
            )


@lists_app.command("classifications")
def classifications_command() -> None:
    """The classification strings opspoor knows, and what they mean."""
    from opspoor.lists.classification import LABELS

    for code, label in LABELS.items():
        typer.echo(f"{code:20} {label}")
    typer.echo(f"{'<any>+ai':20} the same, AI-generated; 'ai' alone: AI-generated, no category")


def register(app: typer.Typer) -> None:
    app.add_typer(lists_app, name="lists")
