"""Find and verify robust matches of one checked picture among many references.

Candidates come from PDQ distances between every query view (in all dihedral variants) and every
stored reference view. Until opspoor.index.pdq.PDQIndex is wired in, this is an exact brute-force
scan with NumPy popcount (same semantics: exact Hamming distances); it handles tens of thousands
of references per check. The CANDIDATES nearest references within CANDIDATE_DISTANCE are verified
with ORB (robust/verify.py) and scored (match.combined_score).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from opspoor.robust import match, verify

# Verify at most this many references per check: the true source is the nearest by view distance
# in >99% of altered copies in our benchmark, and each verification costs ~2-3 ms.
CANDIDATES = 5
# Farther than this in every view pair, a reference is not even a candidate (random 256-bit hashes
# sit near 128; rotated and heavily cropped copies of a source reach ~100).
CANDIDATE_DISTANCE = 110
# The operating threshold on match.combined_score, set on a development subset (200 photos) and
# confirmed on the whole corpus; see docs/robustness.md.
SCORE_THRESHOLD = 20
_BLOCK = 16384  # reference rows per distance block


@dataclass(frozen=True)
class RobustMatch:
    item: int  # the reference's id as given to RobustIndex.add
    distance: int  # smallest PDQ distance over all view pairs (and dihedral variants)
    inliers: int  # ORB matches one affine map explains
    score: int  # match.combined_score(distance, inliers)

    @property
    def is_match(self) -> bool:
        return self.score >= SCORE_THRESHOLD


class RobustIndex:
    """References' view hashes and features, searchable by a QueryData."""

    def __init__(self) -> None:
        self._ids: list[int] = []
        self._rows: list[np.ndarray] = []
        self._features: dict[int, verify.Features] = {}
        self._matrix: np.ndarray | None = None
        self._row_item: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, item: int, reference: match.ReferenceData) -> None:
        self._ids.append(item)
        self._rows.append(np.concatenate([reference.pdq[None, :], reference.views]))
        self._features[item] = reference.features
        self._matrix = None

    def _compiled(self) -> tuple[np.ndarray, np.ndarray]:
        if self._matrix is None or self._row_item is None:
            if self._rows:
                rows = np.concatenate(self._rows)
                per_item = np.array([len(r) for r in self._rows])
            else:
                rows, per_item = np.zeros((0, 32), np.uint8), np.zeros(0, int)
            self._matrix = np.ascontiguousarray(rows).view("<u8")
            self._row_item = np.repeat(np.arange(len(self._rows)), per_item)
        return self._matrix, self._row_item

    def candidates(self, query: match.QueryData) -> list[tuple[int, int, bool]]:
        """(position, distance, mirrored) of the nearest references within CANDIDATE_DISTANCE."""
        matrix, row_item = self._compiled()
        if not len(matrix):
            return []
        q = np.ascontiguousarray(query.hashes).view("<u8")
        best = np.empty(len(matrix), np.int32)
        best_q = np.empty(len(matrix), np.int32)
        for start in range(0, len(matrix), _BLOCK):  # blocks keep memory bounded for big lists
            block = matrix[start : start + _BLOCK]
            d = np.bitwise_count(q[:, None, :] ^ block[None]).sum(axis=2, dtype=np.int32)
            best_q[start : start + len(block)] = d.argmin(axis=0)
            best[start : start + len(block)] = d.min(axis=0)
        item_best = np.full(len(self._rows), 257, np.int32)
        np.minimum.at(item_best, row_item, best)
        order = np.argsort(item_best, kind="stable")[:CANDIDATES]
        out = []
        for pos in order:
            distance = int(item_best[pos])
            if distance > CANDIDATE_DISTANCE:
                break
            rows = np.flatnonzero((row_item == pos) & (best == distance))
            out.append((int(pos), distance, match.is_mirror(int(best_q[rows[0]]))))
        return out

    def search(self, query: match.QueryData) -> list[RobustMatch]:
        """Verified candidates, best score first."""
        found = []
        for pos, distance, mirrored in self.candidates(query):
            item = self._ids[pos]
            inliers = verify.inliers(query.features(mirrored), self._features[item])
            found.append(RobustMatch(item, distance, inliers, match.combined_score(distance, inliers)))
        return sorted(found, key=lambda m: -m.score)
