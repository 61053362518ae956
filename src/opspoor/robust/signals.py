"""opspoor's own signal types for robust matching, stored with list entries beside the plain PDQ.

A media item added to a list from its pixels gets three entries sharing one item_key:
- `pdq`: the whole-picture PDQ, the interchange signal other tools (HMA, ThreatExchange) read;
- `opspoor_pdq_views` (PDQ_VIEWS): PDQ of the canonical views in match.REFERENCE_VIEWS order,
  "v1:" followed by 64 hex digits per view;
- `opspoor_orb` (ORB_FEATURES): the packed ORB keypoints verify.pack writes.
Lists imported as bare hashes have only `pdq` and keep plain PDQ matching.

Call `register_robust_signals()` once before parsing list entries of these types.
"""

from __future__ import annotations

import re

import numpy as np

from opspoor.media.image import DecodedImage
from opspoor.robust import match, verify
from opspoor.signals.base import ImageHasher, InvalidSignalValue, SignalValue
from opspoor.signals.pdq import PDQ_MATCH_THRESHOLD
from opspoor.signals.registry import register

# Stored names: written into lists and databases, never derived from class names.
PDQ_VIEWS = "opspoor_pdq_views"
ORB_FEATURES = "opspoor_orb"
_VIEWS_PREFIX = "v1:"
_VIEWS = re.compile(r"v1:(?:[0-9a-f]{64}){" + str(len(match.REFERENCE_VIEWS)) + "}")


def views_to_text(views: np.ndarray) -> str:
    return _VIEWS_PREFIX + np.ascontiguousarray(views, dtype=np.uint8).tobytes().hex()


def views_from_text(text: str) -> np.ndarray:
    value = text.strip().lower()
    if not _VIEWS.fullmatch(value):
        raise InvalidSignalValue(
            f"{PDQ_VIEWS} must be 'v1:' and {len(match.REFERENCE_VIEWS)} PDQ hashes of 64 hex digits, "
            f"got {text.strip()[:80]!r}"
        )
    return np.frombuffer(bytes.fromhex(value[len(_VIEWS_PREFIX) :]), np.uint8).reshape(-1, 32).copy()


class PDQViews(ImageHasher):
    name = PDQ_VIEWS
    content_types = frozenset({"photo"})
    exact = False
    default_threshold = PDQ_MATCH_THRESHOLD

    def parse(self, text: str) -> str:
        return views_to_text(views_from_text(text))

    def distance(self, a: str, b: str) -> int:
        """Smallest Hamming distance between any view of `a` and any view of `b`."""
        va, vb = views_from_text(a).view("<u8"), views_from_text(b).view("<u8")
        return int(np.bitwise_count(va[:, None, :] ^ vb[None]).sum(axis=2).min())

    def from_image(self, image: DecodedImage) -> SignalValue:
        return SignalValue(self.name, views_to_text(match.reference_views(image.rgb())))


class ORBFeatures(ImageHasher):
    name = ORB_FEATURES
    content_types = frozenset({"photo"})
    exact = False
    # distance = REFERENCE_FEATURES - inliers, so a match is at least MIN_INLIERS verified points.
    default_threshold = verify.REFERENCE_FEATURES - verify.MIN_INLIERS

    def parse(self, text: str) -> str:
        try:
            return verify.pack(verify.unpack(text.strip()))
        except verify.FeatureError as exc:
            raise InvalidSignalValue(str(exc)) from None

    def distance(self, a: str, b: str) -> int:
        found = max(verify.inliers(verify.unpack(a), verify.unpack(b)), 0)
        return max(0, verify.REFERENCE_FEATURES - found)

    def from_image(self, image: DecodedImage) -> SignalValue:
        return SignalValue(self.name, verify.pack(match.reference_features(image.rgb())))


def register_robust_signals() -> None:
    """Add both types to opspoor.signals.registry (idempotent)."""
    register(PDQViews())
    register(ORBFeatures())


def robust_signals_for_reference(image: DecodedImage) -> list[SignalValue]:
    """What a list stores for one media item, all under the item's item_key: pdq, views, features."""
    data = match.reference_data(image.rgb())
    pdq = SignalValue("pdq", bytes(data.pdq).hex(), data.pdq_quality)
    return [
        pdq,
        SignalValue(PDQ_VIEWS, views_to_text(data.views)),
        SignalValue(ORB_FEATURES, verify.pack(data.features)),
    ]


def robust_query_signals(image: DecodedImage) -> match.QueryData:
    """A checked picture's robust form (view hashes; ORB features on demand). Held in memory only."""
    return match.query_data(image.rgb())


def verify_entry(query: match.QueryData, orb: str, mirrored: bool = False) -> int:
    """Verified ORB matches between a checked picture and a stored opspoor_orb entry."""
    return verify.inliers(query.features(mirrored), verify.unpack(orb))
