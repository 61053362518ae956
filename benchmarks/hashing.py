"""Images per second per core on 12 MP camera-size JPEGs: HMA's pipeline vs opspoor, in one run.

    /work/venv/bin/python benchmarks/hashing.py [--n 20] [--repeat 2]

Makes N 4000x3000 JPEGs (quality 90) from the benign photos in ../shared/testdata/photos/sun_hays80
(bicubic upscale) in a temporary folder, then times, one process and one thread each:

  (a) HMA's pipeline: Pillow full decode + pdqhash.compute on the full image (python-threatexchange
      signal_type/pdq/pdq_hasher.py, restated: no resize, hex via a bit string)
  (b) the decode floor: Pillow decode alone, at the DCT scale and luma-only mode fast mode uses
  (c) opspoor default: compute_signals(data): MD5, SHA-1, SHA-256 and reference-exact PDQ
  (d) opspoor fast: compute_signals(data, fast=True): the same record in fast mode
  (d-pdq) fast mode's image path alone (decode, resize, hash) and (crypto) the three file hashes alone,
      so the split of (d) is visible.

Time is CPU time of this process (user + system), so other work on a shared machine does not count
against us; each pipeline runs over every file `repeat` times, interleaved, and the best round counts.
It also prints how far fast mode and HMA's pipeline land from the reference-exact default.
"""

from __future__ import annotations

import os

# Per-core figures: no hidden BLAS or OpenMP threads (set before NumPy loads).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pdqhash  # noqa: E402
from PIL import Image  # noqa: E402

from opspoor.media.image import decode_image  # noqa: E402
from opspoor.signals.compute import compute_signals  # noqa: E402
from opspoor.signals.pdq import REFERENCE_SIDE, hamming, reference_resize  # noqa: E402
from opspoor.signals.pdq_fast import hash_pixels_fast  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ROOT.parent / "shared" / "testdata" / "photos" / "sun_hays80"
SIZE = (4000, 3000)  # 12 MP, the common camera size


def make_jpegs(folder: Path, n: int) -> list[Path]:
    sources = sorted(PHOTOS.glob("*.jpg"))[:n]
    if len(sources) < n:
        sys.exit(f"need {n} photos in {PHOTOS}, found {len(sources)}")
    out = []
    for i, src in enumerate(sources):
        with Image.open(src) as im:
            big = im.convert("RGB").resize(SIZE, Image.Resampling.BICUBIC)
        path = folder / f"img{i:03d}.jpg"
        big.save(path, "JPEG", quality=90)
        out.append(path)
    return out


def hma(data: bytes) -> str:
    array = np.asarray(Image.open(io.BytesIO(data)))
    if array.ndim == 2:
        array = np.concatenate([array[..., np.newaxis]] * 3, axis=2)
    vector, _quality = pdqhash.compute(array)
    bits = "".join(str(x) for x in vector)
    return f"{int(bits, 2):0{(len(bits) + 3) // 4}x}"


def floor(data: bytes) -> np.ndarray:
    im = Image.open(io.BytesIO(data))
    im.draft("L", (REFERENCE_SIDE, REFERENCE_SIDE))
    return np.asarray(im)


def default(data: bytes) -> str | None:
    return compute_signals(data).pdq


def fast(data: bytes) -> str | None:
    return compute_signals(data, fast=True).pdq


def fast_pdq_only(data: bytes) -> str:
    image = decode_image(data, min_side=REFERENCE_SIDE, grey=True)
    return hash_pixels_fast(reference_resize(image.pixels))[0]


def crypto(data: bytes) -> str:
    return "".join(hashlib.new(name, data).hexdigest() for name in ("md5", "sha1", "sha256"))


PIPELINES: dict[str, Callable[[bytes], object]] = {
    "(a) HMA: full decode + pdqhash": hma,
    "(b) decode floor (fast scale)": floor,
    "(c) opspoor default": default,
    "(d) opspoor fast": fast,
    "(d-pdq) fast image path only": fast_pdq_only,
    "(crypto) md5+sha1+sha256 only": crypto,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20, help="number of 12 MP JPEGs")
    parser.add_argument("--repeat", type=int, default=2, help="rounds per pipeline (best counts)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opspoor-bench-") as tmp:
        t0 = time.perf_counter()
        paths = make_jpegs(Path(tmp), args.n)
        mib = sum(p.stat().st_size for p in paths) / len(paths) / 2**20
        print(f"{len(paths)} JPEGs {SIZE[0]}x{SIZE[1]} q90, mean {mib:.2f} MiB, made in "
              f"{time.perf_counter() - t0:.1f}s; one process, one thread, CPU time")
        best = {name: float("inf") for name in PIPELINES}
        results: dict[str, list[object]] = {}
        for _ in range(args.repeat):
            for name, func in PIPELINES.items():
                start = time.process_time()
                # Reading the file is part of every pipeline (from the page cache after round 1).
                results[name] = [func(p.read_bytes()) for p in paths]
                best[name] = min(best[name], (time.process_time() - start) / len(paths))

    print(f"\n{'pipeline':34s} {'ms/image':>9s} {'images/s/core':>14s}")
    for name, seconds in best.items():
        print(f"{name:34s} {seconds * 1000:9.1f} {1 / seconds:14.2f}")

    a, b, c, d = (best[k] for k in list(PIPELINES)[:4])
    d_pdq = best["(d-pdq) fast image path only"]
    print("\nratios")
    print(f"  fast (d) images/s vs HMA (a):        {a / d:6.2f}x   (must be >= 3)")
    print(f"  fast (d) time vs decode floor (b):   {d / b:6.2f}x   (must be <= 1.5)")
    print(f"  fast image path (d-pdq) vs floor:    {d_pdq / b:6.2f}x   (without the file hashes)")
    print(f"  default (c) images/s vs HMA (a):     {a / c:6.2f}x")

    reference = results["(c) opspoor default"]
    for name in ("(d) opspoor fast", "(a) HMA: full decode + pdqhash"):
        dist = [hamming(str(x), str(r)) for x, r in zip(results[name], reference, strict=True)]
        print(f"  {name} bits from reference-exact default: max {max(dist)}, mean {np.mean(dist):.1f}")


if __name__ == "__main__":
    main()
