"""Fast insertion of many entries at once, with their history events, inside the caller's transaction.

Rows go in with `INSERT ... ON CONFLICT DO NOTHING` - on SQLite as one executemany, on PostgreSQL
as a COPY into a transaction-local staging table followed by one INSERT ... SELECT - so there are no
per-value lookups (which PostgreSQL plans badly on a table growing inside the same transaction).
Then one `INSERT ... SELECT` writes the `added` event of every row that went in. That takes 100k
entries plus 100k events in seconds, where ORM objects take minutes (benchmarks/lists_import.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import DateTime, Insert, String, Table, Text, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from opspoor.lists.rows import NewEntry
from opspoor.store.lists import Entry, EntryEvent

_ENTRIES = cast(Table, Entry.__table__)
_EVENTS = cast(Table, EntryEvent.__table__)


@dataclass
class AddResult:
    """What one call of add_entries did: new entries, values already in the list, repeats."""

    added: int = 0
    existing: int = 0  # already in the list (in whatever state: a disabled hash is not revived)
    duplicates: int = 0  # the same value twice in one batch (across batches it counts as existing)

    def merge(self, other: AddResult) -> None:
        self.added += other.added
        self.existing += other.existing
        self.duplicates += other.duplicates


def _insert_ignoring_existing(session: Session) -> Insert:
    table = _ENTRIES
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(
            index_elements=["list_id", "signal_type", "value"]
        )
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["list_id", "signal_type", "value"])
    raise NotImplementedError(f"hash lists support SQLite and PostgreSQL, not {dialect}")


_COLUMNS = (
    "list_id",
    "signal_type",
    "value",
    "classification",
    "ai_generated",
    "source_ref",
    "item_key",
    "quality",
    "state",
    "reason",
    "added_at",
    "changed_at",
)
# A staging table private to the session and dropped at the end of the transaction (also on
# rollback), so a killed import leaves nothing behind.
_STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS opspoor_entry_stage (
    list_id integer, signal_type varchar(32), value varchar(512), classification varchar(64),
    ai_generated boolean, source_ref varchar(512), item_key varchar(128), quality smallint,
    state varchar(16), reason text, added_at timestamp, changed_at timestamp
) ON COMMIT DROP
"""


def _copy_into_postgresql(session: Session, params: Sequence[dict[str, Any]]) -> None:
    """COPY into a staging table, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING: psycopg's
    executemany sends a statement per row, which costs the server far more than a COPY stream."""
    columns = ", ".join(_COLUMNS)
    raw = session.connection().connection.driver_connection  # the transaction's psycopg connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(_STAGE_DDL)
        cur.execute("TRUNCATE opspoor_entry_stage")
        with cur.copy(f"COPY opspoor_entry_stage ({columns}) FROM STDIN") as copy:
            for p in params:
                copy.write_row(tuple(p[c] for c in _COLUMNS))
        cur.execute(
            f"INSERT INTO list_entries ({columns}) SELECT {columns} FROM opspoor_entry_stage "
            "ON CONFLICT (list_id, signal_type, value) DO NOTHING"
        )


def insert_entries(
    session: Session,
    list_id: int,
    rows: Sequence[NewEntry],
    *,
    actor: str | None,
    reason: str | None,
    now: datetime,
    states: Mapping[tuple[str, str], tuple[str, str]] | None = None,
) -> AddResult:
    """Insert normalised rows not yet in the list; existing values are counted, never changed.

    `states` maps (signal_type, value) to (state, reason) for rows that arrive disabled or disputed
    (an `export --all` file): they are added and then marked, with both events in the history."""
    states = states or {}
    result = AddResult()
    unique: dict[tuple[str, str], NewEntry] = {}
    for row in rows:
        key = (row.signal_type, row.value)
        if key in unique:
            result.duplicates += 1
        else:
            unique[key] = row
    if not unique:
        return result
    params: list[dict[str, Any]] = []
    for r in unique.values():
        state, state_reason = states.get((r.signal_type, r.value), ("active", None))
        params.append(
            {
                "list_id": list_id,
                "signal_type": r.signal_type,
                "value": r.value,
                "classification": r.classification,
                "ai_generated": r.ai_generated,
                "source_ref": r.source_ref,
                "item_key": r.item_key,
                "quality": r.quality,
                "state": state,
                "reason": state_reason,
                "added_at": now,
                "changed_at": now,
            }
        )
    table = _ENTRIES
    before = session.scalar(select(func.coalesce(func.max(table.c.id), 0)))
    if session.get_bind().dialect.name == "postgresql":
        _copy_into_postgresql(session, params)
    else:
        session.execute(_insert_ignoring_existing(session), params)  # sqlite3 executemany: fast
    # The rows this batch added: ids above `before` carrying this import's timestamp (only a
    # concurrent writer of the same list in the same microsecond could mix in a foreign row).
    mine = (table.c.list_id == list_id) & (table.c.id > before) & (table.c.added_at == now)
    events = _EVENTS
    columns = ["entry_id", "list_id", "action", "reason", "actor", "detail", "at"]
    session.execute(
        events.insert().from_select(
            columns,
            select(
                table.c.id,
                table.c.list_id,
                literal("added", String),
                literal(reason, Text),
                literal(actor, String),
                literal(None, Text),
                literal(now, DateTime),
            )
            .where(mine)
            .order_by(table.c.id),
        )
    )
    # Rows that arrived disabled or disputed get a second event ('disabled' and 'disputed' name
    # both the state and the action).
    if any(p["state"] != "active" for p in params):
        session.execute(
            events.insert().from_select(
                columns,
                select(
                    table.c.id,
                    table.c.list_id,
                    table.c.state,
                    table.c.reason,
                    literal(actor, String),
                    literal("as imported", Text),
                    literal(now, DateTime),
                )
                .where(mine & (table.c.state != "active"))
                .order_by(table.c.id),
            )
        )
    # Counted, not taken from rowcount: psycopg reports -1 for INSERT ... SELECT after a pipeline.
    result.added = int(session.scalar(select(func.count()).select_from(table).where(mine)) or 0)
    result.existing = len(params) - result.added
    return result
