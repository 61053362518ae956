"""Tables of the hash lists: lists, their entries, and the append-only history of both.

Entries are never deleted. A false match can take down an innocent site (EOKM's Hashcheckserver was
paused by a hoster after stock photos matched), so a wrong hash is disabled or marked disputed with
a reason, and every change is written to `list_entry_events`, whose autoincrement id is also the
cursor the matcher follows to update its indexes incrementally.

Times are naive UTC on both backends (SQLite has no time zones; storing naive UTC everywhere keeps
values identical between SQLite and PostgreSQL). The schema is created by the hand-written Alembic
revision `lists_0001`; keep the two in step.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from opspoor.store.db import Base

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

ENTRY_STATES = ("active", "disabled", "disputed")
ENTRY_ACTIONS = ("added", "disabled", "disputed", "enabled", "reclassified")
LIST_ACTIONS = ("created", "enabled", "disabled", "imported", "updated")

NAME_MAX = 200
VALUE_MAX = 512  # longest canonical signal value we accept (PDQ is 64, future video hashes longer)
REF_MAX = 512
KEY_MAX = 128
CLASS_MAX = 64


def utcnow() -> datetime:
    """Now, as naive UTC (see the module docstring)."""
    return datetime.now(UTC).replace(tzinfo=None)


class HashList(Base):
    __tablename__ = "hash_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    source: Mapped[str | None] = mapped_column(Text)
    # Provenance: who supplied the list, when, and on which terms (many lists may not be re-shared).
    supplier: Mapped[str | None] = mapped_column(String(NAME_MAX))
    supplied_at: Mapped[datetime | None] = mapped_column(DateTime)
    terms: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    owner_tenant: Mapped[str | None] = mapped_column(String(NAME_MAX), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Entry(Base):
    __tablename__ = "list_entries"
    __table_args__ = (
        UniqueConstraint("list_id", "signal_type", "value", name="uq_list_entries_list_signal_value"),
        Index("ix_list_entries_item_key", "item_key"),
        CheckConstraint("state IN ('active', 'disabled', 'disputed')", name="state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("hash_lists.id"))
    signal_type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(VALUE_MAX))  # canonical form, get_signal(t).parse
    classification: Mapped[str | None] = mapped_column(String(CLASS_MAX))
    ai_generated: Mapped[bool] = mapped_column(Boolean, default=False)
    source_ref: Mapped[str | None] = mapped_column(String(REF_MAX))
    # Groups the signals of one media item (e.g. its sha256): md5, sha1, sha256, pdq and video frames.
    item_key: Mapped[str | None] = mapped_column(String(KEY_MAX))
    quality: Mapped[int | None] = mapped_column(SmallInteger)  # PDQ quality 0..100
    state: Mapped[str] = mapped_column(String(16), default="active")
    reason: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class EntryEvent(Base):
    """One change of one entry. Append-only; the id orders changes for incremental index updates."""

    __tablename__ = "list_entry_events"
    __table_args__ = (Index("ix_list_entry_events_entry", "entry_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("list_entries.id"))
    list_id: Mapped[int] = mapped_column(ForeignKey("hash_lists.id"))
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(NAME_MAX))
    detail: Mapped[str | None] = mapped_column(Text)  # e.g. "iwf:B -> iwf:A" for reclassified
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ListEvent(Base):
    """One change of a list as a whole: created, enabled/disabled, an import with its counts."""

    __tablename__ = "list_events"
    __table_args__ = (Index("ix_list_events_list", "list_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("hash_lists.id"))
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(NAME_MAX))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON text, e.g. import counts
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
