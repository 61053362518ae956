"""`opspoor audit`: verify the hash chain, show rows."""

from __future__ import annotations

from typing import Annotated

import typer

audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: the local store).")]


@audit_app.command("verify")
def verify_cmd(
    expect: Annotated[
        str | None,
        typer.Option(
            help="SEQ:HASH of a row written down earlier (from a previous verify); catches a chain "
            "rewritten from that row on."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Check every row's hash and link. Exit 1 naming the first broken row."""
    from opspoor.audit.chain import AuditBroken, head, verify
    from opspoor.store.db import open_store
    from opspoor.store.service import AuditRow

    engine, factory = open_store(db)
    try:
        with factory() as session:
            try:
                count = verify(session)
            except AuditBroken as exc:
                typer.echo(f"audit log BROKEN at row {exc.seq}: {exc.problem}", err=True)
                raise typer.Exit(1) from None
            seq, digest = head(session)
            if expect:
                want_seq, _, want_hash = expect.partition(":")
                row = session.get(AuditRow, int(want_seq)) if want_seq.isdigit() else None
                if row is None or row.row_hash != want_hash.strip().lower():
                    typer.echo(
                        f"audit log BROKEN at row {want_seq}: not the row written down earlier", err=True
                    )
                    raise typer.Exit(1)
    finally:
        engine.dispose()
    typer.echo(f"audit log OK: {count} rows; head {seq} {digest}")


@audit_app.command("show")
def show(
    after: Annotated[int, typer.Option(help="Rows after this sequence number.")] = 0,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
    db: DbOption = None,
) -> None:
    """Print rows as JSON lines."""
    import json
    from dataclasses import asdict

    from opspoor.audit.chain import entries
    from opspoor.store.db import open_store

    engine, factory = open_store(db)
    with factory() as session:
        for entry in entries(session, after, limit):
            typer.echo(json.dumps(asdict(entry), ensure_ascii=False))
    engine.dispose()


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
