"""API keys, tenants and list shares: created and revoked by `opspoor keys`, checked on every request.

A key reads `ops_<key_id>_<secret>`: `key_id` (8 hex digits) finds the row and names the key in logs
and the audit trail; the secret is 32 random bytes (secrets.token_urlsafe). Only sha256(key) is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from opspoor.errors import OpspoorError
from opspoor.store.service import ROLES, ApiKey, ApiKeyRole, ListShare, Tenant, utcnow

_KEY_RE = re.compile(r"^ops_([0-9a-f]{8})_([A-Za-z0-9_-]{20,100})$")
_TENANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class KeyAdminError(OpspoorError):
    """A key, tenant or role given to `opspoor keys` is not acceptable."""


@dataclass(frozen=True)
class KeyInfo:
    """Who is calling: what a verified key grants."""

    id: int
    key_id: str
    tenant: str
    roles: frozenset[str]
    label: str | None = None
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller: tenant/key_id."""
        return f"{self.tenant}/{self.key_id}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_key_id(key: str) -> str | None:
    """The lookup id of a well-formed key, or None."""
    match = _KEY_RE.match(key)
    return match.group(1) if match else None


def ensure_tenant(session: Session, name: str) -> Tenant:
    if not _TENANT_RE.match(name):
        raise KeyAdminError(
            f"tenant name {name!r} must be 1-100 letters, digits, dot, dash or underscore, starting with "
            "a letter or digit"
        )
    tenant = session.execute(select(Tenant).where(Tenant.name == name)).scalar_one_or_none()
    if tenant is None:
        tenant = Tenant(name=name, created_at=utcnow())
        session.add(tenant)
        session.flush()
    return tenant


def create_key(
    session: Session, tenant: str, roles: Iterable[str], label: str | None = None
) -> tuple[KeyInfo, str]:
    """A new key for `tenant` with `roles`; returns its info and the key itself (shown once)."""
    wanted = sorted({r.strip().lower() for r in roles})
    if not wanted:
        raise KeyAdminError(f"give at least one role ({', '.join(ROLES)})")
    unknown = [r for r in wanted if r not in ROLES]
    if unknown:
        raise KeyAdminError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    owner = ensure_tenant(session, tenant)
    while True:
        key_id = secrets.token_hex(4)
        if session.execute(select(ApiKey.id).where(ApiKey.key_id == key_id)).first() is None:
            break
    key = f"ops_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(key_id=key_id, key_hash=hash_key(key), tenant_id=owner.id, label=label, created_at=utcnow())
    session.add(row)
    session.flush()
    session.add_all(ApiKeyRole(api_key_id=row.id, role=r) for r in wanted)
    session.flush()
    return KeyInfo(row.id, key_id, owner.name, frozenset(wanted), label, row.created_at), key


def _info(session: Session, row: ApiKey) -> KeyInfo:
    tenant = session.get(Tenant, row.tenant_id)
    roles = session.execute(select(ApiKeyRole.role).where(ApiKeyRole.api_key_id == row.id)).scalars()
    return KeyInfo(
        row.id,
        row.key_id,
        tenant.name if tenant else "?",
        frozenset(roles),
        row.label,
        row.created_at,
        row.revoked_at,
    )


def verify_key(session: Session, key: str) -> KeyInfo | None:
    """The grants of a valid, unrevoked key; None for anything else (never says why)."""
    key_id = parse_key_id(key)
    if key_id is None:
        return None
    row = session.execute(select(ApiKey).where(ApiKey.key_id == key_id)).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, hash_key(key)):
        return None
    return _info(session, row)


def find_key(session: Session, ident: str) -> ApiKey:
    """A key by its key_id (or numeric row id)."""
    query = select(ApiKey).where(ApiKey.key_id == ident)
    if ident.isdigit():
        query = select(ApiKey).where((ApiKey.key_id == ident) | (ApiKey.id == int(ident)))
    row = session.execute(query).scalars().first()
    if row is None:
        raise KeyAdminError(f"no API key {ident!r}")
    return row


def revoke_key(session: Session, ident: str) -> KeyInfo:
    row = find_key(session, ident)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return _info(session, row)


def list_keys(session: Session, tenant: str | None = None) -> list[KeyInfo]:
    query = select(ApiKey).order_by(ApiKey.id)
    if tenant is not None:
        query = query.join(Tenant, Tenant.id == ApiKey.tenant_id).where(Tenant.name == tenant)
    return [_info(session, row) for row in session.execute(query).scalars()]


def share_list(session: Session, list_name: str, tenant: str) -> None:
    target = ensure_tenant(session, tenant)
    exists = session.get(ListShare, (list_name, target.id))
    if exists is None:
        session.add(ListShare(list_name=list_name, tenant_id=target.id, created_at=utcnow()))
        session.flush()


def unshare_list(session: Session, list_name: str, tenant: str) -> bool:
    target = session.execute(select(Tenant).where(Tenant.name == tenant)).scalar_one_or_none()
    if target is None:
        return False
    result = session.execute(
        delete(ListShare).where(ListShare.list_name == list_name, ListShare.tenant_id == target.id)
    )
    return bool(result.rowcount)


def shared_with(session: Session, list_name: str) -> list[str]:
    rows = session.execute(
        select(Tenant.name)
        .join(ListShare, ListShare.tenant_id == Tenant.id)
        .where(ListShare.list_name == list_name)
        .order_by(Tenant.name)
    ).scalars()
    return list(rows)


def shares_by_tenant(session: Session) -> dict[str, set[str]]:
    """tenant name -> names of the lists shared to it."""
    out: dict[str, set[str]] = {}
    rows = session.execute(
        select(Tenant.name, ListShare.list_name).join(ListShare, ListShare.tenant_id == Tenant.id)
    )
    for tenant, list_name in rows:
        out.setdefault(tenant, set()).add(list_name)
    return out
