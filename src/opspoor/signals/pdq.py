"""PDQ, Meta's 256-bit perceptual photo hash, bit-identical with the C++ reference.

The reference (`pdq/cpp`, pdq-photo-hasher) decodes the file, and where a side exceeds 512 px resizes
the image to exactly 512x512 by nearest neighbour (CImg's `resize`, which samples source index
floor(i * old / 512), ignoring aspect ratio), converts to luma 0.299R + 0.587G + 0.114B and hashes.
We decode with Pillow (libjpeg-turbo, same IDCT), repeat that resize, and call the reference C++
hashing code through the `pdqhash` bindings. Hex is 64 lowercase digits, most significant first.
"""

from __future__ import annotations

import re

import numpy as np
import pdqhash

from opspoor.media.image import DecodedImage
from opspoor.signals.base import ImageHasher, InvalidSignalValue, SignalValue

# Meta's pdq README: distance <= 31 of 256 bits is a match; quality < 50 hashes are too flat to trust.
PDQ_MATCH_THRESHOLD = 31
PDQ_MIN_QUALITY = 50
REFERENCE_SIDE = 512  # pdqio.cpp DOWNSAMPLE_DIMS

# Order of the reference's dihedral outputs (pdqDihedralHash256esFromFloatLuma).
DIHEDRAL_NAMES = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flip_plus1",
    "flip_minus1",
)

_HEX64 = re.compile(r"[0-9a-f]{64}")


def reference_resize(pixels: np.ndarray) -> np.ndarray:
    """Resize like the reference: to 512x512 by floor-index nearest neighbour when a side exceeds 512."""
    height, width = pixels.shape[:2]
    if height <= REFERENCE_SIDE and width <= REFERENCE_SIDE:
        return pixels
    rows = np.arange(REFERENCE_SIDE) * height // REFERENCE_SIDE
    cols = np.arange(REFERENCE_SIDE) * width // REFERENCE_SIDE
    resized: np.ndarray = pixels[rows[:, None], cols[None, :]]
    return resized


def _as_rgb(pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    return np.ascontiguousarray(pixels, dtype=np.uint8)


def bits_to_hex(bits: np.ndarray) -> str:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def hex_to_bytes(value: str) -> bytes:
    return bytes.fromhex(value)


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def hash_pixels(pixels: np.ndarray) -> tuple[str, int]:
    """PDQ hex and quality of pixels that are already at hashing size (see reference_resize)."""
    bits, quality = pdqhash.compute(_as_rgb(pixels))
    return bits_to_hex(bits), int(quality)


def dihedral_pixels(pixels: np.ndarray) -> tuple[list[str], int]:
    """The 8 dihedral hashes (in DIHEDRAL_NAMES order) from one decode, and the quality."""
    hashes, quality = pdqhash.compute_dihedral(_as_rgb(pixels))
    return [bits_to_hex(h) for h in hashes], int(quality)


class PDQ(ImageHasher):
    name = "pdq"
    content_types = frozenset({"photo"})
    exact = False
    default_threshold = PDQ_MATCH_THRESHOLD

    def parse(self, text: str) -> str:
        value = text.strip().lower()
        if not _HEX64.fullmatch(value):
            raise InvalidSignalValue(f"pdq must be 64 hex digits, got {text.strip()[:80]!r}")
        return value

    def distance(self, a: str, b: str) -> int:
        return hamming(a, b)

    def from_image(self, image: DecodedImage) -> SignalValue:
        value, quality = hash_pixels(reference_resize(image.pixels))
        return SignalValue(self.name, value, quality)
