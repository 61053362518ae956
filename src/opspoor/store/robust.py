"""Stored ORB features of list items, for the verification stage of robust matching.

ORB keypoints of one picture are about 6 KB of text: too long for a list entry's value (and for a
unique B-tree index on PostgreSQL). They are kept here once per media item, keyed by the item's
SHA-256 (the list entries' item_key), like video frames; the item's `opspoor_pdq_views` entry in a
list is what makes it take part in robust matching. No pixels are stored.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from opspoor.store.db import Base


class RobustFeatures(Base):
    __tablename__ = "robust_features"

    item_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    orb: Mapped[str] = mapped_column(Text, nullable=False)


def save_features(session: Session, item_key: str, orb: str) -> None:
    """Keep the ORB text of one item (a second list adding the same item reuses it)."""
    if session.get(RobustFeatures, item_key) is None:
        session.add(RobustFeatures(item_key=item_key, orb=orb))
        session.flush()


def load_features(session: Session, item_keys: Iterable[str]) -> dict[str, str]:
    keys = sorted(set(item_keys))
    found: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        stmt = select(RobustFeatures.item_key, RobustFeatures.orb).where(RobustFeatures.item_key.in_(chunk))
        found.update({k: v for k, v in session.execute(stmt)})
    return found
