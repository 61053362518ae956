"""PDQ from a luma array in NumPy: the reference's float pipeline restated as two matrix products.

The reference (`pdq/cpp/hashing/pdqhashing.cpp`, `downscaling/downscaling.cpp`) blurs the luma with
two X,Y passes of 1-D box filters (Jarosz's tent filter; window ceil(side / 128) per pass, shrinking
at the borders), samples 64x64 points at ((i + 0.5) * side / 64), takes the 16x16 low corner of the
64x64 DCT, and sets each bit where the coefficient exceeds the median (torben: the 128th smallest).
Every step is linear up to the sampling, so blur-then-sample is `A @ luma @ B.T` with A (64 x H) and
B (64 x W) built once per image size. On 512x512 that costs about 0.5 ms instead of about 5 ms for
the bindings, which spend half their time computing luma in float64.

The result is the reference's hash up to float summation order: identical on every test image we
have, but not guaranteed bit for bit. So only fast mode uses it; default mode calls the reference
C++ code through `pdqhash`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_SIDE = 64  # the reference's 64x64 downsample
_WINDOW_DIVISOR = 128  # pdqhashing: PDQ_JAROSZ_WINDOW_SIZE_DIVISOR (two passes of half a block)
_PASSES = 2  # PDQ_NUM_JAROSZ_XY_PASSES
_MEDIAN_RANK = 127  # torben(n=256) returns the (n + 1) // 2 = 128th smallest value
# Luma weights as the reference's float constants (downscaling.cpp: luma_from_*_coeff).
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _dct_matrix() -> np.ndarray:
    """Rows 1..16 of the 64-point DCT-II, scaled by sqrt(2/64) (pdqhashing.cpp: dct_matrix_64)."""
    i = np.arange(1, 17, dtype=np.float64)[:, None]
    j = np.arange(_SIDE, dtype=np.float64)[None, :]
    matrix: np.ndarray = np.sqrt(2.0 / _SIDE) * np.cos(np.pi / 2.0 / _SIDE * i * (2 * j + 1))
    return matrix.astype(np.float32)


_DCT = _dct_matrix()


def _box_matrix(n: int, window: int) -> np.ndarray:
    """The reference's box1DFloat as an n x n matrix: out[k] averages the in-range part of the
    window [k - (window - half), k + half - 1], where half = (window + 2) // 2."""
    half = (window + 2) // 2
    k = np.arange(n)
    lo = np.maximum(0, k - (window - half))
    hi = np.minimum(n, k + half)
    cols = np.arange(n)[None, :]
    inside = (cols >= lo[:, None]) & (cols < hi[:, None])
    return inside / (hi - lo)[:, None].astype(np.float64)


@lru_cache(maxsize=32)
def _blur_and_sample(n: int) -> np.ndarray:
    """64 x n matrix: two box passes along one axis, then the reference's centre sampling."""
    window = (n + 2 * _SIDE - 1) // (2 * _SIDE)  # computeJaroszFilterWindowSize(n, 64)
    box = _box_matrix(n, window)
    blur = np.linalg.matrix_power(box, _PASSES)
    rows = ((np.arange(_SIDE) + 0.5) * n / _SIDE).astype(np.int64)
    return np.ascontiguousarray(blur[rows], dtype=np.float32)


def luma(pixels: np.ndarray) -> np.ndarray:
    """Float32 luma of H x W x 3 RGB (or grey H x W) uint8 pixels."""
    if pixels.ndim == 2:
        return pixels.astype(np.float32)
    return pixels[..., :3].astype(np.float32) @ _LUMA


def hash_luma(values: np.ndarray) -> tuple[str, int]:
    """PDQ hex (64 lowercase digits, reference order) and quality of a float32 luma array.

    Sides must be at least 5 pixels (the reference's MIN_HASHABLE_DIM); smaller images get the
    reference's answer for them: an all-zero hash of quality 0.
    """
    height, width = values.shape
    if height < 5 or width < 5:
        return "0" * 64, 0
    down = (_blur_and_sample(height) @ values) @ _blur_and_sample(width).T
    quality = _quality(down)
    coeffs = (_DCT @ down @ _DCT.T).ravel()
    median = np.partition(coeffs, _MEDIAN_RANK)[_MEDIAN_RANK]
    # Bit k = 16 * row + col; the reference prints bit 255 first.
    bits = (coeffs > median)[::-1]
    return np.packbits(bits).tobytes().hex(), quality


def hash_pixels_fast(pixels: np.ndarray) -> tuple[str, int]:
    """PDQ of uint8 pixels already at hashing size (see pdq.reference_resize)."""
    return hash_luma(luma(pixels))


def _quality(down: np.ndarray) -> int:
    """pdqImageDomainQualityMetric: the sum of quantised gradients of the 64x64 downsample / 90."""
    vertical = np.trunc((down[:-1, :] - down[1:, :]) * 100 / 255)
    horizontal = np.trunc((down[:, :-1] - down[:, 1:]) * 100 / 255)
    total = int(np.abs(vertical).sum() + np.abs(horizontal).sum())
    return min(100, total // 90)
