"""Images the tests make for themselves (no test data needed), and a check of the bomb builder.

Other test modules import the builders from here: `from test_media_samples import ...`.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def pattern(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """A smooth, structured RGB test picture (high PDQ quality, no test data needed)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.zeros((height, width, 3))
    for c in range(3):
        fx, fy, phase = rng.uniform(1.0, 6.0), rng.uniform(1.0, 6.0), rng.uniform(0, 6.28)
        img[..., c] = 127 + 60 * np.sin(2 * np.pi * fx * x / width + phase) * np.cos(
            2 * np.pi * fy * y / height
        )
    for _ in range(6):  # a few bright and dark discs
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(10, height / 4)
        disc = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        img[disc] = rng.uniform(0, 255, size=3)
    return np.clip(img, 0, 255).astype(np.uint8)


def encode(pixels: np.ndarray, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt, **params)
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int, block_rows: int = 64) -> bytes:
    """A valid 8-bit grey PNG of zeros, built without ever holding its pixels in memory.

    Deflate segments ended by a full flush do not refer back across the flush, so one compressed
    block of `block_rows` zero rows is repeated as often as needed; only the Adler-32 trailer
    has to see every (zero) byte, one block at a time.
    """
    row = bytes(width + 1)  # filter byte 0 + one zero byte per pixel
    block = row * block_rows
    full_blocks, tail_rows = divmod(height, block_rows)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    ending = tail.compress(row * tail_rows) + tail.flush(zlib.Z_FINISH)
    adler = 1
    for _ in range(full_blocks):
        adler = zlib.adler32(block, adler)
    adler = zlib.adler32(row * tail_rows, adler)
    stream = b"\x78\xda" + piece * full_blocks + ending + struct.pack(">I", adler)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")
    )


def test_png_bomb_builder_makes_a_valid_png() -> None:
    data = png_bomb(300, 203, block_rows=7)
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        assert im.size == (300, 203) and im.mode == "L"
        assert not np.asarray(im).any()


def test_png_bomb_is_small() -> None:
    assert len(png_bomb(30000, 30000, block_rows=35)) < 2_000_000
