"""Match one query residual against one fingerprint over a bounded set of geometries.

A photo may reach us rotated (portrait pixels from a landscape sensor), resized, or cropped. We try:

- rotations: 0 and 180 degrees when the query has the sensor's orientation, 90 and 270 when it
  does not (all four for a square query);
- scales: the fingerprint is downscaled (area averaging, as a photo's own resize does to its PRNU)
  to each candidate scale: 1.0, the fixed set DEFAULT_SCALES, and the scales at which the query's
  width or height would exactly fill the frame (a resize without a crop);
- offsets: at each scale, every position at which the query still fits inside the frame (the
  cross-correlation gives all of them at once); a same-size query is tested at zero shift only.

Every extra try is another chance for a non-match to peak. The search reports how many positions it
tested in total (`positions`); at PCE 60 the per-position false-alarm probability under the null
is ~1e-14 (chi-square, 1 d.o.f.), so even 10^7 positions keep the family-wise rate near 1e-7. That
bound is what keeps false attributions at zero without raising the threshold; docs/camera.md lists
the measured maxima of non-matching PCE under the full search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from opspoor.camera.pce import Peak, cross_correlation, pce_at
from opspoor.camera.residual import QueryResidual

# Common resize factors of sharing platforms and messengers (halving, 3/4), tried besides the
# exact-fit scales derived from the sizes. Bounded on purpose: each scale is a full correlation.
DEFAULT_SCALES: tuple[float, ...] = (1.0, 0.75, 0.5)
# Below this the fingerprint has too few pixels left to be trusted (1/4 of each side).
MIN_SCALE = 0.25


@dataclass(frozen=True)
class SearchPolicy:
    """Which geometries to try. `exact()` is the strict same-size, zero-shift, no-rotation test."""

    rotations: bool = True
    scales: tuple[float, ...] = DEFAULT_SCALES
    fit_scales: bool = True
    crops: bool = True

    @classmethod
    def exact(cls) -> SearchPolicy:
        return cls(rotations=False, scales=(1.0,), fit_scales=False, crops=False)


@dataclass(frozen=True)
class Attempt:
    """The best geometry found for one query against one fingerprint."""

    pce: float
    rotation: int  # degrees counter-clockwise applied to the query
    scale: float  # fingerprint scale at which the query matched
    dy: int
    dx: int
    value: float
    positions: int  # total positions tested over every geometry
    tries: int  # number of geometries (correlations) computed


NO_ATTEMPT = Attempt(pce=0.0, rotation=0, scale=1.0, dy=0, dx=0, value=0.0, positions=0, tries=0)


def rotations_for(query_shape: tuple[int, int], frame_shape: tuple[int, int], allow: bool) -> list[int]:
    """Quarter turns to try: same orientation -> 0 (and 2); other orientation -> 1 and 3."""
    h, w = query_shape
    fh, fw = frame_shape
    if not allow:
        return [0]
    if h == w:
        return [0, 1, 2, 3]
    if (h > w) == (fh > fw) or fh == fw:
        return [0, 2]
    return [1, 3]


def scales_for(
    query_shape: tuple[int, int], frame_shape: tuple[int, int], policy: SearchPolicy
) -> list[float]:
    """Scales (<= 1) at which the fingerprint frame can still hold the query, largest first."""
    h, w = query_shape
    fh, fw = frame_shape
    candidates = set(policy.scales)
    if policy.fit_scales:
        candidates.update({h / fh, w / fw})
    out = []
    for s in sorted(candidates, reverse=True):
        if s > 1.0 or s < MIN_SCALE:
            continue
        sh, sw = round(fh * s), round(fw * s)
        if h > sh or w > sw:
            continue
        if not policy.crops and (h, w) != (sh, sw):
            continue
        out.append(float(s))
    return out


def resize_fingerprint(k: np.ndarray, scale: float) -> np.ndarray:
    """K at `scale` by area averaging, re-centred to zero mean."""
    if scale == 1.0:
        return k
    import cv2

    h, w = k.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    out = cv2.resize(k, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    out -= out.mean()
    return out


def search(query: QueryResidual, k: np.ndarray, policy: SearchPolicy = SearchPolicy()) -> Attempt:
    """Best PCE of `query` against fingerprint `k` over the policy's geometries."""
    best = NO_ATTEMPT
    positions = 0
    tries = 0
    z = query.weighted()
    for quarter in rotations_for(query.shape, k.shape, policy.rotations):
        zr = np.ascontiguousarray(np.rot90(z, quarter))
        for scale in scales_for(zr.shape, k.shape, policy):
            ks = resize_fingerprint(k, scale)
            max_dy, max_dx = ks.shape[0] - zr.shape[0], ks.shape[1] - zr.shape[1]
            peak: Peak = pce_at(cross_correlation(zr, ks), max_dy, max_dx)
            positions += peak.positions
            tries += 1
            if tries == 1 or peak.pce > best.pce:
                best = Attempt(peak.pce, 90 * quarter, scale, peak.dy, peak.dx, peak.value, 0, 0)
    return Attempt(best.pce, best.rotation, best.scale, best.dy, best.dx, best.value, positions, tries)


def surface_around(query: QueryResidual, k: np.ndarray, attempt: Attempt, radius: int = 32) -> np.ndarray:
    """PCE-normalised correlation surface around the best peak (for the investigator's report)."""
    zr = np.ascontiguousarray(np.rot90(query.weighted(), attempt.rotation // 90))
    ks = resize_fingerprint(k, attempt.scale)
    surface = cross_correlation(zr, ks)
    floor = float(np.sqrt(np.mean(surface.astype(np.float64) ** 2)))
    rolled = np.roll(surface, (radius - attempt.dy, radius - attempt.dx), axis=(0, 1))
    window = rolled[: 2 * radius + 1, : 2 * radius + 1]
    return (window / floor if floor > 0 else window).astype(np.float32)
