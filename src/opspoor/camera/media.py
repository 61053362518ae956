"""Read photos and videos for camera work: pixels as stored, plus what EXIF says about the camera.

Pixels are taken as stored in the file, never rotated by the EXIF orientation tag: the sensor
writes its rows in its own order, and that order is what the fingerprint records. A photo that
software really rotated is handled by the matcher's rotation search.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from opspoor.media.image import decode_image, read_limited
from opspoor.media.limits import MediaLimits
from opspoor.media.sniff import sniff_kind

# EXIF tags (EXIF 2.32 / TIFF 6.0): Make, Model in IFD0; BodySerialNumber in the Exif sub-IFD.
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_EXIF_IFD = 0x8769
TAG_BODY_SERIAL = 0xA431


@dataclass(frozen=True)
class CameraInfo:
    make: str | None = None
    model: str | None = None
    serial: str | None = None


@dataclass(frozen=True)
class Photo:
    pixels: np.ndarray  # HxWx3 or HxW uint8, as stored
    info: CameraInfo


def _clean(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()
    return text[:200] or None


def exif_camera(data: bytes) -> CameraInfo:
    """Make, model and body serial number from EXIF, where present (never raises)."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            exif = im.getexif()
            serial = exif.get_ifd(TAG_EXIF_IFD).get(TAG_BODY_SERIAL)
            return CameraInfo(_clean(exif.get(TAG_MAKE)), _clean(exif.get(TAG_MODEL)), _clean(serial))
    except Exception:  # noqa: BLE001 - damaged metadata must not stop the forensic work
        return CameraInfo()


def is_video(path: Path) -> bool:
    with path.open("rb") as fh:
        return sniff_kind(fh.read(32)) == "video"


def load_photo(path: Path, limits: MediaLimits | None = None) -> Photo:
    """Decode a still image file for residual extraction (typed MediaError on bad input)."""
    limits = limits or MediaLimits.from_env()
    data = read_limited(path, limits)
    decoded = decode_image(data, limits=limits)
    return Photo(decoded.pixels, exif_camera(data))
