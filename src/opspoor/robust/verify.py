"""Local-feature verification: do two pictures share a scene under some affine map?

PDQ compares global structure, so a rotation by a few degrees or a heavy crop can push a true copy
past any threshold that is safe against look-alikes. ORB keypoints (rotation-invariant binary
descriptors, OpenCV) matched with Lowe's ratio test and filtered by a RANSAC affine fit survive
crops, padding, rotation, rescaling and stretching; two different photos rarely share more than a
handful of geometrically consistent matches.

Lists store no images, so a reference's keypoints are computed when it is added and stored as a
compact signal (see `pack`/`unpack`): REFERENCE_FEATURES keypoints of 32-byte descriptors and
two uint16 coordinates each.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass

import cv2
import numpy as np

from opspoor.errors import OpspoorError

# Pictures are brought to this longer side before detection, so stored and checked features share
# a scale range and cost is bounded whatever the file's size.
WORK_SIDE = 400
REFERENCE_FEATURES = 128
QUERY_FEATURES = 500
# Fewest verified points that alone make a match (used where no PDQ evidence is combined with them,
# e.g. the ORB signal's own distance); set with search.SCORE_THRESHOLD on the benchmark.
MIN_INLIERS = 50
# Lowe's ratio test (Lowe 2004 uses 0.8 for SIFT; binary descriptors are noisier, so a little stricter).
RATIO = 0.8
# RANSAC reprojection tolerance, in pixels at WORK_SIDE (about 1% of the side).
REPROJECTION_PX = 4.0
# Largest ratio of the affine map's singular values: a picture squeezed into a slot of another
# aspect ratio (our aspect1.4 alteration) is 1.4; 1.8 leaves room for that plus rotation.
MAX_STRETCH = 1.8
_PACK_VERSION = 1
_HEADER = struct.Struct("<BHHH")  # version, width, height, count


class FeatureError(OpspoorError, ValueError):
    """A stored feature signal that cannot be read."""


@dataclass(frozen=True)
class Features:
    points: np.ndarray  # (N, 2) float32, pixel coordinates at the working size
    descriptors: np.ndarray  # (N, 32) uint8 ORB descriptors
    width: int  # working size the points refer to
    height: int

    def __len__(self) -> int:
        return len(self.points)


def working_grey(rgb: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    h, w = grey.shape
    scale = WORK_SIDE / max(h, w)
    # Up as well as down: ORB's 31-pixel patches need room, and a half-size copy of a small
    # picture should meet its original at the same working size.
    method = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    return cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=method)


def extract(rgb: np.ndarray, count: int) -> Features:
    """The `count` strongest ORB keypoints of the picture at working size."""
    grey = working_grey(rgb)
    # A finer pyramid (1.2, 8 levels: OpenCV's defaults) and a low FAST threshold so flat pictures
    # still yield keypoints; edgeThreshold stays small because pictures here are small.
    orb = cv2.ORB_create(  # type: ignore[attr-defined]  # missing from OpenCV's stubs
        nfeatures=count, scaleFactor=1.2, nlevels=8, edgeThreshold=15, patchSize=31, fastThreshold=10
    )
    keypoints, descriptors = orb.detectAndCompute(grey, None)
    if descriptors is None or not keypoints:
        empty = np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
        return Features(*empty, grey.shape[1], grey.shape[0])
    points = np.array([kp.pt for kp in keypoints], dtype=np.float32)
    return Features(points, descriptors, grey.shape[1], grey.shape[0])


def inliers(query: Features, reference: Features) -> int:
    """Matches between the two that one affine map (no mirror) explains; 0 where none does."""
    if len(query) < 2 or len(reference) < 4:
        return 0
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(reference.descriptors, query.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < 6:
        return 0
    src = reference.points[[m.queryIdx for m in good]]
    dst = query.points[[m.trainIdx for m in good]]
    matrix, mask = cv2.estimateAffine2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=REPROJECTION_PX, maxIters=500, confidence=0.99
    )
    if matrix is None or mask is None:
        return 0
    linear = matrix[:, :2]
    det = float(np.linalg.det(linear))
    # A mirrored or collapsed map is not a copy (mirrors are checked with mirrored query features),
    # nor one scaling by more than 6x or stretching one axis more than MAX_STRETCH times the other:
    # random matches between different photos fit such skewed maps far more often than sane ones.
    singular = np.linalg.svd(linear, compute_uv=False)
    if det <= 0 or not 1 / 6 <= np.sqrt(det) <= 6 or singular[0] > MAX_STRETCH * singular[1]:
        return 0
    return int(mask.sum())


def pack(features: Features) -> str:
    """Compact text form for a list entry: base64 of header, uint16 points, descriptors."""
    count = len(features)
    head = _HEADER.pack(_PACK_VERSION, features.width, features.height, count)
    points = np.clip(np.round(features.points * 8), 0, 65535).astype("<u2")  # 1/8 px steps
    raw = head + points.tobytes() + np.ascontiguousarray(features.descriptors, dtype=np.uint8).tobytes()
    return base64.b64encode(raw).decode("ascii")


def unpack(text: str) -> Features:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        version, width, height, count = _HEADER.unpack_from(raw)
    except (ValueError, struct.error) as exc:
        raise FeatureError(f"not a packed feature signal: {exc}") from None
    if version != _PACK_VERSION:
        raise FeatureError(f"feature signal version {version} is not supported (expected {_PACK_VERSION})")
    expected = _HEADER.size + count * (4 + 32)
    if len(raw) != expected or width == 0 or height == 0:
        raise FeatureError(f"feature signal has {len(raw)} bytes, expected {expected} for {count} points")
    offset = _HEADER.size
    points = np.frombuffer(raw, "<u2", count * 2, offset).reshape(count, 2).astype(np.float32) / 8
    descriptors = np.frombuffer(raw, np.uint8, count * 32, offset + count * 4).reshape(count, 32).copy()
    return Features(points, descriptors, width, height)
