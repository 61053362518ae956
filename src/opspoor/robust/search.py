"""Find and verify robust matches of one checked picture among many references.

Candidates come from PDQ distances between every query view (in all dihedral variants) and every
stored reference view, found with FAISS' exact flat binary scan: candidates lie up to 110 bits
away, far past the radius where opspoor.index.pdq.PDQIndex's multi-index tables prune anything.
A scan costs ~1 ms per 10,000 references on one core. The CANDIDATES nearest references within
CANDIDATE_DISTANCE are verified with ORB (robust/verify.py) and scored (match.combined_score),
nearest first, until one matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from opspoor.robust import match, verify

# Verify at most this many references per check: the true source is the nearest by view distance
# in >99% of altered copies in our benchmark, and each verification costs ~2-3 ms.
CANDIDATES = 5
# Farther than this in every view pair, a reference is not even a candidate (random 256-bit hashes
# sit near 128; rotated and heavily cropped copies of a source reach ~100).
CANDIDATE_DISTANCE = 110
# The operating threshold on match.combined_score. Set to 40 on a development subset (300 photos,
# where photos of two different dollar bills verified with 23 points), raised to 50 after the
# full-corpus check of all pairs of distinct photos: different bills of one design, two watch
# models in one product-shot layout and two anchor clip-arts scored 41-49. See docs/robustness.md.
SCORE_THRESHOLD = 50
# PDQ closeness alone at least this high (distance <= 16) is accepted without verification.
ACCEPT_UNVERIFIED = 56
NEAREST_ROWS = 64  # stored views fetched per query hash (8 per reference, so >= 8 references)


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
        self._flat: Any = None  # faiss.IndexBinaryFlat over every stored view hash
        self._row_item: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, item: int, reference: match.ReferenceData) -> None:
        self._ids.append(item)
        self._rows.append(np.concatenate([reference.pdq[None, :], reference.views]))
        self._features[item] = reference.features
        self._flat = None

    def add_entry(self, item: int, pdq: str, views: str, orb: str) -> None:
        """Add a list item from its stored entries (pdq hex, opspoor_pdq_views, opspoor_orb text)."""
        from opspoor.robust.signals import views_from_text

        pdq_bits = np.frombuffer(bytes.fromhex(pdq), np.uint8)
        self.add(item, match.ReferenceData(pdq_bits, 0, views_from_text(views), verify.unpack(orb)))

    def _compiled(self) -> tuple[Any, np.ndarray]:
        if self._flat is None or self._row_item is None:
            import faiss

            # One thread: a check is one small scan, and OpenMP workers spinning on a busy machine
            # cost far more than they save (25 ms against 1 ms measured with 2 cores shared).
            faiss.omp_set_num_threads(1)
            self._flat = faiss.IndexBinaryFlat(256)
            per_item = np.array([len(r) for r in self._rows], dtype=np.int64)
            if self._rows:
                self._flat.add(np.ascontiguousarray(np.concatenate(self._rows)))
            self._row_item = np.repeat(np.arange(len(self._rows)), per_item)
        return self._flat, self._row_item

    def candidates(self, query: match.QueryData, exclude: int | None = None) -> list[tuple[int, int, bool]]:
        """(position, distance, mirrored) of the nearest references within CANDIDATE_DISTANCE.

        Exact Hamming distances (FAISS' flat binary index: a SIMD popcount scan); the nearest
        NEAREST_ROWS stored views per query hash are enough to rank the CANDIDATES nearest items.
        """
        flat, row_item = self._compiled()
        if flat.ntotal == 0:
            return []
        q = np.ascontiguousarray(query.hashes, dtype=np.uint8)
        distances, rows = flat.search(q, min(NEAREST_ROWS, flat.ntotal))
        best: dict[int, tuple[int, int]] = {}  # item position -> (distance, query hash row)
        for qi in range(len(q)):
            for distance, row in zip(distances[qi].tolist(), rows[qi].tolist(), strict=True):
                if row < 0 or distance > CANDIDATE_DISTANCE:
                    break
                pos = int(row_item[row])
                if self._ids[pos] == exclude:
                    continue
                if pos not in best or distance < best[pos][0]:
                    best[pos] = (distance, qi)
        ranked = sorted(best.items(), key=lambda kv: (kv[1][0], kv[0]))[:CANDIDATES]
        return [(pos, d, match.is_mirror(qi)) for pos, (d, qi) in ranked]

    def search(self, query: match.QueryData, exclude: int | None = None) -> list[RobustMatch]:
        """Candidates nearest first, until one is a match; the match is last in the list.

        A candidate whose PDQ closeness alone reaches ACCEPT_UNVERIFIED is accepted unverified (the
        cheap prefilter decides; inliers -1); the others are verified with ORB. The search stops at
        the first match, as a check needs one piece of evidence, not all of them. `exclude` leaves
        one item out (a photo checked against the others of its own corpus).
        """
        found = []
        for pos, distance, mirrored in self.candidates(query, exclude):
            item = self._ids[pos]
            inliers = -1
            if match.combined_score(distance, 0) < ACCEPT_UNVERIFIED:
                inliers = verify.inliers(query.features(mirrored), self._features[item])
            result = RobustMatch(item, distance, inliers, match.combined_score(distance, max(inliers, 0)))
            found.append(result)
            if result.is_match:
                break
        return found
