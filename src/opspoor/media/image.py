"""Decode still images from untrusted bytes into pixel arrays.

The format is read from the content, never the file name, and only from an allow-list of formats
(Pillow also knows EPS, which shells out to Ghostscript, and dozens of legacy formats we have no
reason to expose to hostile input). The declared pixel count is checked before any pixel is decoded,
so a decompression bomb costs a header read. EXIF orientation is reported, not applied: the reference
PDQ hashes the stored pixels, and matching handles rotation through the dihedral variants.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from opspoor.media.errors import (
    CorruptMedia,
    DecompressionBomb,
    MediaError,
    MediaTooLarge,
    UnreadableFile,
    UnsupportedMedia,
)
from opspoor.media.limits import MediaLimits

# We enforce our own (configurable) pixel limit before decoding; Pillow's global one would raise
# its own error type at a size we did not choose.
Image.MAX_IMAGE_PIXELS = None
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Pillow format ids we open. HEIF comes from pillow-heif (a maintained wheel bundling libheif), AVIF
# from Pillow where built with libavif. Pillow's JPEG opener also returns "MPO" images: camera JPEGs
# that carry extra preview pictures.
FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "DIB", "TIFF", "HEIF", "AVIF")
_JPEG_FORMATS = frozenset({"JPEG", "MPO"})

@lru_cache(maxsize=1)
def _formats() -> tuple[str, ...]:
    """FORMATS that this Pillow can open (registering pillow-heif on first use)."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - the wheel is a declared dependency
        pass
    else:
        register_heif_opener()
    Image.init()
    return tuple(f for f in FORMATS if f in Image.OPEN)


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
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise MediaTooLarge(f"file is {size} bytes, over the limit of {limits.max_bytes} bytes")
        with path.open("rb") as fh:
            data = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from exc
    if len(data) > limits.max_bytes:
        raise MediaTooLarge(f"file grew past the limit of {limits.max_bytes} bytes while read")
    return data


def decode_image(
    data: bytes,
    *,
    limits: MediaLimits | None = None,
    min_side: int | None = None,
    grey: bool = False,
) -> DecodedImage:
    """Decode `data` into pixels; raise a MediaError subclass (and only that) when it cannot be.

    `min_side`, where given, lets JPEG decoding use DCT scaling (1/2, 1/4, 1/8) down to the
    smallest scale that still keeps both sides at least `min_side` pixels: a much cheaper decode
    for big photos that are going to be resized anyway. `grey=True` lets a JPEG decode only its
    luma (Y) plane, skipping chroma upsampling and colour conversion; other formats still come
    back as RGB. Both are for fast mode only: they change pixels slightly.
    """
    limits = limits or MediaLimits.from_env()
    if not data:
        raise UnsupportedMedia("empty file (0 bytes)")
    if len(data) > limits.max_bytes:
        raise MediaTooLarge(f"{len(data)} bytes, over the limit of {limits.max_bytes} bytes")
    formats = _formats()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(data), formats=formats)
    except UnidentifiedImageError as exc:
        raise UnsupportedMedia(
            "not an image in a supported format (JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC, AVIF)"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - hostile headers trip many kinds of parser error
        raise CorruptMedia(f"unreadable image header: {_describe(exc)}") from exc
    try:
        return _decode_opened(im, limits, min_side, grey)
    finally:
        im.close()


def _decode_opened(
    im: Image.Image, limits: MediaLimits, min_side: int | None, grey: bool
) -> DecodedImage:
    width, height = im.size
    if width <= 0 or height <= 0:
        raise CorruptMedia(f"image declares an empty size {width}x{height}")
    if width * height > limits.max_pixels:
        raise DecompressionBomb(
            f"image declares {width}x{height} = {width * height} pixels, "
            f"over the limit of {limits.max_pixels} (OPSPOOR_MAX_PIXELS)"
        )
    fmt = im.format or "unknown"
    mode = im.mode
    orientation = _orientation(im)
    scale = 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt in _JPEG_FORMATS and (min_side is not None or grey):
                scale = _draft(im, min_side, grey)
            # Animated GIF/WebP/PNG open on their first frame, the one a viewer shows first.
            im.load()
            pixels = _to_array(im)
    except MediaError:
        raise
    except MemoryError as exc:
        raise MediaTooLarge(f"not enough memory to decode {width}x{height} pixels") from exc
    except Exception as exc:  # noqa: BLE001 - decoders of hostile data fail in many ways
        raise CorruptMedia(f"image data is truncated or damaged: {_describe(exc)}") from exc
    return DecodedImage(pixels, fmt, mode, width, height, orientation, scale)


def _draft(im: Image.Image, min_side: int | None, grey: bool) -> int:
    """Ask libjpeg for a reduced decode; return the DCT scale it will use (1, 2, 4 or 8)."""
    width, height = im.size
    target = _draft_target(width, height, min_side) if min_side is not None else None
    if target is None and not (grey and im.mode == "RGB"):
        return 1
    im.draft("L" if grey and im.mode == "RGB" else im.mode, target)
    # Pillow rounds the reduced size up, so the ratio is a little under the scale for odd sizes.
    return max(1, round(width / im.size[0]))


def _draft_target(width: int, height: int, min_side: int) -> tuple[int, int] | None:
    """The size to ask Pillow's draft for, or None where no reduction keeps both sides >= min_side."""
    if min(width, height) < 2 * min_side:
        return None
    # draft() picks the largest reduction whose result is still at least this size on both sides.
    return (max(min_side, 1), max(min_side, 1))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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
        converted = ImageCms.profileToProfile(im, lab, srgb, outputMode="RGB")
        if converted is None:  # only with inPlace=True, which we do not ask for
            raise CorruptMedia("LAB image could not be converted to RGB")
        return np.asarray(converted, dtype=np.uint8)
    if mode != "RGB":
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.uint8)
