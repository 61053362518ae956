"""`opspoor keys`: create, list and revoke API keys; share lists to tenants."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

keys_app = typer.Typer(
    help="API keys for the hash-check service (stored hashed; shown once).", no_args_is_help=True
)

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: the local store).")]


@contextmanager
def _store(db: str | None) -> Iterator[sessionmaker[Session]]:
    from opspoor.store.db import open_store

    engine, factory = open_store(db)
    try:
        yield factory
    finally:
        engine.dispose()


@keys_app.command("create")
def create(
    tenant: Annotated[str, typer.Option(help="The tenant (organisation) the key acts for.")],
    role: Annotated[list[str], typer.Option(help="checker, analyst, curator or admin (repeatable).")],
    label: Annotated[str | None, typer.Option(help="A note, e.g. who holds the key.")] = None,
    db: DbOption = None,
) -> None:
    """Create a key and print it once: it cannot be shown again."""
    from opspoor import audit
    from opspoor.api.keys import create_key
    from opspoor.store.db import transaction

    with _store(db) as factory, transaction(factory) as session:
        info, key = create_key(session, tenant, role, label)
        audit.log(session, "cli", "key.create", info.key_id, {"tenant": tenant, "roles": sorted(info.roles)})
    typer.echo(key)
    typer.echo(
        f"key id {info.key_id}, tenant {info.tenant}, roles {', '.join(sorted(info.roles))} "
        "(store the key now; only its hash is kept)",
        err=True,
    )


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (8 hex digits) shown by `keys list`.")],
    db: DbOption = None,
) -> None:
    """Revoke a key (servers stop accepting it within their key cache time, 5 s by default)."""
    from opspoor import audit
    from opspoor.api.keys import revoke_key
    from opspoor.store.db import transaction

    with _store(db) as factory, transaction(factory) as session:
        info = revoke_key(session, key_id)
        audit.log(session, "cli", "key.revoke", info.key_id, {"tenant": info.tenant})
    typer.echo(f"revoked {info.key_id} (tenant {info.tenant})")


@keys_app.command("list")
def list_(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys.")] = None,
    db: DbOption = None,
) -> None:
    """Key ids, tenants, roles and states (never the keys)."""
    from opspoor.api.keys import list_keys

    with _store(db) as factory, factory() as session:
        for info in list_keys(session, tenant):
            state = f"revoked {info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "active"
            created = f"{info.created_at:%Y-%m-%d %H:%M}" if info.created_at else "-"
            roles = ",".join(sorted(info.roles))
            typer.echo(f"{info.key_id}\t{info.tenant}\t{roles}\t{state}\t{created}\t{info.label or ''}")


@keys_app.command("share")
def share(
    list_name: Annotated[str, typer.Argument(help="The list to share.")],
    tenant: Annotated[str, typer.Option(help="The tenant that may use it.")],
    revoke_share: Annotated[bool, typer.Option("--revoke", help="Stop sharing instead.")] = False,
    db: DbOption = None,
) -> None:
    """Let a tenant match against (and see the metadata of) a list it does not own."""
    from opspoor import audit
    from opspoor.api.keys import share_list, unshare_list
    from opspoor.lists.service import get_list
    from opspoor.store.db import transaction

    with _store(db) as factory, transaction(factory) as session:
        get_list(session, list_name)
        if revoke_share:
            unshare_list(session, list_name, tenant)
        else:
            share_list(session, list_name, tenant)
        audit.log(
            session, "cli", "list.unshare" if revoke_share else "list.share", list_name, {"tenant": tenant}
        )
    typer.echo(f"list {list_name!r} {'no longer' if revoke_share else 'now'} shared to {tenant}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
