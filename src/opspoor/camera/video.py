"""Camera fingerprints from video frames.

Intra-coded frames (I-frames) keep the most sensor noise: predicted frames copy blocks from other
frames, so their residual repeats earlier frames' content and noise (Chuang, Su, Wu, "Exploring
compression effects for improved source camera identification using strongly compressed video",
ICIP 2011). We decode key frames only; when a clip has too few of them, evenly spaced frames
of any type fill up the budget.

Known limit: digital stabilisation (most phones since ~2016) shifts, scales and warps every frame
differently, so the pattern no longer adds up across frames; such videos give weak or no
fingerprints and should be reported as inconclusive, never as exclusion. Video frames are usually a
downscaled (and cropped) sensor read-out: matching a photo against a video uses the scale search.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from opspoor.camera.errors import NoFrames
from opspoor.camera.fingerprint import FingerprintBuilder
from opspoor.camera.residual import ResidualParams

STABILISATION_NOTE = (
    "video PRNU: digitally stabilised video (most recent phones) misaligns the sensor pattern "
    "between frames; a low PCE for such a video is inconclusive, not an exclusion"
)
# Frames averaged into one video fingerprint: beyond ~50 I-frames the gain flattens while decoding
# time grows linearly (Taspinar et al., "Source camera attribution using stabilized video", WIFS 2016).
MAX_FRAMES = 50
MIN_KEY_FRAMES = 10


def _frames(path: Path, keys_only: bool, limit: int, stride: int = 1) -> Iterator[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise NoFrames(f"{path}: no video stream")
        stream = container.streams.video[0]
        if keys_only:
            stream.codec_context.skip_frame = "NONKEY"
        count = 0
        for i, frame in enumerate(container.decode(stream)):
            if i % stride:
                continue
            yield frame.to_ndarray(format="rgb24")
            count += 1
            if count >= limit:
                return


def _frame_count(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return int(stream.frames or 0)


def video_frames(path: Path, limit: int = MAX_FRAMES) -> list[np.ndarray]:
    """Up to `limit` frames, I-frames first (typed NoFrames on an unreadable or empty video)."""
    import av

    try:
        frames = list(_frames(path, True, limit))
        if len(frames) < min(MIN_KEY_FRAMES, limit):
            total = _frame_count(path)
            stride = max(1, total // limit) if total else 1
            frames = list(_frames(path, False, limit, stride))
    except av.error.FFmpegError as exc:
        raise NoFrames(f"{path}: cannot decode video: {exc}") from exc
    if not frames:
        raise NoFrames(f"{path}: no decodable frames")
    return frames


def video_fingerprint(
    path: Path, params: ResidualParams = ResidualParams(), limit: int = MAX_FRAMES
) -> tuple[np.ndarray, int]:
    """(K, frames used) from one video."""
    frames = video_frames(path, limit)
    builder = FingerprintBuilder((int(frames[0].shape[0]), int(frames[0].shape[1])), params)
    for frame in frames:
        builder.add(frame)
    return builder.build(), builder.count
