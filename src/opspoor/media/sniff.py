"""Tell images from videos by their first bytes, never by the file name."""

from __future__ import annotations

from typing import Literal

MediaKind = Literal["image", "video", "unknown"]

_IMAGE_MAGIC: tuple[bytes, ...] = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",  # TIFF little-endian
    b"MM\x00*",  # TIFF big-endian
)
_VIDEO_MAGIC: tuple[bytes, ...] = (
    b"\x1a\x45\xdf\xa3",  # Matroska / WebM
)
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif"}


def sniff_kind(head: bytes) -> MediaKind:
    """Classify by magic bytes: `head` should be at least the first 32 bytes of the file."""
    if head.startswith(_IMAGE_MAGIC):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video"
    if head.startswith(_VIDEO_MAGIC):
        return "video"
    if head[4:8] == b"ftyp":
        # ISO base media: HEIF/AVIF stills share the container with MP4/MOV video.
        return "image" if head[8:12] in _HEIF_BRANDS else "video"
    return "unknown"
