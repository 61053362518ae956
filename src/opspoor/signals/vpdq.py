"""vPDQ, Meta's video hash: one PDQ hash per sampled frame, compatible with the C++ reference.

How the reference hashes (`vpdq/cpp/vpdq/cpp/hashing/filehasher.cpp`, `pdqbufferhasher.cpp`): each
sampled frame is converted to RGB24 at its native size (no resize, unlike the 512x512 step of the
PDQ photo hasher) and hashed with `pdqHash256FromFloatLuma` on the full frame. We decode with PyAV
(the same FFmpeg libraries) and hash the native-size frame with the reference C++ hashing code
through `pdqhash`. Frames smaller than 5 px on a side (the reference's MIN_HASHABLE_DIM, where it
stops with an error) get an all-zero hash of quality 0, which matching ignores.

Text format, one line per frame, as the reference's `vpdq-hash-video` writes it:
`frame_number,quality,pdq_hex,timestamp_seconds` with the timestamp to 3 decimals.

`vpdq_trim` is opspoor's own companion signal: the same per-frame PDQ, but of the frame with
letterbox/pillarbox bars cut off (see `opspoor.signals.bars`), so a copy with bars added or removed
still matches. It is not readable by Meta's tools; the `vpdq` signal stays reference-compatible.

A list entry's `value` for these signals is the SHA-256 of the canonical text (the "vPDQ digest");
the frames themselves live in the `video_frames` table (opspoor.store.video), because a video's
text is far longer than an entry value may be.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from opspoor.media.errors import CorruptMedia
from opspoor.media.video import VideoInfo, VideoLimits, VideoReader
from opspoor.signals.bars import trim_bars
from opspoor.signals.base import InvalidSignalValue, SignalType
from opspoor.signals.pdq import PDQ_MATCH_THRESHOLD, PDQ_MIN_QUALITY, hamming, hash_pixels

VPDQ = "vpdq"
VPDQ_TRIM = "vpdq_trim"
VPDQ_DENSE = "vpdq_dense"  # FileSignals.extra key of the dense query frames (not a list signal)
# The reference's default sampling: one frame per second (vpdq `computeHash(seconds_per_hash=1)`).
DEFAULT_SECONDS_PER_FRAME = 1.0
# Frames closer than this to the last kept frame are merged into it. The vpdq README's "Pruning
# Frames" section uses D_prune = 2 as its example; it drops only frames PDQ sees as the same.
MERGE_DISTANCE = 2
# Queries are also hashed at every frame (0 s) for opspoor's segment finding: two copies of a scene
# cut at different moments are sampled up to half a second apart at 1 fps, and a moving camera
# changes PDQ by more than 31 bits in that time -- in chair-19-sd-bar even one frame (1/30 s) apart
# is 20-70 bits. chair-19 is a cut of chair-20, yet they share only 16% of their 1-fps frames.
# The reference percentages use the 1-fps frames only; None turns the dense pass off.
DENSE_SECONDS_PER_FRAME = 0.0
# ...but at most about this many dense frames per video (one minute of 30 fps video at every frame):
# a longer video gets a proportionally coarser grid, so the check path costs at most about 20 s of
# CPU at 480x720 (PDQ at native size is about 10 ms a frame) plus the decoding.
DENSE_MAX_FRAMES = 1800
MIN_HASHABLE_SIDE = 5  # pdqbufferhasher.cpp MIN_HASHABLE_DIM
# Reference match rule defaults (python-threatexchange extensions/vpdq/vpdq_util.py):
# VPDQ_DISTANCE_THRESHOLD 31, VPDQ_QUALITY_THRESHOLD 50, VPDQ_QUERY_MATCH_THRESHOLD_PERCENT 80,
# VPDQ_INDEX_MATCH_THRESHOLD_PERCENT 0; and VideoVPDQSignal.VPDQ_CONFIDENT_MATCH_THRESHOLD 80.
FRAME_MATCH_DISTANCE = PDQ_MATCH_THRESHOLD
FRAME_MIN_QUALITY = PDQ_MIN_QUALITY
QUERY_MATCH_PERCENT = 80.0
TARGET_MATCH_PERCENT = 0.0
CONFIDENT_MATCH_PERCENT = 80.0

if TYPE_CHECKING:
    from opspoor.signals.compute import FileSignals

_LINE = re.compile(r"(\d+),(\d{1,3}),([0-9a-fA-F]{64}),(\d+(?:\.\d+)?)")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class VpdqFeature:
    """One sampled frame. `end` is the timestamp of the last frame merged into this one."""

    frame: int
    quality: int
    pdq: str
    timestamp: float
    end: float | None = None

    @property
    def last(self) -> float:
        return self.timestamp if self.end is None else self.end


@dataclass
class VideoHashes:
    """Everything hashed from one video in one decoding pass."""

    info: VideoInfo
    seconds_per_frame: float
    decoded_frames: int
    vpdq: list[VpdqFeature] = field(default_factory=list)
    vpdq_trim: list[VpdqFeature] = field(default_factory=list)
    dense: list[VpdqFeature] = field(default_factory=list)  # vpdq on the main and the dense grid
    bars_found: int = 0  # sampled frames where bars were cut off for vpdq_trim

    @property
    def duration(self) -> float:
        """Seconds, from the decoded frame count (the container's figure may be missing or wrong)."""
        return self.decoded_frames / self.info.fps


def hash_frame(pixels: np.ndarray) -> tuple[str, int]:
    """PDQ of one frame at native size, like the reference's PDQFrameBufferHasher."""
    if min(pixels.shape[:2]) < MIN_HASHABLE_SIDE:
        return "0" * 64, 0
    return hash_pixels(pixels)


def hash_video(
    data: bytes,
    *,
    seconds_per_frame: float = DEFAULT_SECONDS_PER_FRAME,
    dense_seconds_per_frame: float | None = None,
    trim: bool = True,
    limits: VideoLimits | None = None,
) -> VideoHashes:
    """Decode `data` in memory and hash its sampled frames (0 s = every frame). Nothing is kept
    but the hashes: each frame is dropped as soon as it is hashed. Raises MediaError subclasses."""
    reader = VideoReader(
        data,
        seconds_per_frame=seconds_per_frame,
        dense_seconds_per_frame=dense_seconds_per_frame,
        dense_max_frames=DENSE_MAX_FRAMES,
        limits=limits,
    )
    plain: list[VpdqFeature] = []
    trimmed: list[VpdqFeature] = []
    dense: list[VpdqFeature] = []
    bars = 0
    for frame in reader.frames():
        stamp = round(frame.timestamp, 3)
        value, quality = hash_frame(frame.pixels)
        dense.append(VpdqFeature(frame.number, quality, value, stamp))
        if not frame.on_grid:
            continue
        plain.append(dense[-1])
        if trim:
            content = trim_bars(frame.pixels)
            if content is frame.pixels:
                trimmed.append(plain[-1])
            else:
                bars += 1
                value, quality = hash_frame(content)
                trimmed.append(VpdqFeature(frame.number, quality, value, stamp))
    if reader.info is None:  # frames() sets it before the first frame and raises when there is none
        raise CorruptMedia("the video stream holds no decodable frame")
    hashes = VideoHashes(
        reader.info, seconds_per_frame, reader.decoded_frames, plain, trimmed, bars_found=bars
    )
    hashes.dense = dense if dense_seconds_per_frame is not None else []
    return hashes


def merge_consecutive(
    features: Sequence[VpdqFeature], max_distance: int = MERGE_DISTANCE
) -> list[VpdqFeature]:
    """Drop frames within `max_distance` of the last kept frame, extending its time span instead
    (the vpdq README's frame pruning). Keeps the first frame of each run and its timestamp."""
    kept: list[VpdqFeature] = []
    for feature in features:
        if kept and hamming(kept[-1].pdq, feature.pdq) <= max_distance:
            last = kept[-1]
            kept[-1] = VpdqFeature(
                last.frame, max(last.quality, feature.quality), last.pdq, last.timestamp, feature.last
            )
        else:
            kept.append(feature)
    return kept


def to_text(features: Iterable[VpdqFeature]) -> str:
    """The reference's text form: `frame,quality,pdq_hex,timestamp` per line, newline-terminated."""
    return "".join(f"{f.frame},{f.quality},{f.pdq},{f.timestamp:.3f}\n" for f in features)


def parse_text(text: str) -> list[VpdqFeature]:
    """Read the reference's text form; raises InvalidSignalValue naming the first bad line."""
    features: list[VpdqFeature] = []
    last_frame = -1
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _LINE.fullmatch(line)
        if not match:
            raise InvalidSignalValue(
                f"vpdq line {number} is not frame,quality,pdq_hex,timestamp: {line[:100]!r}"
            )
        frame, quality = int(match[1]), int(match[2])
        if quality > 100:
            raise InvalidSignalValue(f"vpdq line {number}: quality {quality} is over 100")
        if frame <= last_frame:
            raise InvalidSignalValue(f"vpdq line {number}: frame numbers must increase")
        last_frame = frame
        features.append(VpdqFeature(frame, quality, match[3].lower(), float(match[4])))
    if not features:
        raise InvalidSignalValue("vpdq text holds no frame")
    return features


def digest(features: Iterable[VpdqFeature]) -> str:
    """SHA-256 of the canonical text: the key under which a list stores a video's frames."""
    return hashlib.sha256(to_text(features).encode("ascii")).hexdigest()


@dataclass(frozen=True)
class MatchPercent:
    query: float  # share of the query's distinct usable frames found in the other video
    target: float  # share of the other video's distinct usable frames found in the query


def _usable(features: Sequence[VpdqFeature], min_quality: int) -> list[str]:
    """Distinct hashes of frames good enough to compare, first occurrence first (the reference
    dedupes exact hashes and drops frames under the quality floor before counting)."""
    seen: dict[str, None] = {}
    for f in features:
        if f.quality >= min_quality:
            seen.setdefault(f.pdq, None)
    return list(seen)


def hashes_to_array(values: Sequence[str]) -> np.ndarray:
    """(N, 32) uint8, most significant byte first, as PDQ hex is printed."""
    if not values:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(values)), dtype=np.uint8).reshape(-1, 32)


def distance_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All Hamming distances between rows of two (N, 32) uint8 arrays, as int32 (A x B)."""
    left = np.ascontiguousarray(a).view(np.uint64)
    right = np.ascontiguousarray(b).view(np.uint64)
    out = np.zeros((left.shape[0], right.shape[0]), dtype=np.int32)
    for word in range(4):
        out += np.bitwise_count(left[:, word][:, None] ^ right[:, word][None, :])
    return out


def match_percent(
    query: Sequence[VpdqFeature],
    target: Sequence[VpdqFeature],
    *,
    max_distance: int = FRAME_MATCH_DISTANCE,
    min_quality: int = FRAME_MIN_QUALITY,
) -> MatchPercent:
    """The reference's brute-force rule (vpdq README "Comparison"; python-threatexchange
    `match_VPDQ_hash_brute`): a frame matches if any usable frame of the other video is within
    `max_distance` (inclusive)."""
    q, t = _usable(query, min_quality), _usable(target, min_quality)
    if not q or not t:
        return MatchPercent(0.0, 0.0)
    close = distance_matrix(hashes_to_array(q), hashes_to_array(t)) <= max_distance
    return MatchPercent(100.0 * close.any(axis=1).sum() / len(q), 100.0 * close.any(axis=0).sum() / len(t))


class _VideoSignal(SignalType):
    """Values are the reference text (canonicalised) or, as stored in a list, its 64-hex digest."""

    content_types = frozenset({"video"})
    exact = False
    # distance = 100 - the larger match percentage; a match at >= 80% (VPDQ_CONFIDENT_MATCH_THRESHOLD).
    default_threshold = int(100 - CONFIDENT_MATCH_PERCENT)
    # Two frames of Meta's sample chair-20-sd-bar (vpdq/sample-hashes), for the contract tests.
    example = (
        "0,100,e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54,0.000\n"
        "30,100,4ce949b11f1035e2f2eb0a5e76f68716870e70f97bd91d1049a3dbe1d164b454,1.000\n"
    )

    def parse(self, text: str) -> str:
        stripped = text.strip().lower()
        if _HEX64.fullmatch(stripped):
            return stripped
        return to_text(parse_text(text))

    def distance(self, a: str, b: str) -> int:
        if _HEX64.fullmatch(a.strip()) or _HEX64.fullmatch(b.strip()):
            raise InvalidSignalValue(
                f"{self.name} digests cannot be compared; compare the frames (opspoor.matching.video)"
            )
        pct = match_percent(parse_text(a), parse_text(b))
        return int(round(100 - max(pct.query, pct.target)))


class VPDQSignal(_VideoSignal):
    name = VPDQ


class VPDQTrimSignal(_VideoSignal):
    name = VPDQ_TRIM


def video_signals(
    data: bytes,
    *,
    limits: VideoLimits | None = None,
    dense_seconds_per_frame: float | None = DENSE_SECONDS_PER_FRAME,
) -> dict[str, Any]:
    """What `compute_signals` puts into FileSignals.extra for a video: the vpdq and vpdq_trim texts
    (1 fps, as the reference outputs them; lists store them merged), the dense query frames
    (`vpdq_dense`; absent when `dense_seconds_per_frame` is None) and the video's facts under
    "video". Raises MediaError."""
    hashes = hash_video(data, dense_seconds_per_frame=dense_seconds_per_frame, limits=limits)
    info = hashes.info
    extra: dict[str, Any] = {
        VPDQ: to_text(hashes.vpdq),
        VPDQ_TRIM: to_text(hashes.vpdq_trim),
        "video": {
            "duration": round(hashes.duration, 3),
            "fps": round(info.fps, 3),
            "frame_count": hashes.decoded_frames,
            "sampled_frames": len(hashes.vpdq),
            "seconds_per_frame": hashes.seconds_per_frame,
            "width": info.width,
            "height": info.height,
            "rotation": info.rotation,
            "codec": info.codec,
            "container": info.container,
            "bars_found": hashes.bars_found,
        },
    }
    if dense_seconds_per_frame is not None:
        extra[VPDQ_DENSE] = to_text(hashes.dense)
    return extra


def fill_file_signals(
    out: FileSignals, data: bytes, *, max_bytes: int | None = None, dense: bool = False
) -> None:
    """The video part of `compute_signals`: set `out.extra` (see video_signals), the frame size and
    the container; a decoding problem goes into `out.error`, as for photos. `dense` adds the
    every-frame query pass (`vpdq_dense`) that matching uses to find shared segments."""
    from opspoor.media.errors import MediaError

    limits = VideoLimits.from_env()
    if max_bytes is not None:
        limits = VideoLimits(max_bytes, limits.max_frame_pixels, limits.max_seconds, limits.max_frames)
    try:
        extra = video_signals(
            data, limits=limits, dense_seconds_per_frame=DENSE_SECONDS_PER_FRAME if dense else None
        )
    except MediaError as exc:
        out.error = str(exc)
        return
    out.extra.update(extra)
    out.width, out.height = extra["video"]["width"], extra["video"]["height"]
    out.format = extra["video"]["container"]
