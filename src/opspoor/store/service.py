"""Tables of the hash-check service: tenants, API keys and their roles, list shares, the audit log.

API keys are never stored: a key is `ops_<key_id>_<secret>` and only the SHA-256 of the whole key
is kept, next to the short `key_id` used to find the row. The secret has 256 bits of entropy, so a
plain (fast) hash is enough; slow password hashes exist for low-entropy human passwords.

A list belongs to the tenant named in `hash_lists.owner_tenant` (lists' table); `list_shares` makes it
visible to further tenants. Lists with no owner are visible only where shared explicitly.

`audit_log` is append-only (database triggers refuse UPDATE and DELETE) and hash-chained: each row
stores the hash of the row before and the hash of its own canonical content; `audit_head` holds the
newest sequence number and hash, so removing rows from the end is detected too, and its row lock
serialises appends from several server processes. Times are naive UTC, as in opspoor.store.lists.
The schema is created by the hand-written Alembic revision `service_0001`; keep the two in step.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from opspoor.store.db import Base

# Roles, least to most powerful. checker: check hashes, files and URLs; analyst: also read and export
# the lists its tenant may see, and the audit log; curator: also create and change its tenant's
# lists; admin: everything, including metrics.
ROLES = ("checker", "analyst", "curator", "admin")

NAME_MAX = 200
GENESIS_HASH = "0" * 64  # `prev_hash` of the first audit row


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)  # public part, for lookup and logs
    key_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the whole key
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    label: Mapped[str | None] = mapped_column(String(NAME_MAX))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class ApiKeyRole(Base):
    __tablename__ = "api_key_roles"

    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class ListShare(Base):
    """List `list_name` is visible to tenant `tenant_id` (besides its owner)."""

    __tablename__ = "list_shares"

    list_name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AuditRow(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    at: Mapped[str] = mapped_column(String(32))  # ISO 8601 UTC text, hashed exactly as stored
    actor: Mapped[str] = mapped_column(String(NAME_MAX))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row (id 1): the newest audit sequence number and row hash."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    row_hash: Mapped[str] = mapped_column(String(64))
