"""Decode still images from untrusted bytes into RGB pixel arrays.

The format is read from the content, never the file name. The declared pixel count is checked
before any pixel is decoded, so a decompression bomb costs a header read. EXIF orientation is
reported, not applied: the reference PDQ hashes the stored pixels, and matching handles rotation
through the dihedral variants.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from opspoor.media.errors import CorruptMedia, DecompressionBomb, MediaTooLarge, UnsupportedMedia
from opspoor.media.limits import MediaLimits

# We enforce our own (configurable) pixel limit before decoding; Pillow's global one would raise
# its own error type at a size we did not choose.
Image.MAX_IMAGE_PIXELS = None
ImageFile.LOAD_TRUNCATED_IMAGES = False

_heif_registered = False


def _register_heif() -> None:
    """HEIC support comes from pillow-heif, a maintained wheel; without it HEIC is 'unsupported'."""
    global _heif_registered
    if _heif_registered:
        return
    _heif_registered = True
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - the wheel is a declared dependency
        return
    register_heif_opener()


@dataclass(frozen=True)
class DecodedImage:
    """Pixels as decoded, with what the file declared about itself."""

    pixels: np.ndarray  # H x W x 3, uint8, RGB; or H x W uint8 for greyscale sources
    format: str  # Pillow's format name: JPEG, PNG, WEBP, GIF, BMP, TIFF, HEIF, ...
    mode: str  # the file's own colour mode before conversion (RGBA, CMYK, P, ...)
    width: int  # full size as stored in the file
    height: int
    orientation: int  # EXIF orientation tag 1..8; 1 when absent
    scale: int  # 1 for a full decode; 2, 4 or 8 where JPEG DCT scaling reduced the decode

    @property
    def is_grey(self) -> bool:
        return self.pixels.ndim == 2

    def rgb(self) -> np.ndarray:
        """H x W x 3 view, replicating grey to three channels where needed."""
        if self.pixels.ndim == 2:
            return np.repeat(self.pixels[:, :, None], 3, axis=2)
        return self.pixels


def read_limited(path: Path, limits: MediaLimits | None = None) -> bytes:
    """Read a whole file into memory, refusing files over the byte limit before reading them."""
    limits = limits or MediaLimits.from_env()
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise MediaTooLarge(f"file is {size} bytes, over the limit of {limits.max_bytes} bytes")
    with path.open("rb") as fh:
        data = fh.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise MediaTooLarge(f"file grew past the limit of {limits.max_bytes} bytes while read")
    return data


def decode_image(
    data: bytes, *, limits: MediaLimits | None = None, min_side: int | None = None
) -> DecodedImage:
    """Decode `data` into pixels.

    `min_side`, where given, lets JPEG decoding use DCT scaling (1/2, 1/4, 1/8) down to the
    smallest scale that still keeps both sides at least `min_side` pixels: an 8x cheaper decode
    for big photos that are going to be resized anyway.
    """
    limits = limits or MediaLimits()
    if not data:
        raise UnsupportedMedia("empty file (0 bytes)")
    if len(data) > limits.max_bytes:
        raise MediaTooLarge(f"{len(data)} bytes, over the limit of {limits.max_bytes} bytes")
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise UnsupportedMedia("not an image in a supported format") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise CorruptMedia(f"unreadable image header: {exc}") from exc
    try:
        return _decode_opened(im, limits, min_side)
    finally:
        im.close()


def _decode_opened(im: Image.Image, limits: MediaLimits, min_side: int | None) -> DecodedImage:
    width, height = im.size
    if width <= 0 or height <= 0:
        raise CorruptMedia(f"image declares an empty size {width}x{height}")
    if width * height > limits.max_pixels:
        raise DecompressionBomb(
            f"image declares {width}x{height} = {width * height} pixels, "
            f"over the limit of {limits.max_pixels}"
        )
    fmt = im.format or "unknown"
    mode = im.mode
    orientation = _orientation(im)
    scale = 1
    if min_side is not None and fmt == "JPEG" and mode in ("RGB", "L", "YCbCr"):
        target = _draft_target(width, height, min_side)
        if target is not None:
            im.draft(mode, target)
            scale = max(1, width // im.size[0])
    try:
        if getattr(im, "n_frames", 1) > 1:
            im.seek(0)  # animated GIF/WebP: the first frame, as a browser shows it first
        im.load()
        pixels = _to_array(im)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptMedia(f"image data is truncated or damaged: {exc}") from exc
    return DecodedImage(pixels, fmt, mode, width, height, orientation, scale)


def _draft_target(width: int, height: int, min_side: int) -> tuple[int, int] | None:
    """The size to ask Pillow's draft for, or None where no reduction keeps both sides >= min_side."""
    if min(width, height) < 2 * min_side:
        return None
    # draft() picks the largest reduction whose result is still at least this size on both sides.
    return (max(min_side, 1), max(min_side, 1))


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a damaged EXIF block must not stop decoding the pixels
        return 1
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else 1


def _to_array(im: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to RGB (or keep 8-bit grey), as the reference treats it.

    The reference (CImg) hashes grey images by their grey value and colour images by luma of their
    first three channels, so alpha is dropped rather than composited.
    """
    mode = im.mode
    if mode == "L":
        return np.asarray(im, dtype=np.uint8)
    if mode in ("1", "I", "I;16", "I;16B", "I;16L", "F"):
        if mode.startswith("I;16"):
            arr16 = np.asarray(im, dtype=np.uint16)
            return (arr16 >> 8).astype(np.uint8)
        if mode in ("I", "F"):
            arr = np.asarray(im, dtype=np.float64)
            return np.clip(arr, 0, 255).astype(np.uint8)
        return np.asarray(im.convert("L"), dtype=np.uint8)
    if mode == "LA":
        return np.asarray(im.getchannel("L"), dtype=np.uint8)
    if mode == "LAB":
        from PIL import ImageCms

        lab = ImageCms.createProfile("LAB")
        srgb = ImageCms.createProfile("sRGB")
        im = ImageCms.profileToProfile(im, lab, srgb, outputMode="RGB")
        return np.asarray(im, dtype=np.uint8)
    if mode != "RGB":
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.uint8)
