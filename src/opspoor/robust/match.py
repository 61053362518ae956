"""opspoor's robust matching: canonical views hashed with PDQ find candidates, ORB verifies them.

Reference side (when media is added to a list): the interchange PDQ of the whole picture, PDQ of
canonical views (border-trimmed, centre crops) and compact ORB features. Query side (every checked
file): PDQ with all 8 dihedral variants of the query's views (whole, trimmed, embedded picture,
centre crops) and ORB features of the trimmed picture and its mirror. A reference whose views
come within CANDIDATE_DISTANCE of any query view is a candidate; the CANDIDATES nearest are
verified with ORB + RANSAC, and the score is the count of geometrically consistent matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import pdqhash

from opspoor.robust import canonical, verify
from opspoor.signals.pdq import reference_resize

# Views are hashed at this size: PDQ filters any input down to 64x64, so an area resize to 128 first
# loses nothing it would keep and makes each view hash cost the same (~0.3 ms) whatever the file size.
VIEW_SIDE = 128
# Views stored per reference, in stored order (robust/signals.py writes them in this order).
# Centre crops are taken of the whole picture and of the trimmed one: a crop of a picture on a flat
# background keeps some background, so it resembles the former; a crop of a padded copy the latter.
# PDQ distance below which closeness adds to the score, PDQ_BONUS_SLOPE points per bit. 44 lies
# between Meta's match threshold (31) and the nearest distinct photos in our corpus over all view
# pairs (~60-70); 2 points per bit lets a copy whose keypoints noise or blur destroyed still score.
PDQ_BONUS_FROM = 44
PDQ_BONUS_SLOPE = 2
REFERENCE_VIEWS = ("trim", "c90", "c80", "c60", "trim.c90", "trim.c80", "trim.c60")


@dataclass(frozen=True)
class ReferenceData:
    """What a list keeps per media item for robust matching (no pixels)."""

    pdq: np.ndarray  # (32,) uint8: the whole-picture PDQ, the interchange signal
    pdq_quality: int
    views: np.ndarray  # (len(REFERENCE_VIEWS), 32) uint8
    features: verify.Features


@dataclass
class QueryData:
    """A checked picture's robust form. Mirrored features are computed only when a candidate needs them."""

    hashes: np.ndarray  # (M, 32) uint8: every view in every dihedral variant, view-major
    trimmed: np.ndarray  # the border-trimmed pixels, kept only while the check runs
    _features: dict[bool, verify.Features] = field(default_factory=dict)

    def features(self, mirrored: bool) -> verify.Features:
        if mirrored not in self._features:
            pixels = np.ascontiguousarray(self.trimmed[:, ::-1]) if mirrored else self.trimmed
            self._features[mirrored] = verify.extract(pixels, verify.QUERY_FEATURES)
        return self._features[mirrored]


def _pdq_bits(pixels: np.ndarray, dihedral: bool, side: int | None = VIEW_SIDE) -> tuple[np.ndarray, int]:
    """Packed PDQ (8 dihedral rows, or one) and quality.

    With `side`, pixels are first area-resized to side x side (PDQ ignores aspect ratio anyway);
    with None, resized as Meta's reference does (the interchange hash).
    """
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    if side is None:
        pixels = reference_resize(pixels)
    else:
        pixels = cv2.resize(pixels, (side, side), interpolation=cv2.INTER_AREA)
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    if dihedral:
        hashes, quality = pdqhash.compute_dihedral(pixels)
        return np.packbits(np.asarray(hashes, dtype=np.uint8), axis=1), int(quality)
    bits, quality = pdqhash.compute(pixels)
    return np.packbits(np.asarray(bits, dtype=np.uint8))[None, :], int(quality)


def _usable(pixels: np.ndarray) -> bool:
    return min(pixels.shape[:2]) >= 16


def _trimmed(rgb: np.ndarray) -> np.ndarray:
    trimmed = canonical.trim_borders(rgb)
    return trimmed if _usable(trimmed) else rgb


def reference_views(rgb: np.ndarray) -> np.ndarray:
    """(len(REFERENCE_VIEWS), 32) packed PDQ of the stored canonical views."""
    trimmed = _trimmed(rgb)
    views = [trimmed]
    views += [canonical.centre_crop(rgb, keep) for keep in canonical.CENTRE_FRACTIONS]
    views += [canonical.centre_crop(trimmed, keep) for keep in canonical.CENTRE_FRACTIONS]
    return np.concatenate([_pdq_bits(v, dihedral=False)[0] for v in views])


def reference_features(rgb: np.ndarray) -> verify.Features:
    return verify.extract(_trimmed(rgb), verify.REFERENCE_FEATURES)


def reference_data(rgb: np.ndarray) -> ReferenceData:
    pdq, quality = _pdq_bits(rgb, dihedral=False, side=None)
    return ReferenceData(pdq[0], quality, reference_views(rgb), reference_features(rgb))


def query_views(rgb: np.ndarray) -> list[np.ndarray]:
    """Whole, border-trimmed, centre crops and the embedded picture (if the query looks like a page)."""
    trimmed = _trimmed(rgb)
    views = [rgb, trimmed, canonical.centre_crop(trimmed, 0.9), canonical.centre_crop(trimmed, 0.8)]
    box = canonical.embedded_box(trimmed)
    if box is not None:
        inner = canonical.trim_borders(box.cut(trimmed))
        if _usable(inner):
            views.append(inner)
    return views


def query_data(rgb: np.ndarray) -> QueryData:
    views = query_views(rgb)
    hashes = np.concatenate([_pdq_bits(v, dihedral=True)[0] for v in views])
    return QueryData(hashes=hashes, trimmed=views[1])


def is_mirror(hash_row: int) -> bool:
    """Whether row `hash_row` of QueryData.hashes is a mirrored dihedral variant (flipx, flipy, flip+-1)."""
    return hash_row % 8 >= 4


def combined_score(distance: int, inliers: int) -> int:
    """One number for the sweep: verified matches plus PDQ closeness below PDQ_BONUS_FROM.

    Verification alone fails where noise or blur wipes out keypoints; PDQ alone fails on geometry.
    A copy scores on one or both, a different photo on neither.
    """
    return inliers + PDQ_BONUS_SLOPE * max(0, PDQ_BONUS_FROM - distance)
