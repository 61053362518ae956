"""Tables of camera forensics: enrolled cameras and where their fingerprint arrays live.

A fingerprint is a float array the size of the sensor (10 MP -> 20 MB as float16), too big for a
row. It is written as a NumPy `.npz` file under `<data dir>/camera/` and the row keeps its relative
path and SHA-256, so a changed or missing file is detected before it is used. Rows are never
deleted by opspoor: a camera can be disabled with a reason and stays in the history.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from opspoor.store.db import Base

# Stored values of CameraDevice.source (explicit constants, never derived from class names).
SOURCE_FLAT = "flat-field"
SOURCE_NATURAL = "natural"
SOURCE_VIDEO = "video"
STATE_ACTIVE = "active"
STATE_DISABLED = "disabled"


def _now() -> datetime:
    return datetime.now(UTC)


class CameraDevice(Base):
    """One physical camera (or phone) with its sensor fingerprint."""

    __tablename__ = "camera_device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    make: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(200))
    serial: Mapped[str | None] = mapped_column(String(200))
    case_ref: Mapped[str | None] = mapped_column(String(200))
    item_ref: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))
    media_count: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    fingerprint_path: Mapped[str] = mapped_column(String(500))
    fingerprint_sha256: Mapped[str] = mapped_column(String(64))
    params: Mapped[str] = mapped_column(Text)  # JSON of the residual parameters used
    state: Mapped[str] = mapped_column(String(20), default=STATE_ACTIVE)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
