"""Rich tables for `opspoor lists show` and `opspoor lists history`."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from opspoor.lists.history import HistoryRow, ListSummary
from opspoor.store.lists import ENTRY_STATES


def _counts_text(summary: ListSummary) -> str:
    signals = sorted({s for s, _ in summary.counts})
    parts = []
    for signal in signals:
        active = summary.counts.get((signal, "active"), 0)
        off = {st: summary.counts.get((signal, st), 0) for st in ENTRY_STATES if st != "active"}
        extra = ", ".join(f"{n} {st}" for st, n in off.items() if n)
        parts.append(f"{signal} {active}" + (f" ({extra})" if extra else ""))
    return "; ".join(parts) or "empty"


def show_lists(summaries: Sequence[ListSummary]) -> None:
    console = Console()
    if not summaries:
        console.print("no lists yet: opspoor lists create NAME")
        return
    table = Table(title="Hash lists")
    for column in ("list", "on", "active", "disabled", "disputed", "per signal (active)", "source"):
        table.add_column(column)
    for s in summaries:
        table.add_row(
            s.name,
            "yes" if s.enabled else "no",
            str(s.total("active")),
            str(s.total("disabled")),
            str(s.total("disputed")),
            _counts_text(s),
            s.source or "",
        )
    console.print(table)


def show_list(s: ListSummary) -> None:
    console = Console()
    table = Table(title=f"List {s.name}", show_header=False)
    table.add_column("field")
    table.add_column("value")
    fields = {
        "enabled": "yes" if s.enabled else "no (not matched)",
        "source": s.source,
        "supplier": s.supplier,
        "supplied at": s.supplied_at.isoformat() if s.supplied_at else None,
        "terms": s.terms,
        "description": s.description,
        "tenant": s.owner_tenant,
        "created at (UTC)": s.created_at.isoformat(timespec="seconds"),
        "entries": f"{s.total()} ({s.total('active')} active, {s.total('disabled')} disabled, "
        f"{s.total('disputed')} disputed)",
        "per signal": _counts_text(s),
    }
    for key, value in fields.items():
        table.add_row(key, value or "-")
    console.print(table)


def show_history(title: str, rows: Sequence[HistoryRow]) -> None:
    table = Table(title=title)
    for column in ("#", "at (UTC)", "action", "entry", "reason", "actor", "detail"):
        table.add_column(column, overflow="fold")
    for r in rows:
        entry = f"{r.signal_type} {r.value}" if r.signal_type else ""
        table.add_row(
            str(r.event_id),
            r.at.isoformat(timespec="seconds"),
            r.action,
            entry,
            r.reason or "",
            r.actor or "",
            r.detail or "",
        )
    Console(width=200).print(table)
