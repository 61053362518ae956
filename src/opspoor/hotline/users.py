"""Hotline staff accounts and their browser sessions.

Roles: `analyst` (review queue, media, classify), `senior` (also decides escalated items),
`admin` (accounts, partners, contacts, audit log), `viewer` (dashboards, notices, lists only).
Passwords are stored as scrypt hashes with the OWASP Password Storage Cheat Sheet parameters
(N=2^14, r=8, p=5: one of its equivalent minimum settings). A session cookie carries a random
token; the store keeps only its SHA-256, and each session has its own CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from opspoor.hotline.errors import InvalidInput, ItemNotFound
from opspoor.store.hotline import HotlineUser, WebSession

ROLES = ("analyst", "senior", "admin", "viewer")
REVIEW_ROLES = frozenset({"analyst", "senior", "admin"})
_SCRYPT = {"n": 2**14, "r": 8, "p": 5}
_DUMMY_HASH: str | None = None


@dataclass(frozen=True)
class User:
    id: int
    username: str
    roles: frozenset[str]
    blur: int

    @property
    def can_review(self) -> bool:
        return bool(self.roles & REVIEW_ROLES)

    @property
    def is_senior(self) -> bool:
        return bool(self.roles & {"senior", "admin"})

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


def _user(row: HotlineUser) -> User:
    return User(row.id, row.username, frozenset(row.roles), row.blur)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 * 1024 * 1024, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), maxmem=64 * 1024 * 1024
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def _check_roles(roles: list[str]) -> list[str]:
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise InvalidInput(f"roles must be some of {', '.join(ROLES)}; got {', '.join(roles) or 'none'}")
    return sorted(set(roles))


def add_user(session: Session, username: str, password: str, roles: list[str], now: datetime) -> User:
    username = username.strip()
    if not username or len(username) > 64 or not username.replace("-", "").replace(".", "").isalnum():
        raise InvalidInput("a username is 1-64 letters, digits, '.' or '-'")
    if len(password) < 12:
        raise InvalidInput("a password has at least 12 characters")
    if session.scalar(select(HotlineUser.id).where(HotlineUser.username == username)) is not None:
        raise InvalidInput(f"user {username!r} exists already")
    row = HotlineUser(
        username=username,
        password_hash=hash_password(password),
        roles=_check_roles(roles),
        blur=24,
        active=True,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _user(row)


def list_users(session: Session) -> list[tuple[User, bool]]:
    rows = session.scalars(select(HotlineUser).order_by(HotlineUser.username))
    return [(_user(r), r.active) for r in rows]


def set_roles(session: Session, username: str, roles: list[str]) -> User:
    row = _get(session, username)
    row.roles = _check_roles(roles)
    return _user(row)


def deactivate(session: Session, username: str) -> None:
    row = _get(session, username)
    row.active = False
    session.execute(delete(WebSession).where(WebSession.user_id == row.id))


def set_blur(session: Session, user_id: int, blur: int) -> None:
    row = session.get(HotlineUser, user_id)
    if row is None:
        raise ItemNotFound(f"no user {user_id}")
    row.blur = max(0, min(64, blur))


def _get(session: Session, username: str) -> HotlineUser:
    row = session.scalar(select(HotlineUser).where(HotlineUser.username == username))
    if row is None:
        raise ItemNotFound(f"no user named {username!r}")
    return row


def authenticate(session: Session, username: str, password: str) -> User | None:
    global _DUMMY_HASH
    row = session.scalar(select(HotlineUser).where(HotlineUser.username == username.strip()))
    if row is None or not row.active:
        # Spend the same time as for a real account, so timing does not tell which names exist.
        _DUMMY_HASH = _DUMMY_HASH or hash_password(secrets.token_hex(8))
        check_password(password, _DUMMY_HASH)
        return None
    return _user(row) if check_password(password, row.password_hash) else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, now: datetime, hours: float) -> tuple[str, str]:
    """A new session for `user`: (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            csrf=csrf,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    return token, csrf


def session_user(session: Session, token: str, now: datetime) -> tuple[User, str] | None:
    """The signed-in user and the session's CSRF token, or None for an unknown or expired token."""
    found = session.execute(
        select(HotlineUser, WebSession)
        .join(WebSession, WebSession.user_id == HotlineUser.id)
        .where(WebSession.token_hash == _token_hash(token))
    ).first()
    if found is None:
        return None
    row, web = found
    if web.expires_at < now or not row.active:
        return None
    return _user(row), web.csrf


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))
