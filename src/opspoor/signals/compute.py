"""Turn one file's bytes into every signal that applies to it.

Default mode is bit-identical with Meta's reference. Fast mode decodes JPEGs at a reduced DCT scale
(down to the smallest scale that keeps both sides >= 512 px, the size the reference resizes to anyway)
and only their luma plane, then hashes with the NumPy restatement of the reference (pdq_fast). It
stays within Meta's 10-bit tolerance for quality >= 80; it is used only when asked for (`--fast`),
because a list made with the reference must match bit for bit where it can.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opspoor.media.image import DecodedImage, decode_image
from opspoor.media.limits import MediaLimits
from opspoor.media.sniff import sniff_kind
from opspoor.signals.crypto import MD5, SHA1, SHA256
from opspoor.signals.pdq import REFERENCE_SIDE, dihedral_pixels, hash_pixels, reference_resize
from opspoor.signals.pdq_fast import hash_pixels_fast

_CRYPTO = (MD5(), SHA1(), SHA256())


@dataclass
class FileSignals:
    """Everything computed for one file. Cryptographic hashes are set even where decoding fails."""

    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    pdq_dihedral: list[str] | None = None
    kind: str = "unknown"  # image, video or unknown, from the content
    width: int | None = None
    height: int | None = None
    format: str | None = None
    orientation: int | None = None
    decode_scale: int | None = None  # 1 for a full decode; 2, 4 or 8 where fast mode reduced it
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # further signal types, by name


def compute_signals(
    data: bytes,
    *,
    fast: bool = False,
    dihedral: bool = False,
    limits: MediaLimits | None = None,
    robust_reference: bool = False,
    robust_query: bool = False,
    video_segments: bool = False,
) -> FileSignals:
    """Hash `data` in memory. Decoding problems are reported in `.error`, never raised.

    `video_segments` also hashes every frame of a video (capped), so that a match can say which
    segments two videos share; it costs far more than the 1 fps vPDQ and only checking needs it.

    `robust_reference` adds opspoor's robust signals of a picture going into a list (view hashes and
    ORB features, in `.extra`); `robust_query` adds the robust form of a picture being checked
    (`.extra["robust_query"]`, held in memory only). See opspoor.robust."""
    from opspoor.media.errors import MediaError

    limits = limits or MediaLimits.from_env()
    out = FileSignals()
    out.md5, out.sha1, out.sha256 = (s.from_bytes(data).value for s in _CRYPTO)
    out.kind = sniff_kind(data[:32])
    if out.kind == "video":
        # Video (signals/vpdq.py): vpdq, vpdq_trim and the video's facts -> .extra.
        from opspoor.signals.vpdq import fill_file_signals

        fill_file_signals(out, data, max_bytes=limits.max_bytes, dense=video_segments)
        return out
    try:
        if fast:
            image = decode_image(data, limits=limits, min_side=REFERENCE_SIDE, grey=True)
        else:
            image = decode_image(data, limits=limits)
    except MediaError as exc:
        out.error = str(exc)
        return out
    out.kind = "image"
    out.width, out.height = image.width, image.height
    out.format, out.orientation = image.format, image.orientation
    out.decode_scale = image.scale
    pixels = reference_resize(image.pixels)
    if dihedral:
        out.pdq_dihedral, out.pdq_quality = dihedral_pixels(pixels)
        out.pdq = out.pdq_dihedral[0]
    elif fast:
        out.pdq, out.pdq_quality = hash_pixels_fast(pixels)
    else:
        out.pdq, out.pdq_quality = hash_pixels(pixels)
    if robust_reference or robust_query:
        _add_robust(out, image, robust_reference, robust_query)
    return out


def check_signals(data: bytes, *, robust: bool = False, video_segments: bool = True) -> FileSignals:
    """The signals every check of a file needs, whoever checks it (CLI, service, scanner, hotline):
    the 8 dihedral PDQ variants, so rotated and mirrored copies match (they cost no more than one
    PDQ), opspoor's robust query form where the lists have robust signals, and a video's every-frame
    hashes for matched segments unless the caller cannot afford them (the scanner)."""
    return compute_signals(
        data, dihedral=True, robust_query=robust, video_segments=video_segments
    )


def _add_robust(out: FileSignals, image: DecodedImage, reference: bool, query: bool) -> None:
    from dataclasses import replace

    from opspoor.robust import entries
    from opspoor.robust.signals import robust_query_signals

    if reference:
        entries.add_robust_extras(out, image)
    if query:
        data = robust_query_signals(image)
        # Extract both feature sets now so that the pixels need not travel to the matching process.
        data.features(False)
        data.features(True)
        out.extra["robust_query"] = replace(data, trimmed=None)
