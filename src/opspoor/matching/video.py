"""Match a video's frame hashes against the videos of the lists, and find which parts match.

The rule is the vPDQ reference's (vpdq README "Comparison (Matching) Algorithm";
python-threatexchange `VPDQIndex.query`): frames under the quality floor are ignored, exact duplicate
hashes count once, a frame matches when a frame of the other video is within 31 bits, and a list
video matches when at least 80% of the query's frames are found in it (`query_percent`) and at least
0% of its own frames are found in the query (`target_percent`). Both are configurable: a higher
`target_percent` excludes list videos of which the query shows only a small part.

Like the reference's FAISS path, frames are looked up in a PDQ index (opspoor.index.pdq.PDQIndex
when present, else a brute-force numpy index with the same interface), so a list of a million videos
needs no comparison of every pair of videos: only videos that share at least one frame are counted.

Beyond the reference, each match carries its segments: time ranges of the query and of the list
video that show the same frames at a constant time offset. A list video that falls short of the
percentages but shares a segment of at least `partial_seconds` is reported as a "partial" match,
so an analyst sees the shared scene (e.g. a clip re-used inside a longer, different video).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import numpy as np

from opspoor.signals.vpdq import (
    FRAME_MATCH_DISTANCE,
    FRAME_MIN_QUALITY,
    QUERY_MATCH_PERCENT,
    TARGET_MATCH_PERCENT,
    VPDQ,
    VpdqFeature,
    distance_matrix,
    hashes_to_array,
)

VideoVerdictName = Literal["match", "partial"]
_MAX_SEGMENTS = 8
_PAIRS_PER_FRAME = 8  # closest list frames kept per query frame and video; static scenes match many


class FrameIndex(Protocol):
    """What VideoMatcher needs of opspoor.index.pdq.PDQIndex."""

    def add(self, ids: np.ndarray, hashes: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> int: ...

    def search(self, queries: np.ndarray, threshold: int = 31) -> list[tuple[np.ndarray, np.ndarray]]: ...

    def __len__(self) -> int: ...


class BruteForceIndex:
    """Exact Hamming search by full comparison; the fallback until a PDQ index is available."""

    def __init__(self) -> None:
        self._ids = np.zeros(0, dtype=np.int64)
        self._hashes = np.zeros((0, 32), dtype=np.uint8)

    def add(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        self._ids = np.concatenate([self._ids, np.asarray(ids, dtype=np.int64)])
        self._hashes = np.concatenate([self._hashes, np.asarray(hashes, dtype=np.uint8).reshape(-1, 32)])

    def remove(self, ids: np.ndarray) -> int:
        keep = ~np.isin(self._ids, np.asarray(ids, dtype=np.int64))
        removed = int((~keep).sum())
        self._ids, self._hashes = self._ids[keep], self._hashes[keep]
        return removed

    def search(self, queries: np.ndarray, threshold: int = 31) -> list[tuple[np.ndarray, np.ndarray]]:
        out: list[tuple[np.ndarray, np.ndarray]] = []
        for start in range(0, len(queries), 256):  # bounded memory: 256 x N distances at a time
            dist = distance_matrix(queries[start : start + 256], self._hashes)
            for row in dist:
                hit = np.flatnonzero(row <= threshold)
                out.append((self._ids[hit], row[hit].astype(np.int32)))
        return out

    def __len__(self) -> int:
        return len(self._ids)


def default_index() -> FrameIndex:
    """The project's PDQ index (opspoor.index.pdq): exact search without scanning every list frame."""
    from opspoor.index.pdq import PDQIndex

    return PDQIndex()


@dataclass(frozen=True)
class VideoRule:
    max_distance: int = FRAME_MATCH_DISTANCE
    min_quality: int = FRAME_MIN_QUALITY
    query_percent: float = QUERY_MATCH_PERCENT
    target_percent: float = TARGET_MATCH_PERCENT
    # A shared scene this long makes a partial match (3 s: long enough that chance frame matches
    # at a constant offset do not occur on the benign test set, short enough for a re-used scene).
    partial_seconds: float = 3.0


@dataclass(frozen=True)
class ListVideo:
    """One video of a list: its frames and what a match must report about it (a matcher keeps a
    copy without the frames, which it holds as arrays)."""

    key: str  # the vPDQ digest (the list entry's value) or any unique name
    features: Sequence[VpdqFeature]
    signal: str = VPDQ
    entry_id: int | None = None
    list_name: str | None = None
    classification: str | None = None
    source_ref: str | None = None
    item_key: str | None = None


@dataclass(frozen=True)
class Segment:
    """Matching time ranges (seconds) in the query and the list video."""

    query_start: float
    query_end: float
    target_start: float
    target_end: float
    frames: int  # query frames in the segment that matched
    mean_distance: float

    @property
    def seconds(self) -> float:
        return self.query_end - self.query_start


@dataclass(frozen=True)
class VideoMatch:
    video: ListVideo
    verdict: VideoVerdictName
    query_percent: float
    target_percent: float
    segments: list[Segment] = field(default_factory=list)
    min_distance: int = 0

    def as_dict(self) -> dict[str, Any]:
        v = self.video
        return {
            "verdict": self.verdict,
            "signal": v.signal,
            "key": v.key,
            "list": v.list_name,
            "entry_id": v.entry_id,
            "item_key": v.item_key,
            "classification": v.classification,
            "source_ref": v.source_ref,
            "query_percent": round(self.query_percent, 2),
            "target_percent": round(self.target_percent, 2),
            "min_distance": self.min_distance,
            "segments": [
                {
                    "query_start": round(s.query_start, 3),
                    "query_end": round(s.query_end, 3),
                    "target_start": round(s.target_start, 3),
                    "target_end": round(s.target_end, 3),
                    "frames": s.frames,
                    "mean_distance": round(s.mean_distance, 2),
                }
                for s in self.segments
            ],
        }


@dataclass(frozen=True)
class _Times:
    """Start and end (the last merged frame) of each frame, in seconds: arrays, not objects, so a
    matcher over millions of list frames stays within memory."""

    starts: np.ndarray
    lasts: np.ndarray

    @classmethod
    def of(cls, features: Sequence[VpdqFeature]) -> _Times:
        starts = np.array([f.timestamp for f in features], dtype=np.float64)
        return cls(starts, np.array([f.last for f in features], dtype=np.float64))

    def step(self) -> float:
        """The sampling interval (merged runs make longer gaps; the median ignores them)."""
        gaps = np.diff(self.starts)
        gaps = gaps[gaps > 0]
        return float(np.median(gaps)) if gaps.size else 1.0


@dataclass
class _Indexed:
    video: ListVideo  # without its features: the matcher keeps only what it needs, as arrays
    times: _Times  # of the usable frames (quality >= floor)
    slots: np.ndarray  # per usable frame: index of its distinct hash within this video
    distinct: int


def _distinct_slots(features: Sequence[VpdqFeature]) -> tuple[np.ndarray, int]:
    seen: dict[str, int] = {}
    slots = np.array([seen.setdefault(f.pdq, len(seen)) for f in features], dtype=np.int64)
    return slots, len(seen)


class VideoMatcher:
    """Matches query videos against list videos of one signal (vpdq or vpdq_trim)."""

    def __init__(
        self,
        videos: Sequence[ListVideo] = (),
        *,
        rule: VideoRule | None = None,
        index_factory: Callable[[], FrameIndex] = default_index,
    ) -> None:
        self.rule = rule or VideoRule()
        self._index = index_factory()
        self._videos: list[_Indexed] = []
        self._frame_video = np.zeros(0, dtype=np.int64)
        self._frame_pos = np.zeros(0, dtype=np.int64)
        self._removed: set[int] = set()
        self.add(videos)

    def __len__(self) -> int:
        """List videos that can match (added and not removed)."""
        return len(self._videos) - len(self._removed)

    def remove(self, entry_ids: Sequence[int]) -> int:
        """Take the videos of these list entries out of matching (a disabled or disputed entry);
        returns how many videos were removed."""
        wanted = set(entry_ids)
        gone = [
            n for n, v in enumerate(self._videos) if v.video.entry_id in wanted and n not in self._removed
        ]
        if gone:
            frame_ids = np.flatnonzero(np.isin(self._frame_video, gone)).astype(np.int64)
            self._index.remove(frame_ids)
            self._removed.update(gone)
        return len(gone)

    def add(self, videos: Sequence[ListVideo]) -> None:
        video_of: list[np.ndarray] = [self._frame_video]
        pos_of: list[np.ndarray] = [self._frame_pos]
        ids: list[np.ndarray] = []
        hashes: list[np.ndarray] = []
        next_id = len(self._frame_video)
        for video in videos:
            usable = [f for f in video.features if f.quality >= self.rule.min_quality]
            slots, distinct = _distinct_slots(usable)
            number = len(self._videos)
            self._videos.append(_Indexed(replace(video, features=()), _Times.of(usable), slots, distinct))
            if not usable:
                continue
            count = len(usable)
            ids.append(np.arange(next_id, next_id + count, dtype=np.int64))
            hashes.append(hashes_to_array([f.pdq for f in usable]))
            video_of.append(np.full(count, number, dtype=np.int64))
            pos_of.append(np.arange(count, dtype=np.int64))
            next_id += count
        self._frame_video = np.concatenate(video_of)
        self._frame_pos = np.concatenate(pos_of)
        if ids:
            self._index.add(np.concatenate(ids), np.concatenate(hashes))

    def find_frame(self, pdq: str, max_distance: int | None = None) -> list[tuple[ListVideo, float, int]]:
        """List videos holding a frame within `max_distance` of one PDQ hash (a still taken from a
        known video): (video, timestamp of the closest frame, distance), closest first."""
        limit = self.rule.max_distance if max_distance is None else max_distance
        ids, dists = self._index.search(hashes_to_array([pdq]), threshold=limit)[0]
        best: dict[int, tuple[float, int]] = {}
        for frame_id, dist in zip(ids.tolist(), dists.tolist(), strict=True):
            number = int(self._frame_video[frame_id])
            stamp = float(self._videos[number].times.starts[int(self._frame_pos[frame_id])])
            if number not in best or dist < best[number][1]:
                best[number] = (stamp, int(dist))
        found = [(self._videos[n].video, stamp, dist) for n, (stamp, dist) in best.items()]
        return sorted(found, key=lambda x: x[2])

    def match(
        self, query: Sequence[VpdqFeature], dense: Sequence[VpdqFeature] | None = None
    ) -> list[VideoMatch]:
        """Matches and partial matches, best first; videos sharing no frame are not listed.

        The percentages use `query` (the reference's 1-fps frames); segments use `dense` (frames on
        a denser grid, see vpdq.DENSE_SECONDS_PER_FRAME) where given, which finds a shared scene
        even when the two videos were sampled at different moments.
        """
        rule = self.rule
        by_number = {f.frame: f for f in (dense or ())}
        by_number.update({f.frame: f for f in query})
        frames = [by_number[n] for n in sorted(by_number) if by_number[n].quality >= rule.min_quality]
        if not frames or not len(self._index):
            return []
        wanted = {f.frame for f in query}
        on_grid = np.array([f.frame in wanted for f in frames])
        q_slots, _ = _distinct_slots(frames)
        q_distinct = len(set(q_slots[on_grid].tolist()))
        hits = self._index.search(hashes_to_array([f.pdq for f in frames]), threshold=rule.max_distance)
        # per list video: query frame -> [(list frame position, distance)]
        pairs: dict[int, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
        for q_pos, (ids, dists) in enumerate(hits):
            for frame_id, dist in zip(ids.tolist(), dists.tolist(), strict=True):
                pairs[int(self._frame_video[frame_id])][q_pos].append((int(self._frame_pos[frame_id]), dist))
        q_times = _Times.of(frames)
        step = q_times.step()
        out: list[VideoMatch] = []
        for number, by_query in pairs.items():
            entry = self._videos[number]
            graded = [q for q in by_query if on_grid[q]]
            q_pct = 100.0 * len({int(q_slots[q]) for q in graded}) / q_distinct if q_distinct else 0.0
            t_hit = {int(entry.slots[t]) for q in graded for t, _ in by_query[q]}
            t_pct = 100.0 * len(t_hit) / entry.distinct
            steps = sorted((step, entry.times.step()))
            segments = _segments(q_times, entry.times, by_query, steps[0], steps[1])
            if q_distinct and q_pct >= rule.query_percent and t_pct >= rule.target_percent:
                verdict: VideoVerdictName = "match"
            elif any(s.seconds >= rule.partial_seconds for s in segments):
                verdict = "partial"
            else:
                continue
            best = min(d for found in by_query.values() for _, d in found)
            out.append(VideoMatch(entry.video, verdict, q_pct, t_pct, segments, best))
        out.sort(key=lambda m: (m.verdict != "match", -max(m.query_percent, m.target_percent)))
        return out


def _segments(
    query: _Times,
    target: _Times,
    by_query: dict[int, list[tuple[int, int]]],
    fine_step: float,
    coarse_step: float,
) -> list[Segment]:
    """Runs of query frames that match list frames at one time offset, longest offsets first."""
    rows = []  # (query position, list position, offset, distance)
    for q, found in by_query.items():
        for t, d in sorted(found, key=lambda x: x[1])[:_PAIRS_PER_FRAME]:
            rows.append((q, t, target.starts[t] - query.starts[q], d))
    if not rows:
        return []
    data = np.array(rows, dtype=np.float64)
    # Two videos both sampled at 1 fps see the same moment up to one interval apart; when one of
    # them is sampled at every frame, the true pairs sit within half a frame of the offset. Gaps in
    # a run are bounded by the coarser sampling (and frames too flat or too far apart to match).
    tolerance = max(0.5, 1.5 * fine_step)
    max_gap = max(2.0, 3.0 * coarse_step)
    segments: list[Segment] = []
    while len(data) and len(segments) < _MAX_SEGMENTS:
        offsets = np.sort(data[:, 2])
        support = np.searchsorted(offsets, offsets + tolerance, "right") - np.searchsorted(
            offsets, offsets - tolerance, "left"
        )
        centre = offsets[int(np.argmax(support))]
        near = np.abs(data[:, 2] - centre) <= tolerance
        cluster, data = data[near], data[~near]
        best: dict[int, np.ndarray] = {}
        for row in cluster:  # one pair per query frame: the one closest to the offset
            q = int(row[0])
            if q not in best or abs(row[2] - centre) < abs(best[q][2] - centre):
                best[q] = row
        ordered = sorted(best.values(), key=lambda r: query.starts[int(r[0])])
        runs: list[list[np.ndarray]] = [[]]
        for row in ordered:
            if runs[-1] and query.starts[int(row[0])] - query.lasts[int(runs[-1][-1][0])] > max_gap:
                runs.append([])
            runs[-1].append(row)
        for run in runs:
            segment = _close_run(run, query, target)
            if segment is not None and not _mostly_covered(segment, segments):
                segments.append(segment)
        if int(support.max()) < 2:
            break
    segments.sort(key=lambda s: s.query_start)
    return segments


def _mostly_covered(segment: Segment, found: list[Segment]) -> bool:
    """True when half of the segment's query time is already explained by a stronger segment (a
    static stretch matches at many offsets; each query moment is reported once)."""
    for other in found:
        overlap = min(segment.query_end, other.query_end) - max(segment.query_start, other.query_start)
        if overlap >= 0.5 * segment.seconds:
            return True
    return False


def _close_run(run: list[np.ndarray], query: _Times, target: _Times) -> Segment | None:
    if not run:
        return None
    q = np.array([int(r[0]) for r in run])
    t = np.array([int(r[1]) for r in run])
    q_start, q_end = float(query.starts[q].min()), float(query.lasts[q].max())
    t_start, t_end = float(target.starts[t].min()), float(target.lasts[t].max())
    # A segment spans at least half a second in both videos, with at least 3 query frames: stray
    # matches of one static frame of the list video (a black fade, a title card) are no scene.
    if len(run) < 3 or q_end - q_start < 0.5 or t_end - t_start < 0.5:
        return None
    return Segment(
        query_start=q_start,
        query_end=q_end,
        target_start=t_start,
        target_end=t_end,
        frames=len(run),
        mean_distance=float(np.mean([r[3] for r in run])),
    )


def compare_videos(
    query: Sequence[VpdqFeature],
    target: Sequence[VpdqFeature],
    *,
    dense: Sequence[VpdqFeature] | None = None,
    rule: VideoRule | None = None,
    key: str = "target",
) -> VideoMatch | None:
    """Match one video against one other (a convenience over VideoMatcher)."""
    matcher = VideoMatcher([ListVideo(key, target)], rule=rule, index_factory=BruteForceIndex)
    matches = matcher.match(query, dense)
    return matches[0] if matches else None
