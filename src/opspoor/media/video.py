"""Decode videos from untrusted bytes into sampled RGB frames, in memory only.

PyAV (FFmpeg) reads the container from an `io.BytesIO`: no temporary file is written, and frames
live only as long as the caller holds them. Sampling follows Meta's vPDQ reference
(`vpdq/cpp/vpdq/cpp/hashing/filehasher.cpp`): frames are numbered in decode order from 0, the frame
rate is the stream's average rate (falling back to its real base rate), every `int(seconds * fps)`-th
frame is kept, and a frame's timestamp is `number / fps`. Rotation metadata (the display matrix) is
reported, not applied, because the reference hashes the stored pixels.

Limits on bytes, frame size, duration and decoded frame count are checked before and during
decoding; a hostile file costs at most the configured work.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from opspoor.media.errors import CorruptMedia, MediaTooLarge, UnsupportedMedia
from opspoor.media.limits import DEFAULT_MAX_BYTES

# 8K UHD (7680x4320) is the largest frame consumer cameras record; anything larger is hostile.
DEFAULT_MAX_FRAME_PIXELS = 7680 * 4320
# Four hours covers full films and long screen recordings; longer uploads go to a human first.
DEFAULT_MAX_SECONDS = 4 * 3600.0
# Four hours at 60 fps; a stream declaring more frames than that is refused.
DEFAULT_MAX_FRAMES = 4 * 3600 * 60
# A file that decodes to fewer frames than its container promises, by more than this share, was cut
# short (a truncated download or a partly carved file); B-frame reordering can lose a few at the end.
_TRUNCATION_TOLERANCE = 0.02


class VideoTooLong(MediaTooLarge):
    """The video's duration or frame count is over the configured limit."""


@dataclass(frozen=True)
class VideoLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_frame_pixels: int = DEFAULT_MAX_FRAME_PIXELS
    max_seconds: float = DEFAULT_MAX_SECONDS
    max_frames: int = DEFAULT_MAX_FRAMES

    @classmethod
    def from_env(cls) -> VideoLimits:
        """Limits from OPSPOOR_MAX_BYTES / OPSPOOR_VIDEO_MAX_PIXELS / _MAX_SECONDS / _MAX_FRAMES."""
        env = os.environ
        return cls(
            max_bytes=int(env.get("OPSPOOR_MAX_BYTES", DEFAULT_MAX_BYTES)),
            max_frame_pixels=int(env.get("OPSPOOR_VIDEO_MAX_PIXELS", DEFAULT_MAX_FRAME_PIXELS)),
            max_seconds=float(env.get("OPSPOOR_VIDEO_MAX_SECONDS", DEFAULT_MAX_SECONDS)),
            max_frames=int(env.get("OPSPOOR_VIDEO_MAX_FRAMES", DEFAULT_MAX_FRAMES)),
        )


@dataclass(frozen=True)
class VideoInfo:
    """What the container declares about its first video stream."""

    container: str  # FFmpeg demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "gif"
    codec: str  # e.g. "h264", "vp9", "gif"
    width: int
    height: int
    fps: float  # average frame rate (the reference's choice), else the base rate
    duration: float | None  # seconds, where the container says
    frame_count: int | None  # frames the container declares, where it says
    rotation: int  # display rotation in degrees counter-clockwise (0, 90, 180, 270), 0 when absent


@dataclass(frozen=True)
class VideoFrame:
    number: int  # decode-order index from 0, as the reference counts
    timestamp: float  # number / fps, as the reference computes it
    pixels: np.ndarray  # H x W x 3 uint8 RGB, stored orientation
    on_grid: bool = True  # on the main sampling grid (False: only on the denser extra grid)


def _open(data: bytes):  # type: ignore[no-untyped-def]  # returns av.container.InputContainer
    import av

    if not data:
        raise UnsupportedMedia("empty file: no video to decode")
    try:
        # Metadata of hostile files is not valid UTF-8 more often than not; it is not hashed anyway.
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="replace")
    except (av.error.FFmpegError, ValueError) as exc:
        if data[4:8] == b"ftyp" or data[:4] == b"\x1a\x45\xdf\xa3":
            raise CorruptMedia(f"the video container cannot be read (truncated or damaged): {exc}") from None
        raise UnsupportedMedia(f"not a video format opspoor can read: {exc}") from None
    if not container.streams.video:
        container.close()
        raise UnsupportedMedia("the file holds no video stream")
    return container


def _rate(stream) -> float:  # type: ignore[no-untyped-def]
    for rate in (stream.average_rate, stream.base_rate, stream.guessed_rate):
        if rate and Fraction(rate) > 0:
            return float(rate)
    raise CorruptMedia("the video declares no frame rate")


def _rotation(value: float | int | None) -> int:
    """FFmpeg reports the display matrix as degrees, possibly negative or fractional."""
    if not value:
        return 0
    return int(round(value / 90.0)) * 90 % 360


def _info(container, stream) -> VideoInfo:  # type: ignore[no-untyped-def]
    ctx = stream.codec_context
    if ctx is None:  # FFmpeg has no decoder for the stream's codec id (unknown or damaged header)
        raise UnsupportedMedia("no decoder for the video stream's codec")
    duration = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000  # AV_TIME_BASE
    return VideoInfo(
        container=container.format.name,
        codec=ctx.name,
        width=int(ctx.width),
        height=int(ctx.height),
        fps=_rate(stream),
        duration=duration,
        frame_count=int(stream.frames) or None,
        rotation=0,
    )


def _check_declared(info: VideoInfo, limits: VideoLimits) -> None:
    if info.width <= 0 or info.height <= 0:
        raise CorruptMedia("the video stream declares no frame size")
    if info.width * info.height > limits.max_frame_pixels:
        raise MediaTooLarge(
            f"frames are {info.width}x{info.height}, over the limit of {limits.max_frame_pixels} pixels"
        )
    if info.duration is not None and info.duration > limits.max_seconds:
        raise VideoTooLong(f"video lasts {info.duration:.1f} s, over the limit of {limits.max_seconds:.0f} s")
    if info.frame_count is not None and info.frame_count > limits.max_frames:
        raise VideoTooLong(f"video has {info.frame_count} frames, over the limit of {limits.max_frames}")


def probe_video(data: bytes, *, limits: VideoLimits | None = None) -> VideoInfo:
    """Container facts without decoding frames (the rotation needs a frame, so it reads the first)."""
    limits = limits or VideoLimits.from_env()
    _check_size(data, limits)
    container = _open(data)
    try:
        stream = container.streams.video[0]
        info = _info(container, stream)
        _check_declared(info, limits)
        rotation = 0
        try:
            for frame in container.decode(stream):
                rotation = _rotation(frame.rotation)
                break
        except Exception:  # noqa: BLE001 - a probe reports what it can; decoding reports damage
            rotation = 0
        return replace(info, rotation=rotation)
    finally:
        container.close()


def _check_size(data: bytes, limits: VideoLimits) -> None:
    if len(data) > limits.max_bytes:
        raise MediaTooLarge(f"file is {len(data)} bytes, over the limit of {limits.max_bytes} bytes")


class VideoReader:
    """One pass over a video's frames; `info` is filled in (with rotation) as frames are read.

    `seconds_per_frame` is the sampling interval: 1.0 keeps one frame per second (the reference's
    default), 0 keeps every frame. `dense_seconds_per_frame` adds frames on a second, denser grid
    (marked `on_grid=False`), e.g. to find where a clip starts between two 1-second samples;
    `dense_max_frames` coarsens that grid for long videos so it yields about that many frames.
    """

    def __init__(
        self,
        data: bytes,
        *,
        seconds_per_frame: float = 1.0,
        dense_seconds_per_frame: float | None = None,
        dense_max_frames: int | None = None,
        limits: VideoLimits | None = None,
        threads: int = 1,
    ) -> None:
        if seconds_per_frame < 0 or (dense_seconds_per_frame or 0) < 0:
            raise ValueError("sampling intervals must be >= 0")
        self._limits = limits or VideoLimits.from_env()
        _check_size(data, self._limits)
        self._data = data
        self._seconds = seconds_per_frame
        self._dense = dense_seconds_per_frame
        self._dense_max = dense_max_frames
        self._threads = threads
        self.info: VideoInfo | None = None
        self.decoded_frames = 0  # every frame decoded, sampled or not

    def frames(self) -> Iterator[VideoFrame]:
        import av

        container = _open(self._data)
        try:
            stream = container.streams.video[0]
            info = _info(container, stream)
            _check_declared(info, self._limits)
            self.info = info
            # Threads: files are already hashed in parallel, one per core; more threads per file
            # would only fight over the 2 shared cores.
            stream.codec_context.thread_count = self._threads
            # The reference truncates seconds * fps to an integer, at least 1 (filehasher.cpp).
            frame_mod = max(1, int(self._seconds * info.fps))
            dense_mod = max(1, int(self._dense * info.fps)) if self._dense is not None else 0
            declared = info.frame_count or int((info.duration or 0) * info.fps)
            if dense_mod and self._dense_max and declared > self._dense_max * dense_mod:
                dense_mod = -(-declared // self._dense_max)  # a long video gets a coarser dense grid
            number = 0
            try:
                for frame in container.decode(stream):
                    if number == 0:
                        self.info = info = replace(info, rotation=_rotation(frame.rotation))
                    self._check_running(number, frame, info)
                    on_grid = number % frame_mod == 0
                    if on_grid or (dense_mod and number % dense_mod == 0):
                        pixels = frame.to_ndarray(format="rgb24")
                        yield VideoFrame(number, number / info.fps, pixels, on_grid)
                    number += 1
            except (av.error.FFmpegError, ValueError) as exc:
                # ValueError: PyAV's answer to frames it cannot convert (a damaged size or format).
                raise CorruptMedia(f"the video stream is damaged at frame {number}: {exc}") from None
            self.decoded_frames = number
            self._check_complete(number, info)
        finally:
            container.close()

    def _check_running(self, number: int, frame, info: VideoInfo) -> None:  # type: ignore[no-untyped-def]
        if number >= self._limits.max_frames:
            raise VideoTooLong(f"video has more than {self._limits.max_frames} frames, the limit")
        if number / info.fps > self._limits.max_seconds:
            raise VideoTooLong(f"video runs past the limit of {self._limits.max_seconds:.0f} s")
        if frame.width * frame.height > self._limits.max_frame_pixels:
            raise MediaTooLarge(
                f"a frame is {frame.width}x{frame.height}, over the limit of "
                f"{self._limits.max_frame_pixels} pixels"
            )

    @staticmethod
    def _check_complete(decoded: int, info: VideoInfo) -> None:
        if decoded == 0:
            raise CorruptMedia("the video stream holds no decodable frame (truncated or damaged)")
        declared = info.frame_count
        if declared and decoded < declared * (1 - _TRUNCATION_TOLERANCE) - 1:
            raise CorruptMedia(
                f"the video is truncated: decoded {decoded} of the {declared} frames its container declares"
            )


def iter_frames(
    data: bytes,
    *,
    seconds_per_frame: float = 1.0,
    limits: VideoLimits | None = None,
) -> Iterator[VideoFrame]:
    """Sampled frames of `data` (see VideoReader); raises a MediaError subclass on bad input."""
    yield from VideoReader(data, seconds_per_frame=seconds_per_frame, limits=limits).frames()
