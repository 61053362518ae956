"""Review media encrypted at rest, deleted after the decision plus a retention period.

Fernet (AES-128-CBC with HMAC-SHA256, from the `cryptography` package) authenticates as well as
encrypts, so a tampered row fails to open instead of showing altered media. The key comes from
settings (OPSPOOR_HOTLINE_MEDIA_KEY); without one, a key file is created in the data directory with
owner-only permissions. Keep the key outside the database: a copy of the database alone shows nothing.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from opspoor.hotline.errors import InvalidInput, MediaGone
from opspoor.store.db import data_dir
from opspoor.store.hotline import ReviewMedia

KEY_FILE = "hotline-media.key"


def load_key(configured: str | None) -> bytes:
    if configured:
        key = configured.encode()
    else:
        path = data_dir() / KEY_FILE
        if not path.exists():
            _create_key_file(path)
        key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError:
        raise InvalidInput(
            "the hotline media key must be 32 url-safe base64-encoded bytes (Fernet)"
        ) from None
    return key


def _create_key_file(path: Path) -> None:
    """Write a new key atomically: server workers starting together must end up with one key."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(Fernet.generate_key())
    try:
        os.link(tmp, path)  # fails if another process made the key first: then that key is used
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


class Vault:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def put(
        self, session: Session, item_id: int, data: bytes, content_type: str | None, now: datetime
    ) -> None:
        session.add(
            ReviewMedia(
                item_id=item_id,
                ciphertext=self._fernet.encrypt(data),
                content_type=content_type,
                size=len(data),
                stored_at=now,
            )
        )

    def get(self, session: Session, item_id: int) -> tuple[bytes, str | None]:
        row = session.get(ReviewMedia, item_id)
        if row is None or row.ciphertext is None:
            raise MediaGone(f"item {item_id}: no review copy (never kept, or deleted after retention)")
        try:
            return self._fernet.decrypt(row.ciphertext), row.content_type
        except InvalidToken:
            raise MediaGone(f"item {item_id}: the stored media does not open with this key") from None

    @staticmethod
    def schedule_deletion(session: Session, item_id: int, at: datetime) -> None:
        row = session.get(ReviewMedia, item_id)
        if row is not None and row.deleted_at is None:
            row.delete_after = at

    @staticmethod
    def purge_due(session: Session, now: datetime) -> list[int]:
        """Delete every review copy whose retention ended; returns the item ids."""
        rows = session.scalars(
            select(ReviewMedia).where(
                ReviewMedia.deleted_at.is_(None),
                ReviewMedia.delete_after.is_not(None),
                ReviewMedia.delete_after <= now,
            )
        ).all()
        for row in rows:
            row.ciphertext, row.deleted_at = None, now
        session.flush()
        return [row.item_id for row in rows]

    @staticmethod
    def has_media(session: Session, item_id: int) -> bool:
        row = session.get(ReviewMedia, item_id)
        return row is not None and row.ciphertext is not None
