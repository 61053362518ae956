"""What a match and a verdict carry: enough evidence for an analyst to judge a possible false match."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

VerdictName = Literal["known", "near", "unknown", "error"]


@dataclass(frozen=True)
class Match:
    list: str  # the list's name
    signal: str  # the signal type that matched (md5, sha256, pdq, ...)
    value: str  # the list entry's value
    distance: int  # 0 for exact signals; Hamming distance for PDQ
    classification: str | None
    quality: int | None  # the query's hash quality where the signal has one
    entry_id: int
    source_ref: str | None = None
    variant: str | None = None  # the dihedral variant of the query that matched (rotate90, flipx, ...)
    score: int | None = None  # robust matching only: verified ORB inliers plus PDQ closeness (>= 50)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Verdict:
    verdict: VerdictName
    matches: list[Match] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. why a perceptual hash was not matched
    # Videos: every full or partial match with its segments (times in both videos), as JSON.
    video_matches: list[dict[str, Any]] = field(default_factory=list)
