"""Check a hashed video against the lists: vpdq (reference rule) and vpdq_trim (bars removed).

`VideoChecker.from_store(factory, lists)` loads the list videos once; `check(file_signals)` takes the
FileSignals that compute_signals made for a video and returns one VideoMatch per list video, the
best of its vpdq and vpdq_trim results. `as_match` turns one into the common Match record for a
Verdict (distance = 100 - the larger match percentage, so 0 is a complete match).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from opspoor.lists.rows import Change, EntryRow
from opspoor.matching.results import Match
from opspoor.matching.video import FrameIndex, ListVideo, VideoMatch, VideoMatcher, VideoRule, default_index
from opspoor.signals.vpdq import VPDQ, VPDQ_DENSE, VPDQ_TRIM, VpdqFeature, parse_text

# Entry events after which an entry should match (lists.service actions); others take it out.
ADD_ACTIONS = frozenset({"added", "enabled", "reclassified"})


def _features(extra: Mapping[str, Any], key: str) -> list[VpdqFeature] | None:
    text = extra.get(key)
    return parse_text(text) if text else None


def _rank(m: VideoMatch) -> tuple[bool, float]:
    return (m.verdict == "match", max(m.query_percent, m.target_percent))


class VideoChecker:
    def __init__(
        self,
        videos: Mapping[str, Sequence[ListVideo]],
        *,
        rule: VideoRule | None = None,
        index_factory: Callable[[], FrameIndex] = default_index,
        notes: Sequence[str] = (),
    ) -> None:
        self.rule = rule or VideoRule()
        self.notes = list(notes)
        self._matchers = {
            signal: VideoMatcher(videos.get(signal, ()), rule=self.rule, index_factory=index_factory)
            for signal in (VPDQ, VPDQ_TRIM)
        }

    @classmethod
    def from_store(
        cls,
        factory: sessionmaker[Session],
        lists: Sequence[str] | None = None,
        *,
        rule: VideoRule | None = None,
    ) -> VideoChecker:
        from opspoor.store.video import load_list_videos

        with factory() as session:
            videos, notes = load_list_videos(session, lists)
        return cls(videos, rule=rule, notes=notes)

    def __len__(self) -> int:
        return len(self._matchers[VPDQ]) + len(self._matchers[VPDQ_TRIM])

    def apply_changes(self, session: Session, changes: Iterable[Change]) -> int:
        """Follow list changes (from opspoor.lists.feed.ChangeFeed.poll or changes_since): added or
        enabled video entries start matching, disabled or disputed ones stop, reclassified ones
        report their new classification. Returns how many video entries changed."""
        from opspoor.store.video import load_list_videos_for

        remove: list[int] = []
        add: list[EntryRow] = []
        for change in changes:
            entry = change.entry
            if entry.signal_type not in self._matchers:
                continue
            remove.append(entry.entry_id)
            if change.action in ADD_ACTIONS:
                add.append(entry)
        for matcher in self._matchers.values():
            matcher.remove(remove)
        videos, notes = load_list_videos_for(session, add)
        self.notes.extend(notes)
        for signal, group in videos.items():
            self._matchers[signal].add(group)
        return len(set(remove))

    def check(self, extra: Mapping[str, Any]) -> list[VideoMatch]:
        """Matches for one video's FileSignals.extra (its vpdq, vpdq_dense and vpdq_trim texts)."""
        found: list[VideoMatch] = []
        plain = _features(extra, VPDQ)
        if plain:
            found.extend(self._matchers[VPDQ].match(plain, _features(extra, VPDQ_DENSE)))
        trimmed = _features(extra, VPDQ_TRIM)
        if trimmed and extra.get(VPDQ_TRIM) != extra.get(VPDQ):
            # Bars were cut from the query: compare its content with the list videos' content, that
            # is their trimmed frames, or their plain frames where they had no bars (no vpdq_trim
            # entry is listed then, see opspoor.store.video).
            found.extend(self._matchers[VPDQ_TRIM].match(trimmed))
            found.extend(self._matchers[VPDQ].match(trimmed))
        elif trimmed:
            found.extend(self._matchers[VPDQ_TRIM].match(trimmed))
        best: dict[str, VideoMatch] = {}
        for m in found:
            item = m.video.item_key or m.video.key
            if item not in best or _rank(m) > _rank(best[item]):
                best[item] = m
        return sorted(best.values(), key=_rank, reverse=True)


def as_match(m: VideoMatch, query_quality: int | None = None) -> Match:
    """The common Match record (for Verdict.matches); the segments stay on the VideoMatch."""
    v = m.video
    return Match(
        list=v.list_name or "",
        signal=v.signal,
        value=v.key,
        distance=int(round(100 - max(m.query_percent, m.target_percent))),
        classification=v.classification,
        quality=query_quality,
        entry_id=v.entry_id or 0,
        source_ref=v.source_ref,
    )


def video_results(
    checker: VideoChecker, extra: Mapping[str, Any]
) -> tuple[list[Match], list[dict[str, Any]]]:
    """For `opspoor check` and the service: Match records of the full matches (a partial match is
    evidence to review, not a verdict) and the JSON of every match and partial match, segments
    included (`"video_matches"` in a file's record)."""
    found = checker.check(extra)
    return [as_match(m) for m in found if m.verdict == "match"], [m.as_dict() for m in found]
