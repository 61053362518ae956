"""Triage of files: hash on all cores, match in this process, one record per file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opspoor.matching.engine import Matcher
from opspoor.matching.results import Match, VerdictName
from opspoor.signals.compute import FileSignals


@dataclass
class FileResult:
    path: str
    verdict: VerdictName
    matches: list[Match] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    signals: FileSignals | None = None
    video_matches: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The `opspoor check --json` contract: path, verdict, matches, error (+ compatible extras)."""
        out: dict[str, Any] = {
            "path": self.path,
            "verdict": self.verdict,
            "matches": [
                {
                    "list": m.list,
                    "signal": m.signal,
                    "distance": m.distance,
                    "classification": m.classification,
                    "value": m.value,
                    "quality": m.quality,
                    "variant": m.variant,
                    "source_ref": m.source_ref,
                    "score": m.score,
                }
                for m in self.matches
            ],
            "error": self.error,
            "notes": self.notes,
        }
        if self.signals is not None and self.signals.kind == "video":
            out["kind"] = "video"
            out["video"] = self.signals.extra.get("video")
            out["video_matches"] = self.video_matches
        if self.signals is not None:
            out["sha256"] = self.signals.sha256
            out["pdq"] = self.signals.pdq
            out["pdq_quality"] = self.signals.pdq_quality
        return out


def hash_for_check(path: Path, robust: bool = False) -> tuple[str, FileSignals | None, str | None]:
    """Worker: read and hash one file (with dihedral PDQ variants, and the robust form of a picture
    where the lists have robust signals); never raises for bad input."""
    from opspoor.media.errors import MediaError
    from opspoor.media.image import read_limited
    from opspoor.signals.compute import check_signals

    try:
        data = read_limited(path)
    except MediaError as exc:
        return str(path), None, str(exc)
    signals = check_signals(data, robust=robust)
    return str(path), signals, signals.error


def triage(
    hashed: Iterator[tuple[str, FileSignals | None, str | None]],
    matcher: Matcher,
    *,
    threshold: int | None = None,
    lists: Sequence[str] | None = None,
) -> Iterator[FileResult]:
    """Verdicts for hashed files. A file that could not be read at all gets verdict 'error'; one that
    was read but not decoded is still checked by its cryptographic hashes."""
    wanted = set(lists) if lists else None
    for path, signals, error in hashed:
        if signals is None:
            yield FileResult(path, "error", error=error)
            continue
        verdict = matcher.match_file(signals, threshold=threshold, lists=wanted)
        yield FileResult(
            path, verdict.verdict, verdict.matches, error, verdict.notes, signals, verdict.video_matches
        )
