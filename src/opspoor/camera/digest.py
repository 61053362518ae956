"""Fingerprint digests: the strongest pixels of K, for a fast first pass over many cameras.

Goljan, Fridrich and Filler ("Managing a large database of camera fingerprints", SPIE 2010) keep
only the positions and values of the largest |K| values. A query is scored by the normalised
correlation of its W*I at those positions with the stored values; under the null that score times
sqrt(n) is ~N(0, 1). The strongest pixels carry more of the pattern than average ones, so a small
digest keeps most of the evidence. A digest only tests zero shift at scale 1 (plus the 180-degree
turn), so cropped or resized queries always go to the full search; and the digest is a prefilter:
every reported match is confirmed by full PCE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# 1/32 of the sensor's pixels, at least 4096: ~300k positions for a 10 MP camera (1.8 MB).
DIGEST_FRACTION = 1 / 32
DIGEST_MIN = 4096


@dataclass(frozen=True)
class Digest:
    shape: tuple[int, int]
    index: np.ndarray  # int64 flat positions, sorted
    value: np.ndarray  # float32, unit norm


def make_digest(k: np.ndarray, size: int | None = None) -> Digest:
    n = k.size
    size = size or max(DIGEST_MIN, int(n * DIGEST_FRACTION))
    size = min(size, n)
    flat = k.ravel()
    index = np.sort(np.argpartition(np.abs(flat), n - size)[n - size :]).astype(np.int64)
    value = flat[index].astype(np.float32)
    value -= value.mean()
    norm = float(np.linalg.norm(value))
    value /= norm if norm > 0 else 1.0
    return Digest((int(k.shape[0]), int(k.shape[1])), index, value)


def digest_score(weighted_query: np.ndarray, digest: Digest) -> float:
    """z-score of the query's W*I against the digest at zero shift (also tries the 180-degree turn).

    Returns -inf when the query's size differs from the digest's sensor (no zero-shift test).
    """
    best = -np.inf
    for quarter in (0, 2):
        z = weighted_query if quarter == 0 else weighted_query[::-1, ::-1]
        if z.shape != digest.shape:
            continue
        sample = z.ravel()[digest.index].astype(np.float32)
        sample -= sample.mean()
        norm = float(np.linalg.norm(sample))
        if norm == 0:
            continue
        rho = float(sample @ digest.value) / norm
        best = max(best, rho * float(np.sqrt(digest.index.size)))
    return best
