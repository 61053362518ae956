"""Video frames per second: vPDQ hashing against decoding alone, in one run.

    /work/venv/bin/python benchmarks/video.py [--repeat 2] [--videos chair-20-sd-bar,pattern-hd-no-bar]

For each sample video in ../shared/testdata/video (benign; Meta's vPDQ sample clips) it times, in one
process and one thread (the decoder too):

  (a) decode: every frame decoded by PyAV from memory, no conversion -- the floor
  (b) 1 fps: opspoor's list path, `hash_video(data)`: vpdq + vpdq_trim of one frame per second
  (c) check: the check path, `hash_video(data, dense_seconds_per_frame=0)`: (b) plus PDQ of every frame
  (d) every frame: the reference's regression mode, `hash_video(data, 0, trim=False)`

Time is CPU time of this process (user + system), so other work on a shared machine does not count
against us; each variant runs `repeat` times, interleaved, and the best round counts. Printed: CPU
seconds, frames decoded and hashed per CPU second, how many times real time (video seconds per CPU
second) and the ratio to (a).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import io  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import av  # noqa: E402

from opspoor.signals.vpdq import hash_video  # noqa: E402

TESTDATA = Path(
    os.environ.get("OPSPOOR_TESTDATA", Path(__file__).resolve().parents[2] / "shared" / "testdata")
)
DEFAULT_VIDEOS = ("chair-20-sd-bar", "pattern-hd-no-bar", "test-padded-dimensions")


def decode_only(data: bytes) -> tuple[int, int]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        frames = sum(1 for _ in container.decode(stream))
    return frames, 0


def list_path(data: bytes) -> tuple[int, int]:
    h = hash_video(data)
    return h.decoded_frames, len(h.vpdq) + h.bars_found


def check_path(data: bytes) -> tuple[int, int]:
    h = hash_video(data, dense_seconds_per_frame=0)
    return h.decoded_frames, len(h.dense) + h.bars_found


def every_frame(data: bytes) -> tuple[int, int]:
    h = hash_video(data, seconds_per_frame=0, trim=False)
    return h.decoded_frames, len(h.vpdq)


VARIANTS: dict[str, Callable[[bytes], tuple[int, int]]] = {
    "(a) decode": decode_only,
    "(b) 1 fps": list_path,
    "(c) check": check_path,
    "(d) every frame": every_frame,
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--videos", default=",".join(DEFAULT_VIDEOS))
    args = parser.parse_args()
    folder = TESTDATA / "video"
    if not folder.is_dir():
        print(f"test data not found at {folder}", file=sys.stderr)
        return 2
    for name in args.videos.split(","):
        data = (folder / f"{name}.mp4").read_bytes()
        with av.open(io.BytesIO(data)) as c:
            s = c.streams.video[0]
            size, fps = f"{s.codec_context.width}x{s.codec_context.height}", float(s.average_rate)
        best: dict[str, tuple[float, int, int]] = {}
        for _ in range(args.repeat):
            for label, fn in VARIANTS.items():
                start = time.process_time()
                decoded, hashed = fn(data)
                spent = time.process_time() - start
                if label not in best or spent < best[label][0]:
                    best[label] = (spent, decoded, hashed)
        floor = best["(a) decode"][0]
        print(f"\n{name} ({size}, {fps:.0f} fps)")
        head = ("cpu s", "decoded/s", "hashed", "hashed/s", "x real", "vs (a)")
        print(f"{'variant':18s} " + " ".join(f"{h:>9s}" for h in head))
        for label, (spent, decoded, hashed) in best.items():
            seconds = decoded / fps
            print(
                f"{label:18s} {spent:9.2f} {decoded / spent:9.0f} {hashed:9d} "
                f"{hashed / spent:9.1f} {seconds / spent:9.1f} {spent / floor:9.1f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
