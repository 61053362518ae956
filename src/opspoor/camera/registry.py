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
import zipfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


@dataclass
class LoadedCamera:
    """A camera ready for matching. Its digest is read at once; the full fingerprint K (20 MB for
    10 MP) only when a search needs it, verified against the SHA-256 recorded at enrolment."""

    name: str
    preloaded: np.ndarray | None  # float32 K, or None to read it from `path` on first use
    digest: Digest
    row_id: int
    path: Path | None = None
    sha256: str | None = None

    @property
    def k(self) -> np.ndarray:
        if self.preloaded is None:
            if self.path is None or self.sha256 is None:
                raise CameraError(f"camera {self.name!r} has no fingerprint to load")
            self.preloaded = _read_k(self.name, self.path, self.sha256)
        return self.preloaded


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
    """A camera's digest now and its fingerprint on demand (see LoadedCamera)."""
    path = data_dir() / row.fingerprint_path
    try:
        with path.open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
            _check_format(npz)
            digest = Digest((row.height, row.width), npz["digest_index"], npz["digest_value"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise CameraError(f"fingerprint file of camera {row.name!r} is unreadable: {path}") from exc
    return LoadedCamera(row.name, None, digest, row.id, path, row.fingerprint_sha256)


def _check_format(npz: Any) -> None:
    if str(npz["format"]) != FILE_FORMAT:
        raise CameraError(f"unknown fingerprint file format {str(npz['format'])!r}")


def _read_k(name: str, path: Path, sha256: str) -> np.ndarray:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CameraError(f"fingerprint file of camera {name!r} is missing: {path}") from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise CameraError(f"fingerprint file of camera {name!r} changed since enrolment: {path}")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        _check_format(npz)
        return np.asarray(npz["k"], dtype=np.float32)


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
