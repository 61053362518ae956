"""Group photos by the (unknown) camera that took them, from their residuals alone.

1. Each photo contributes a centre crop of W*I, turned to landscape (`cluster_vector`).
2. Prefilter: the zero-shift correlation of every pair of same-size crops, divided by the mean
   energy of their whole correlation surface, which Parseval gives from the power spectra: two
   matrix products for all pairs (a PCE without the 11x11 exclusion). Pairs above half the
   threshold go on, strongest first.
3. Confirm: exact PCE at zero shift; an edge needs PCE >= 60 (the same literature threshold as
   attribution). A pair whose photos are already linked through others is not re-confirmed.
4. Connected components of the confirmed edges are the first clusters; each cluster with two or
   more members gets a fingerprint (average of its members' W*I), and a photo left alone is
   attached to the cluster whose fingerprint gives it the highest PCE, if that PCE >= 60. Clusters
   whose fingerprints match each other at PCE >= 60 merge. Natural photos rarely match one another
   directly; they do match a fingerprint averaged from several photos.

Confidence of a member: its PCE against the fingerprint of the rest of its cluster (leave one out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from opspoor.camera.errors import CameraError
from opspoor.camera.pce import PCE_THRESHOLD, pce_at
from opspoor.camera.residual import QueryResidual

# Prefilter: pairs whose approximate PCE (see approximate_pce) is below this fraction of the
# threshold never reach the exact PCE step. Half the threshold: the approximation differs from the
# exact value only by the 11x11 exclusion, so no confirmable pair is lost.
PREFILTER_FRACTION = 0.5
# Centre crop used for clustering: big enough for weak natural-photo residuals, small enough to
# keep dozens of photos in memory (2048x2048 float32 = 16 MB each).
DEFAULT_CROP = 2048


@dataclass(frozen=True)
class Cluster:
    members: list[int]  # indices into the input list
    confidence: list[float]  # leave-one-out PCE of each member against the rest (0 for a singleton)


def cluster_vector(query: QueryResidual, crop: int = DEFAULT_CROP) -> np.ndarray:
    """W*I, rotated to landscape, centre-cropped to at most crop x crop (float32, zero mean)."""
    z = query.weighted()
    if z.shape[0] > z.shape[1]:
        z = np.rot90(z)
    h, w = z.shape
    ch, cw = min(h, crop), min(w, crop)
    top, left = (h - ch) // 2, (w - cw) // 2
    out = np.ascontiguousarray(z[top : top + ch, left : left + cw], dtype=np.float32)
    out -= out.mean()
    return out


def _pce_spec(a: np.ndarray, b: np.ndarray, shape: tuple[int, ...]) -> float:
    """Exact zero-shift PCE from two rfft2 spectra."""
    return pce_at(sfft.irfft2(a * np.conj(b), s=shape, workers=1).astype(np.float32)).pce


class _Sets:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for i in range(len(self.parent)):
            out.setdefault(self.find(i), []).append(i)
        return sorted(out.values(), key=lambda g: (-len(g), g[0]))


def approximate_pce(vectors: Sequence[np.ndarray], spectra: Sequence[np.ndarray]) -> np.ndarray:
    """Zero-shift PCE of every same-shape pair without the 11x11 exclusion, in two matrix products.

    C(0) = <a, b>; by Parseval the mean of C^2 over all shifts is sum_f |A_f|^2 |B_f|^2 / N^2.
    Pairs of different shapes get -inf.
    """
    n = len(vectors)
    out = np.full((n, n), -np.inf)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, v in enumerate(vectors):
        by_shape.setdefault(v.shape, []).append(i)
    for shape, idx in by_shape.items():
        if len(idx) < 2:
            continue
        size = float(np.prod(shape))
        # rfft2 keeps half the spectrum: every column except DC (and Nyquist) stands for two.
        weight = np.full(spectra[idx[0]].shape[1], 2.0, dtype=np.float32)
        weight[0] = 1.0
        if shape[1] % 2 == 0:
            weight[-1] = 1.0
        mat = np.stack([vectors[i].ravel() for i in idx])
        gram = (mat @ mat.T).astype(np.float64)
        del mat
        power = np.stack([((np.abs(spectra[i]) ** 2) * weight).ravel() for i in idx])
        energy = (power @ (np.abs(np.stack([spectra[i].ravel() for i in idx])) ** 2).T).astype(np.float64)
        del power
        floor = (energy / size - gram**2) / (size - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            approx = np.where(floor > 0, np.sign(gram) * gram**2 / floor, 0.0)
        for a, ia in enumerate(idx):
            for b, ib in enumerate(idx):
                if a != b:
                    out[ia, ib] = approx[a, b]
    return out


def cluster(vectors: Sequence[np.ndarray], threshold: float = PCE_THRESHOLD) -> list[Cluster]:
    """Clusters of photos by camera, largest first; every input index appears exactly once."""
    spectra = [sfft.rfft2(v, workers=1).astype(np.complex64) for v in vectors]
    approx = approximate_pce(vectors, spectra)
    sets = _Sets(len(vectors))
    pairs = [
        (approx[i, j], i, j)
        for i in range(len(vectors))
        for j in range(i + 1, len(vectors))
        if approx[i, j] >= threshold * PREFILTER_FRACTION
    ]
    # Strongest pairs first; a pair already joined through others needs no exact confirmation.
    for _, i, j in sorted(pairs, reverse=True):
        if sets.find(i) != sets.find(j) and _pce_spec(spectra[i], spectra[j], vectors[i].shape) >= threshold:
            sets.union(i, j)
    groups = _attach_and_merge(vectors, spectra, sets.groups(), threshold)
    return [Cluster(g, _confidence(vectors, spectra, g)) for g in groups]


def _sum(spectra: Sequence[np.ndarray], members: Sequence[int]) -> np.ndarray:
    acc = np.zeros_like(spectra[members[0]])
    for m in members:
        acc += spectra[m]
    return acc


def _attach_and_merge(
    vectors: Sequence[np.ndarray], spectra: Sequence[np.ndarray], groups: list[list[int]], threshold: float
) -> list[list[int]]:
    multi = [g for g in groups if len(g) > 1]
    singles = [g[0] for g in groups if len(g) == 1]
    prints = [_sum(spectra, g) for g in multi]
    for s in singles:
        best, best_pce = -1, threshold
        for ci, fp in enumerate(prints):
            if vectors[multi[ci][0]].shape != vectors[s].shape:
                continue
            value = _pce_spec(spectra[s], fp, vectors[s].shape)
            if value >= best_pce:
                best, best_pce = ci, value
        if best >= 0:
            multi[best].append(s)
        else:
            multi.append([s])
            prints.append(spectra[s])
    sets = _Sets(len(multi))
    for a in range(len(multi)):
        for b in range(a + 1, len(multi)):
            shape = vectors[multi[a][0]].shape
            both = len(multi[a]) > 1 and len(multi[b]) > 1 and shape == vectors[multi[b][0]].shape
            if both and _pce_spec(prints[a], prints[b], shape) >= threshold:
                sets.union(a, b)
    merged = [sorted(i for gi in grp for i in multi[gi]) for grp in sets.groups()]
    return sorted(merged, key=lambda g: (-len(g), g[0]))


def _spectral_pce(a: np.ndarray, b: np.ndarray, shape: tuple[int, ...]) -> float:
    """Zero-shift PCE from spectra without an inverse FFT (no 11x11 exclusion; see approximate_pce)."""
    size = float(np.prod(shape))
    weight = np.full(a.shape[1], 2.0, dtype=np.float32)
    weight[0] = 1.0
    if shape[1] % 2 == 0:
        weight[-1] = 1.0
    cross = a * np.conj(b)
    peak = float((cross.real * weight).sum(dtype=np.float64)) / size
    energy = float(((np.abs(cross) ** 2) * weight).sum(dtype=np.float64)) / size  # sum over shifts of C^2
    floor = (energy - peak * peak) / (size - 1)
    return float(np.sign(peak) * peak * peak / floor) if floor > 0 else 0.0


def _confidence(
    vectors: Sequence[np.ndarray], spectra: Sequence[np.ndarray], members: list[int]
) -> list[float]:
    """Leave-one-out PCE of each member against the rest of its cluster (spectral form)."""
    if len(members) < 2:
        return [0.0]
    total = _sum(spectra, members)
    return [round(_spectral_pce(spectra[m], total - spectra[m], vectors[m].shape), 1) for m in members]


def adjusted_rand_index(labels_true: Sequence[object], labels_pred: Sequence[object]) -> float:
    """Hubert and Arabie's adjusted Rand index (1 = identical partitions, ~0 = chance)."""
    if len(labels_true) != len(labels_pred):
        raise CameraError("label lists differ in length")
    t_ids = {v: i for i, v in enumerate(dict.fromkeys(labels_true))}
    p_ids = {v: i for i, v in enumerate(dict.fromkeys(labels_pred))}
    table = np.zeros((len(t_ids), len(p_ids)), dtype=np.int64)
    for a, b in zip(labels_true, labels_pred, strict=True):
        table[t_ids[a], p_ids[b]] += 1

    def pairs(x: np.ndarray) -> float:
        return float((x * (x - 1) // 2).sum())

    index = pairs(table)
    rows, cols = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    total = pairs(np.array([len(labels_true)]))
    expected = rows * cols / total if total else 0.0
    maximum = (rows + cols) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)
