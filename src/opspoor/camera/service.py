"""Camera forensics as the CLI and a case file see it: enrol, match, compare.

Matching many cameras: for each query, same-size cameras are ranked by their digest score (strongest
fingerprint pixels, see digest.py) and only the SHORTLIST best go to the full PCE search; cameras
of other sizes (the query may be cropped or resized) always get the full search. With
`use_digests=False` every camera gets the full search. Every decision rests on full PCE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from opspoor.camera import registry
from opspoor.camera.digest import digest_score
from opspoor.camera.errors import CameraError, ShapeMismatch
from opspoor.camera.fingerprint import FingerprintBuilder
from opspoor.camera.media import CameraInfo, is_video, load_photo
from opspoor.camera.pce import PCE_THRESHOLD
from opspoor.camera.residual import QueryResidual, ResidualParams, query_residual
from opspoor.camera.search import Attempt, SearchPolicy, search
from opspoor.camera.video import STABILISATION_NOTE, video_fingerprint
from opspoor.store.camera import SOURCE_FLAT, SOURCE_NATURAL, SOURCE_VIDEO, CameraDevice

# Same-size cameras whose digest score ranks within this many go on to full PCE.
SHORTLIST = 10
DECISION_MATCH = "match"
DECISION_NONE = "no-match"
STATUS_SEARCHED = "searched"
STATUS_PREFILTERED = "prefiltered-out"
STATUS_INCOMPATIBLE = "incompatible-size"


@dataclass(frozen=True)
class Candidate:
    camera: str
    pce: float | None  # None: see `status`
    attempt: Attempt | None
    digest_z: float | None

    @property
    def status(self) -> str:
        """searched | prefiltered-out (digest score outside the shortlist) | incompatible-size
        (the query is larger than the sensor frame at every scale: no geometry to test)."""
        if self.attempt is None:
            return STATUS_PREFILTERED
        return STATUS_SEARCHED if self.attempt.tries else STATUS_INCOMPATIBLE

    def as_dict(self) -> dict[str, object]:
        a = self.attempt
        return {
            "status": self.status,
            "camera": self.camera,
            "pce": None if self.pce is None else round(self.pce, 2),
            "digest_z": None
            if self.digest_z is None or not np.isfinite(self.digest_z)
            else round(self.digest_z, 2),
            "rotation": a.rotation if a else None,
            "scale": round(a.scale, 4) if a else None,
            "offset": [a.dy, a.dx] if a else None,
            "positions": a.positions if a else 0,
        }


@dataclass(frozen=True)
class MatchResult:
    path: str
    camera: str | None
    pce: float
    decision: str
    threshold: float
    candidates: list[Candidate]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "camera": self.camera,
            "pce": round(self.pce, 2),
            "decision": self.decision,
            "threshold": self.threshold,
            "candidates": [c.as_dict() for c in self.candidates],
            "notes": self.notes,
        }


def enroll(
    session: Session,
    name: str,
    paths: list[Path],
    *,
    flat_field: bool = False,
    case_ref: str | None = None,
    item_ref: str | None = None,
    params: ResidualParams = ResidualParams(),
) -> CameraDevice:
    """Estimate a fingerprint from photos (all the same size) or from one video, and store it."""
    if not paths:
        raise CameraError("enrolment needs at least one photo or video")
    videos = [p for p in paths if is_video(p)]
    if videos:
        if len(paths) != 1:
            raise CameraError("enrol a video on its own (one video per camera enrolment)")
        k, count = video_fingerprint(videos[0], params)
        enrolment = registry.Enrolment(name, SOURCE_VIDEO, count, CameraInfo(), case_ref, item_ref)
        return registry.save(session, enrolment, k, params)
    builder: FingerprintBuilder | None = None
    info = CameraInfo()
    for path in paths:
        photo = load_photo(path)
        if builder is None:
            builder = FingerprintBuilder((int(photo.pixels.shape[0]), int(photo.pixels.shape[1])), params)
        if photo.pixels.shape[:2] != builder.shape:
            raise ShapeMismatch(
                f"{path} is {photo.pixels.shape[1]}x{photo.pixels.shape[0]} but the first photo is "
                f"{builder.shape[1]}x{builder.shape[0]}: enrol photos of one size, as the sensor wrote them"
            )
        if info.make is None and photo.info.make is not None:
            info = photo.info
        builder.add(photo.pixels)
    assert builder is not None
    source = SOURCE_FLAT if flat_field else SOURCE_NATURAL
    enrolment = registry.Enrolment(name, source, builder.count, info, case_ref, item_ref)
    return registry.save(session, enrolment, builder.build(), params)


def query_of(path: Path, params: ResidualParams = ResidualParams()) -> tuple[QueryResidual, list[str]]:
    """A query residual for a photo, or for a video (its fingerprint stands in as the residual)."""
    if is_video(path):
        k, _ = video_fingerprint(path, params)
        return QueryResidual(k, np.ones_like(k)), [STABILISATION_NOTE]
    return query_residual(load_photo(path).pixels, params), []


def rank(
    query: QueryResidual,
    cameras: list[registry.LoadedCamera],
    *,
    policy: SearchPolicy = SearchPolicy(),
    use_digests: bool = True,
) -> list[Candidate]:
    """Every camera scored against the query, best PCE first (unsearched cameras last)."""
    z = query.weighted() if use_digests else None
    scores: dict[str, float] = {}
    if z is not None:
        for cam in cameras:
            scores[cam.name] = digest_score(z, cam.digest)
    same = sorted(
        (c for c in cameras if np.isfinite(scores.get(c.name, -np.inf))), key=lambda c: -scores[c.name]
    )
    shortlisted = {c.name for c in same[:SHORTLIST]} if use_digests else {c.name for c in cameras}
    out: list[Candidate] = []
    for cam in cameras:
        z_score = scores.get(cam.name)
        searched = cam.name in shortlisted or z_score is None or not np.isfinite(z_score)
        if searched:
            attempt = search(query, cam.k, policy)
            out.append(Candidate(cam.name, attempt.pce if attempt.tries else None, attempt, z_score))
        else:
            out.append(Candidate(cam.name, None, None, z_score))
    return sorted(out, key=lambda c: (c.pce is None, -(c.pce or 0.0)))


def decide(path: str, candidates: list[Candidate], threshold: float, notes: list[str]) -> MatchResult:
    best = next((c for c in candidates if c.pce is not None), None)
    pce = best.pce if best is not None and best.pce is not None else 0.0
    hit = best is not None and pce >= threshold
    return MatchResult(
        path,
        best.camera if hit and best else None,
        pce,
        DECISION_MATCH if hit else DECISION_NONE,
        threshold,
        candidates,
        notes,
    )


def match_file(
    path: Path,
    cameras: list[registry.LoadedCamera],
    *,
    threshold: float = PCE_THRESHOLD,
    policy: SearchPolicy = SearchPolicy(),
    use_digests: bool = True,
) -> MatchResult:
    query, notes = query_of(path)
    return decide(str(path), rank(query, cameras, policy=policy, use_digests=use_digests), threshold, notes)


def compare(path_a: Path, path_b: Path, policy: SearchPolicy = SearchPolicy()) -> tuple[Attempt, list[str]]:
    """PCE between two media files: B's residual (or video fingerprint) plays the fingerprint."""
    qa, notes_a = query_of(path_a)
    qb, notes_b = query_of(path_b)
    ref = qb.weighted()
    if qa.shape[0] * qa.shape[1] > ref.size:  # search the smaller inside the larger
        qa, ref = qb, qa.weighted()
    return search(qa, ref, policy), sorted(set(notes_a + notes_b))
