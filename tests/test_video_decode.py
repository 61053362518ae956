"""Video decoding: containers, sampling, rotation, limits and damaged input, all in memory."""

from __future__ import annotations

import io
import os
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opspoor.media.errors import CorruptMedia, MediaError, MediaTooLarge, UnsupportedMedia
from opspoor.media.video import VideoLimits, VideoReader, VideoTooLong, iter_frames, probe_video
from opspoor.signals.compute import check_signals, compute_signals

# (container, codec, pixel format): the formats the issue names, encoded by the same FFmpeg.
FORMATS = [
    ("mp4", "libx264", "yuv420p"),
    ("matroska", "libx264", "yuv420p"),
    ("webm", "libvpx", "yuv420p"),
    ("avi", "mpeg4", "yuv420p"),
    ("mov", "mpeg4", "yuv420p"),
    ("gif", "gif", "rgb8"),
]


def synthetic_frame(i: int, width: int = 96, height: int = 64) -> np.ndarray:
    """A moving diagonal gradient with a bright square: enough detail for PDQ quality > 50."""
    y, x = np.mgrid[0:height, 0:width]
    base = ((x * 3 + y * 2 + i * 7) % 256).astype(np.uint8)
    rgb = np.stack([base, 255 - base, (x * 5 % 256).astype(np.uint8)], axis=2)
    rgb[10 + i % 20 : 30 + i % 20, 20:40] = 255
    return rgb


def encode(
    container: str = "mp4",
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    *,
    frames: int = 30,
    fps: int = 10,
    width: int = 96,
    height: int = 64,
    rotation: int | None = None,
) -> bytes:
    """Encode a synthetic clip into memory (nothing touches the disk)."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(synthetic_frame(i, width, height), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


@pytest.mark.parametrize(("container", "codec", "pix_fmt"), FORMATS)
def test_every_container_decodes_and_samples(container: str, codec: str, pix_fmt: str) -> None:
    data = encode(container, codec, pix_fmt)
    reader = VideoReader(data, seconds_per_frame=1.0)
    frames = list(reader.frames())
    assert reader.info is not None
    assert (reader.info.width, reader.info.height) == (96, 64)
    assert reader.decoded_frames == 30
    # 10 fps, one frame per second: frames 0, 10, 20 at 0 s, 1 s, 2 s (the reference's rule).
    assert [f.number for f in frames] == [0, 10, 20]
    assert [round(f.timestamp, 3) for f in frames] == [0.0, 1.0, 2.0]
    assert all(f.pixels.shape == (64, 96, 3) and f.pixels.dtype == np.uint8 for f in frames)


def test_every_frame_and_dense_grid() -> None:
    data = encode(frames=25)
    assert len(list(iter_frames(data, seconds_per_frame=0))) == 25
    frames = list(VideoReader(data, seconds_per_frame=1.0, dense_seconds_per_frame=0.5).frames())
    assert [f.number for f in frames] == [0, 5, 10, 15, 20]
    assert [f.on_grid for f in frames] == [True, False, True, False, True]
    # A long video gets a coarser dense grid: about dense_max_frames frames, never fewer than 1 fps.
    longer = encode(frames=40)
    reader = VideoReader(longer, dense_seconds_per_frame=0, dense_max_frames=10)
    numbers = [f.number for f in reader.frames()]
    assert numbers == [0, 4, 8, 10, 12, 16, 20, 24, 28, 30, 32, 36]


def test_probe_reports_facts_and_rotation() -> None:
    info = probe_video(encode(frames=20, rotation=90))
    assert info.codec == "h264" and info.fps == 10.0 and info.frame_count == 20
    assert info.rotation == 90
    assert probe_video(encode(frames=20)).rotation == 0


def test_rotation_is_reported_not_applied() -> None:
    reader = VideoReader(encode(frames=10, rotation=270))
    frames = list(reader.frames())
    assert reader.info is not None and reader.info.rotation == 270
    assert frames[0].pixels.shape == (64, 96, 3)  # stored orientation, as the reference hashes it


def test_limits_are_typed_errors() -> None:
    data = encode(frames=30)
    with pytest.raises(VideoTooLong, match="frames"):
        list(iter_frames(data, limits=VideoLimits(max_frames=10)))
    with pytest.raises(VideoTooLong, match="lasts|runs past"):
        list(iter_frames(data, limits=VideoLimits(max_seconds=1.0)))
    with pytest.raises(MediaTooLarge, match="pixels"):
        list(iter_frames(data, limits=VideoLimits(max_frame_pixels=1000)))
    with pytest.raises(MediaTooLarge, match="bytes"):
        list(iter_frames(data, limits=VideoLimits(max_bytes=100)))
    assert issubclass(VideoTooLong, MediaTooLarge)


def test_limits_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSPOOR_VIDEO_MAX_SECONDS", "5")
    monkeypatch.setenv("OPSPOOR_VIDEO_MAX_FRAMES", "7")
    limits = VideoLimits.from_env()
    assert (limits.max_seconds, limits.max_frames) == (5.0, 7)


def test_truncated_and_random_input_give_clear_errors(testdata: Path) -> None:
    data = (testdata / "video" / "chair-20-sd-bar.mp4").read_bytes()
    with pytest.raises(CorruptMedia, match="damaged|truncated"):
        list(iter_frames(data[: len(data) // 2]))
    with pytest.raises(CorruptMedia, match="truncated or damaged"):
        list(iter_frames(data[:4000]))
    random_bytes = np.random.default_rng(5).integers(0, 256, 60_000, dtype=np.uint8).tobytes()
    with pytest.raises(UnsupportedMedia, match="not a video format"):
        list(iter_frames(random_bytes))
    with pytest.raises(UnsupportedMedia, match="empty"):
        list(iter_frames(b""))


def test_compute_signals_reports_errors_instead_of_raising(testdata: Path) -> None:
    data = (testdata / "video" / "pattern-sd-grey-bar.mp4").read_bytes()
    truncated = compute_signals(data[: len(data) * 2 // 3])
    assert truncated.kind == "video" and truncated.sha256 and "damaged" in (truncated.error or "")
    assert "vpdq" not in truncated.extra
    fake = compute_signals(b"\x00\x00\x00\x20ftypisom" + bytes(range(256)) * 40)  # "mp4" of junk
    assert fake.error and fake.kind == "video"


def test_truncated_mp4_with_index_at_the_end_is_detected() -> None:
    # PyAV writes the index (moov) last, as most cameras do: a cut file has no index at all.
    data = encode(frames=40)
    with pytest.raises(CorruptMedia, match="truncated or damaged"):
        list(iter_frames(data[: int(len(data) * 0.8)], seconds_per_frame=0))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_bytes_raise_only_media_errors(data: st.DataObject) -> None:
    clip = _small_clip()
    position = data.draw(st.integers(0, len(clip) - 1))
    junk = data.draw(st.binary(min_size=1, max_size=64))
    damaged = clip[:position] + junk + clip[position + len(junk) :]
    try:
        for _ in iter_frames(damaged, seconds_per_frame=0):
            pass
    except MediaError:
        pass  # a clear, typed error is the right answer; a crash or another exception is not


_CLIP: list[bytes] = []


def _small_clip() -> bytes:
    if not _CLIP:
        _CLIP.append(encode(frames=8, width=32, height=32))
    return _CLIP[0]


def test_nothing_is_written_to_disk(testdata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Privacy: a video is hashed from memory; no temporary file, frame or thumbnail is written."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a temporary file was requested while hashing a video")

    for name in ("mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile"):
        monkeypatch.setattr(tempfile, name, refuse)
    monkeypatch.chdir(tmp_path)
    home = Path(os.environ["OPSPOOR_HOME"])
    before = set(home.rglob("*")) | set(tmp_path.rglob("*"))
    video = (testdata / "video" / "pattern-sd-grey-bar.mp4").read_bytes()
    signals = check_signals(video)
    assert signals.error is None and signals.extra["vpdq"]
    assert signals.extra["video"]["frame_count"] == 206 and signals.extra["video"]["fps"] == 30.0
    assert (signals.width, signals.height) == (480, 720)
    assert len(signals.extra["vpdq_dense"].splitlines()) == 206  # the check path's every-frame pass
    # Hashing alone (opspoor hash, lists add; with or without dihedral variants) skips that pass.
    assert "vpdq_dense" not in compute_signals(video, dihedral=True).extra
    assert set(home.rglob("*")) | set(tmp_path.rglob("*")) == before
