"""Camera forensics benchmark: residual extraction speed and search over many fingerprints.

Run by hand: `/work/venv/bin/python benchmarks/camera.py [--megapixels 10] [--cameras 1000]`.

1. Residual extraction in megapixels per second on a generated RGB photo, against a baseline
   measured in the same run: the same algorithm written the direct way (float64, the four Wiener
   windows stacked and reduced with min, full complex FFT), as reference ports do it.
2. One query photo against N synthetic fingerprints (N = 1000, 640x480 each, the true camera among
   them): full PCE against every camera versus the digest prefilter (strongest pixels) with full PCE
   only on the shortlist. Reports the time of each, the ratio, and whether the true camera won.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pywt
from scipy.ndimage import uniform_filter

from opspoor.camera import synthetic
from opspoor.camera.digest import make_digest
from opspoor.camera.fingerprint import FingerprintBuilder
from opspoor.camera.registry import LoadedCamera
from opspoor.camera.residual import LUMA, query_residual, zero_mean_lattice
from opspoor.camera.service import rank


def baseline_residual(pixels: np.ndarray, sigma: float = 5.0) -> np.ndarray:
    """The same residual computed the direct way (float64, stacked windows, complex FFT)."""
    noise_var = sigma**2
    chans = []
    for c in range(3):
        x = pixels[:, :, c].astype(np.float64)
        coeffs = pywt.wavedec2(x, "db8", level=4)
        out: list[object] = [np.zeros_like(coeffs[0])]
        for detail in coeffs[1:]:
            bands = []
            for band in detail:
                stack = np.stack([uniform_filter(band**2, s, mode="constant") for s in (3, 5, 7, 9)])
                var = np.maximum(stack - noise_var, 0).min(axis=0)
                bands.append(band * noise_var / (var + noise_var))
            out.append(tuple(bands))
        chans.append(pywt.waverec2(out, "db8")[: x.shape[0], : x.shape[1]])
    w = np.tensordot(np.stack(chans, axis=2), LUMA.astype(np.float64), axes=([2], [0]))
    w = zero_mean_lattice(w)
    spec = np.fft.fft2(w)
    mag = np.abs(spec) / np.sqrt(w.size)
    energy = mag**2
    var = np.stack([uniform_filter(energy, s, mode="constant") for s in (3, 5, 7, 9)])
    var = np.maximum(var - w.var(), 0).min(axis=0)
    kept = mag * w.var() / (var + w.var())
    return np.real(np.fft.ifft2(spec * np.where(mag > 0, kept / np.where(mag > 0, mag, 1), 0)))


def bench_extraction(megapixels: float) -> None:
    side = int(np.sqrt(megapixels * 1e6 / 1.5))
    shape = (side, int(side * 1.5))
    pixels = synthetic.smooth_scene(1, shape)
    mp = shape[0] * shape[1] / 1e6
    t0 = time.perf_counter()
    query_residual(pixels)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    baseline_residual(pixels)
    base = time.perf_counter() - t0
    print(f"residual extraction, {shape[1]}x{shape[0]} ({mp:.1f} MP):")
    print(f"  opspoor (float32):  {mp / ours:6.2f} MP/s  ({ours:.2f} s)")
    print(f"  baseline (float64): {mp / base:6.2f} MP/s  ({base:.2f} s)")
    print(f"  speed-up: {base / ours:.2f}x")


def bench_search(n_cameras: int) -> None:
    shape = (480, 640)
    rng = np.random.default_rng(3)
    true_k = synthetic.sensor_pattern(shape, 0.01, 0)
    builder = FingerprintBuilder(shape)
    for i in range(10):
        builder.add(synthetic.expose(synthetic.smooth_scene(100 + i, shape), true_k, i, 90))
    true_fp = builder.build()
    cameras = [LoadedCamera("true", true_fp, make_digest(true_fp), 0)]
    for i in range(1, n_cameras):
        # Stand-in fingerprints: white noise at the scale of a real one (estimating 1000 real
        # fingerprints would take an hour and measure enrolment, not search).
        k = (rng.standard_normal(shape, dtype=np.float32) * float(true_fp.std())).astype(np.float32)
        cameras.append(LoadedCamera(f"cam{i}", k, make_digest(k), i))
    query = query_residual(synthetic.expose(synthetic.smooth_scene(999, shape), true_k, 999, 85))
    t0 = time.perf_counter()
    full = rank(query, cameras, use_digests=False)
    t_full = time.perf_counter() - t0
    t0 = time.perf_counter()
    quick = rank(query, cameras, use_digests=True)
    t_quick = time.perf_counter() - t0
    searched = sum(c.pce is not None for c in quick)
    print(f"one 640x480 query against {n_cameras} fingerprints:")
    print(f"  full PCE, every camera: {t_full:7.2f} s  best={full[0].camera} PCE {full[0].pce:.1f}")
    print(f"  digest prefilter:       {t_quick:7.2f} s  best={quick[0].camera} PCE {quick[0].pce:.1f} "
          f"({searched} cameras searched in full)")
    print(f"  speed-up: {t_full / t_quick:.1f}x; same decision: {full[0].camera == quick[0].camera}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=10.0)
    parser.add_argument("--cameras", type=int, default=1000)
    args = parser.parse_args()
    bench_extraction(args.megapixels)
    bench_search(args.cameras)


if __name__ == "__main__":
    main()
