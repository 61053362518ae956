"""Enrolled cameras: rows in the database, fingerprint arrays in files under the data directory.

File format (versioned): `<data dir>/camera/<uuid>.npz` holding `format` ("opspoor-prnu-1"), `k`
(float16 H x W fingerprint; half precision keeps 3 significant digits, far below the estimation
noise of K, and halves disk and memory), and the digest (`digest_index` int64, `digest_value`
float32). The row keeps the path relative to the data directory and the file's SHA-256.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from opspoor.camera.digest import Digest, make_digest
from opspoor.camera.errors import CameraError, UnknownCamera
from opspoor.camera.media import CameraInfo
from opspoor.camera.residual import ResidualParams
from opspoor.store.camera import STATE_ACTIVE, STATE_DISABLED, CameraDevice
from opspoor.store.db import data_dir

FILE_FORMAT = "opspoor-prnu-1"


@dataclass(frozen=True)
class Enrolment:
    """What an enrolment supplies besides the fingerprint itself."""

    name: str
    source: str
    media_count: int
    info: CameraInfo
    case_ref: str | None = None
    item_ref: str | None = None


@dataclass(frozen=True)
class LoadedCamera:
    name: str
    k: np.ndarray  # float32
    digest: Digest
    row_id: int


def fingerprint_root() -> Path:
    root = data_dir() / "camera"
    root.mkdir(parents=True, exist_ok=True)
    return root


def save(session: Session, enrolment: Enrolment, k: np.ndarray, params: ResidualParams) -> CameraDevice:
    """Write the fingerprint file and its row (the caller's transaction commits both)."""
    if not enrolment.name.strip():
        raise CameraError("a camera needs a non-empty name")
    existing = session.scalar(select(CameraDevice).where(CameraDevice.name == enrolment.name))
    if existing is not None:
        raise CameraError(f"a camera named {enrolment.name!r} is already enrolled")
    digest = make_digest(k)
    buf = io.BytesIO()
    np.savez(
        buf,
        format=np.array(FILE_FORMAT),
        k=k.astype(np.float16),
        digest_index=digest.index,
        digest_value=digest.value,
    )
    data = buf.getvalue()
    rel = f"camera/{uuid.uuid4().hex}.npz"
    path = data_dir() / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    row = CameraDevice(
        name=enrolment.name,
        make=enrolment.info.make,
        model=enrolment.info.model,
        serial=enrolment.info.serial,
        case_ref=enrolment.case_ref,
        item_ref=enrolment.item_ref,
        source=enrolment.source,
        media_count=enrolment.media_count,
        height=int(k.shape[0]),
        width=int(k.shape[1]),
        fingerprint_path=rel,
        fingerprint_sha256=hashlib.sha256(data).hexdigest(),
        params=json.dumps(asdict(params), sort_keys=True),
        state=STATE_ACTIVE,
    )
    session.add(row)
    session.flush()
    return row


def load(row: CameraDevice) -> LoadedCamera:
    """Read and verify a camera's fingerprint file."""
    path = data_dir() / row.fingerprint_path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CameraError(f"fingerprint file of camera {row.name!r} is missing: {path}") from exc
    if hashlib.sha256(data).hexdigest() != row.fingerprint_sha256:
        raise CameraError(f"fingerprint file of camera {row.name!r} changed since enrolment: {path}")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        if str(npz["format"]) != FILE_FORMAT:
            raise CameraError(f"unknown fingerprint file format {str(npz['format'])!r}")
        k = npz["k"].astype(np.float32)
        digest = Digest((int(k.shape[0]), int(k.shape[1])), npz["digest_index"], npz["digest_value"])
    return LoadedCamera(row.name, k, digest, row.id)


def active(session: Session) -> list[CameraDevice]:
    return list(
        session.scalars(
            select(CameraDevice).where(CameraDevice.state == STATE_ACTIVE).order_by(CameraDevice.name)
        )
    )


def get(session: Session, name: str) -> CameraDevice:
    row = session.scalar(select(CameraDevice).where(CameraDevice.name == name))
    if row is None:
        raise UnknownCamera(f"no camera named {name!r} is enrolled")
    return row


def disable(session: Session, name: str, reason: str) -> CameraDevice:
    """Take a camera out of matching without deleting it (its row and file stay as history)."""
    row = get(session, name)
    row.state = STATE_DISABLED
    row.reason = reason
    row.changed_at = datetime.now(UTC)
    return row


def describe(row: CameraDevice) -> dict[str, object]:
    return {
        "name": row.name,
        "make": row.make,
        "model": row.model,
        "serial": row.serial,
        "case": row.case_ref,
        "item": row.item_ref,
        "source": row.source,
        "media_count": row.media_count,
        "width": row.width,
        "height": row.height,
        "state": row.state,
        "reason": row.reason,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }
