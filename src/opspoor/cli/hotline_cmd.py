"""`opspoor hotline ...`: staff accounts, partner hotlines, abuse contacts, reports, the scheduler and
statistics of the hotline workflow (the web UI is served by `opspoor serve`)."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Annotated, Any

import typer

DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: OPSPOOR_DATABASE_URL or local SQLite).")
]


def _hotline(db: str | None) -> Any:
    from opspoor.hotline.service import Hotline
    from opspoor.store.db import open_store

    _, factory = open_store(db)
    return Hotline(factory)


def register(app: typer.Typer) -> None:
    hotline = typer.Typer(help="The hotline workflow: staff, partners, contacts, reports, scheduler.")
    users = typer.Typer(help="Hotline staff accounts (web sign-in).")
    partners = typer.Typer(help="Partner hotlines by country: items hosted there are forwarded to them.")
    contacts = typer.Typer(help="Abuse-contact overrides per host (default: abuse@ the host's domain).")
    hotline.add_typer(users, name="users")
    hotline.add_typer(partners, name="partners")
    hotline.add_typer(contacts, name="contacts")
    app.add_typer(hotline, name="hotline")

    @users.command("add")
    def users_add(
        username: str,
        roles: Annotated[
            list[str], typer.Option("--role", help="analyst, senior, admin or viewer; repeatable.")
        ],
        password_stdin: Annotated[
            bool, typer.Option("--password-stdin", help="Read the password from stdin.")
        ] = False,
        db: DbOption = None,
    ) -> None:
        """Create a staff account (asks for the password unless --password-stdin)."""
        from opspoor.hotline.users import add_user
        from opspoor.store.db import transaction

        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        hl = _hotline(db)
        with transaction(hl.factory) as session:
            user = add_user(session, username, password, roles, hl.now())
        typer.echo(f"added {user.username} ({', '.join(sorted(user.roles))})")

    @users.command("list")
    def users_list(db: DbOption = None) -> None:
        from opspoor.hotline.users import list_users

        hl = _hotline(db)
        with hl.factory() as session:
            for user, active in list_users(session):
                state = "" if active else " (disabled)"
                typer.echo(f"{user.username}\t{','.join(sorted(user.roles))}{state}")

    @users.command("roles")
    def users_roles(
        username: str,
        roles: Annotated[list[str], typer.Option("--role", help="The account's new roles; repeatable.")],
        db: DbOption = None,
    ) -> None:
        """Replace an account's roles."""
        from opspoor.hotline.users import set_roles
        from opspoor.store.db import transaction

        hl = _hotline(db)
        with transaction(hl.factory) as session:
            user = set_roles(session, username, roles)
        typer.echo(f"{user.username}: {', '.join(sorted(user.roles))}")

    @users.command("disable")
    def users_disable(username: str, db: DbOption = None) -> None:
        """Disable an account and end its sessions (history keeps its name)."""
        from opspoor.hotline.users import deactivate
        from opspoor.store.db import transaction

        hl = _hotline(db)
        with transaction(hl.factory) as session:
            deactivate(session, username)
        typer.echo(f"disabled {username}")

    @partners.command("set")
    def partners_set(
        country: str,
        name: str,
        email: Annotated[str | None, typer.Option(help="The partner's report address.")] = None,
        webhook: Annotated[str | None, typer.Option(help="The partner's report webhook (JSON POST).")] = None,
        db: DbOption = None,
    ) -> None:
        """Add or change the partner hotline for a country (ISO 3166 alpha-2)."""
        from opspoor.hotline.contacts import set_partner
        from opspoor.store.db import transaction

        hl = _hotline(db)
        with transaction(hl.factory) as session:
            set_partner(session, country, name, email, webhook)
        typer.echo(f"partner for {country.upper()}: {name}")

    @partners.command("list")
    def partners_list(db: DbOption = None) -> None:
        from opspoor.hotline.contacts import list_partners

        hl = _hotline(db)
        with hl.factory() as session:
            for p in list_partners(session):
                typer.echo(f"{p.country}\t{p.name}\t{p.email or '-'}\t{p.webhook or '-'}")

    @partners.command("remove")
    def partners_remove(country: str, db: DbOption = None) -> None:
        from opspoor.hotline.contacts import remove_partner
        from opspoor.store.db import transaction

        hl = _hotline(db)
        with transaction(hl.factory) as session:
            remove_partner(session, country)
        typer.echo(f"removed the partner for {country.upper()}")

    @contacts.command("set")
    def contacts_set(
        host: str,
        email: Annotated[str | None, typer.Option(help="Where notices for this host go.")] = None,
        webhook: Annotated[str | None, typer.Option(help="A webhook that takes notices (JSON POST).")] = None,
        note: Annotated[str | None, typer.Option(help="Why (e.g. the host's abuse desk asked).")] = None,
        db: DbOption = None,
    ) -> None:
        """Override the abuse contact of a host."""
        from opspoor.hotline.contacts import set_contact
        from opspoor.store.db import transaction

        hl = _hotline(db)
        with transaction(hl.factory) as session:
            set_contact(session, host, email, webhook, note)
        typer.echo(f"abuse contact for {host.lower()} set")

    @contacts.command("list")
    def contacts_list(db: DbOption = None) -> None:
        from opspoor.hotline.contacts import list_contacts

        hl = _hotline(db)
        with hl.factory() as session:
            for c in list_contacts(session):
                typer.echo(f"{c.host}\t{c.email or '-'}\t{c.webhook or '-'}\t{c.note or ''}")

    @hotline.command("report")
    def report(
        urls: Annotated[list[str], typer.Argument(help="Media URLs (http/https).")],
        comment: Annotated[str | None, typer.Option(help="Where it was seen.")] = None,
        db: DbOption = None,
    ) -> None:
        """Record a report; triage runs with the scheduler."""
        sub = _hotline(db).submit(urls, source="api", reporter="cli", comment=comment)
        typer.echo(f"report {sub.report_id}: items {', '.join(map(str, sub.item_ids))}")

    @hotline.command("import-scanner")
    def import_scanner(
        limit: Annotated[int, typer.Option(help="Take at most this many queue items.")] = 100,
        db: DbOption = None,
    ) -> None:
        """Take the scanner's analyst queue (highest risk first) into the hotline."""
        typer.echo(f"took {_hotline(db).import_scanner_queue(limit)} items from the scanner queue")

    @hotline.command("run-scheduler")
    def run_scheduler(
        once: Annotated[bool, typer.Option("--once", help="Run what is due now, then exit.")] = False,
        interval: Annotated[float, typer.Option(help="Seconds between passes.")] = 30.0,
        db: DbOption = None,
    ) -> None:
        """Run due triage, notices, re-checks and purges (state in the database: safe to restart)."""
        import logging

        from opspoor.hotline.runner import run_forever

        hl = _hotline(db)
        if once:
            typer.echo(f"ran {hl.run_due()} jobs")
            return
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        with contextlib.suppress(KeyboardInterrupt):
            run_forever(hl, interval)

    @hotline.command("stats")
    def stats(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        db: DbOption = None,
    ) -> None:
        """Items by state and source, and time to removal per host, country and category."""
        from dataclasses import asdict

        from opspoor.hotline.stats import compute

        hl = _hotline(db)
        with hl.factory() as session:
            result = compute(session, hl.now())
        if as_json:
            typer.echo(json.dumps(asdict(result), indent=2))
            return
        typer.echo(f"reports {result.reports}, items {result.items}, removed after notice {result.removed}")
        for state, n in sorted(result.by_state.items()):
            typer.echo(f"  {state}: {n}")
        for title, rows in (
            ("host", result.removal_by_host),
            ("country", result.removal_by_country),
            ("category", result.removal_by_category),
        ):
            for r in rows:
                typer.echo(f"  removal by {title} {r.key}: {r.count} items, median {r.median_hours} h")
