"""The matcher: in-memory indexes over the active entries of hash lists, kept in step with the store.

Exact signals (md5, sha1, sha256) are looked up in an ExactIndex; PDQ-shaped signals in one PDQIndex,
queried with all 8 dihedral variants of the file so rotated and flipped copies match. Entry details
(list, classification, source) are read from the store only for hits, so memory stays near the index's
own footprint however large the lists grow.

Pictures that plain PDQ misses (crops, padding, borders, small rotations) are matched by opspoor's
robust stage (opspoor.robust) where the list items carry its extra signals and the query carries its
robust form (compute_signals(robust_query=True)); lists of bare hashes keep plain PDQ matching.

Videos are matched by a VideoChecker (opspoor.matching.video_check) over the lists' vPDQ frames,
owned here so that every caller (check, service, scanner, hotline) gets video matching too.

Keeping in step: every change to an entry appends an EntryEvent with an increasing id, and list-level
changes (a list switched on or off) a ListEvent. `refresh()` follows the entry events through
opspoor.lists.feed.ChangeFeed, which copes with PostgreSQL commits that land out of id order, and
reloads everything when a list itself changed (rare, and simpler than patching a whole list in).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from opspoor.index.exact import ExactIndex
from opspoor.index.pdq import PDQIndex, hex_to_array
from opspoor.lists.feed import ChangeFeed, list_changes_since
from opspoor.lists.reading import entries_by_id, latest_list_event_id
from opspoor.lists.rows import EntryRow
from opspoor.lists.service import active_entries
from opspoor.matching.results import Match, Verdict
from opspoor.matching.video_check import VideoChecker, as_match
from opspoor.robust.entries import index_from_entries, robust_item_keys
from opspoor.robust.search import RobustIndex
from opspoor.signals.compute import FileSignals
from opspoor.signals.pdq import DIHEDRAL_NAMES, PDQ_MATCH_THRESHOLD, PDQ_MIN_QUALITY
from opspoor.signals.registry import get_signal
from opspoor.store.robust import load_features

EXACT_SIGNALS = ("md5", "sha1", "sha256")
PDQ_SIGNALS = ("pdq",)
ROBUST_VIEWS = "opspoor_pdq_views"
ROBUST_SIGNAL = "opspoor_robust"  # how a robust match names its evidence (views + ORB verification)
ADD_ACTIONS = frozenset({"added", "enabled", "reclassified"})


@dataclass(frozen=True)
class Query:
    """One hash to look up, with what is known about where it came from."""

    signal: str
    value: str
    quality: int | None = None
    variant: str | None = None


class Matcher:
    def __init__(
        self, factory: sessionmaker[Session] | None = None, lists: Sequence[str] | None = None
    ) -> None:
        self._factory = factory
        self._lists = list(lists) if lists else None
        self._lock = threading.RLock()
        self._exact = ExactIndex()
        self._pdq = PDQIndex()
        self._rows: dict[int, EntryRow] = {}  # entry details, filled for hits (or all, without a store)
        self._active: set[int] = set()
        self._video: VideoChecker | None = None
        self._robust: RobustIndex | None = None
        self._feed: ChangeFeed | None = None
        self._list_mark = 0

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def from_store(cls, factory: sessionmaker[Session], lists: Sequence[str] | None = None) -> Matcher:
        matcher = cls(factory, lists)
        matcher.reload()
        return matcher

    @classmethod
    def from_entries(cls, rows: Iterable[EntryRow]) -> Matcher:
        """A matcher over rows held in memory, with no store behind it (tests, benchmarks)."""
        matcher = cls()
        matcher._apply_rows(list(rows))
        return matcher

    def reload(self) -> None:
        """Rebuild from the store: all active entries of the selected lists."""
        assert self._factory is not None, "reload() needs a store"
        with self._factory() as session:
            # The feed starts before we read: changes committed meanwhile are applied again by the
            # next refresh, which is harmless because applying a change is idempotent.
            feed = ChangeFeed.starting_now(session, list_names=self._lists)
            list_mark = latest_list_event_id(session)
            rows = list(active_entries(session, self._lists))
            robust = _robust_index(session, rows)
        video = VideoChecker.from_store(self._factory, self._lists)
        with self._lock:
            self._exact = ExactIndex()
            self._pdq = PDQIndex()
            self._rows = {}
            self._active = set()
            self._apply_rows(rows)
            self._video = video
            self._robust = robust
            self._feed, self._list_mark = feed, list_mark

    def refresh(self) -> int:
        """Apply list changes made since the last refresh; returns how many entries changed."""
        if self._factory is None or self._feed is None:
            return 0
        with self._factory() as session:
            if list_changes_since(session, self._list_mark):
                reload_needed = True
                changes = []
            else:
                changes = self._feed.poll(session)
                # Robust views come and go with whole items (lists add): rebuild then, simply.
                reload_needed = any(c.entry.signal_type == ROBUST_VIEWS for c in changes)
                if self._video is not None:
                    with self._lock:
                        self._video.apply_changes(session, changes)
        if reload_needed:
            self.reload()
            return len(self)
        changed = 0
        with self._lock:
            for change in changes:
                changed += self._set_state(change.entry, change.action in ADD_ACTIONS)
        return changed

    def _apply_rows(self, rows: list[EntryRow]) -> None:
        by_signal: dict[str, list[EntryRow]] = {}
        for row in rows:
            by_signal.setdefault(row.signal_type, []).append(row)
            if self._factory is None:  # with a store, details are read for hits only
                self._rows[row.entry_id] = row
            self._active.add(row.entry_id)
        for signal, group in by_signal.items():
            ids = np.fromiter((r.entry_id for r in group), dtype=np.int64, count=len(group))
            if signal in PDQ_SIGNALS:
                self._pdq.add(ids, hex_to_array([r.value for r in group]))
            elif signal in EXACT_SIGNALS:
                self._exact.add(ids, signal, [r.value for r in group])
            # Other signals (vpdq, robust views) are matched by their own stages, not these indexes.

    def _set_state(self, row: EntryRow, active: bool) -> int:
        """Make the index agree with the entry's state; 1 if anything changed."""
        present = row.entry_id in self._active
        if active and not present:
            self._apply_rows([row])
            return 1
        if not active and present:
            ids = np.array([row.entry_id], dtype=np.int64)
            if row.signal_type in PDQ_SIGNALS:
                self._pdq.remove(ids)
            else:
                self._exact.remove(ids)
            self._active.discard(row.entry_id)
            self._rows.pop(row.entry_id, None)
            return 1
        if active and (self._factory is None or row.entry_id in self._rows):
            self._rows[row.entry_id] = row  # classification or source may have changed
        return 0

    def __len__(self) -> int:
        return len(self._active)

    @property
    def has_robust(self) -> bool:
        """Whether any listed item carries the robust signals (then queries should too)."""
        return self._robust is not None and len(self._robust) > 0

    # -- matching ---------------------------------------------------------------------------
    def match_values(
        self,
        queries: Sequence[Query],
        threshold: int | None = None,
        lists: Collection[str] | None = None,
    ) -> list[list[Match]]:
        """Matches for each query, in order. `lists` restricts results to those list names."""
        threshold = PDQ_MATCH_THRESHOLD if threshold is None else threshold
        results: list[list[Match]] = [[] for _ in queries]
        hits: list[tuple[int, int, int]] = []  # (query index, entry id, distance)
        pdq_positions = [i for i, q in enumerate(queries) if q.signal in PDQ_SIGNALS]
        with self._lock:
            for i, query in enumerate(queries):
                if query.signal in EXACT_SIGNALS:
                    hits.extend((i, int(e), 0) for e in self._exact.lookup(query.signal, query.value))
            if pdq_positions:
                arr = hex_to_array([queries[i].value for i in pdq_positions])
                for pos, (ids, dists) in zip(pdq_positions, self._pdq.search(arr, threshold), strict=True):
                    hits.extend((pos, int(e), int(d)) for e, d in zip(ids, dists, strict=True))
            rows = self._rows_for({entry for _, entry, _ in hits})
        for i, entry_id, distance in hits:
            row = rows.get(entry_id)
            if row is None or (lists is not None and row.list_name not in lists):
                continue
            query = queries[i]
            results[i].append(
                Match(
                    list=row.list_name,
                    signal=row.signal_type,
                    value=row.value,
                    distance=distance,
                    classification=row.classification,
                    quality=query.quality,
                    entry_id=entry_id,
                    source_ref=row.source_ref,
                    variant=query.variant,
                )
            )
        return results

    def _rows_for(self, ids: set[int]) -> dict[int, EntryRow]:
        missing = [i for i in ids if i not in self._rows]
        if missing and self._factory is not None:
            with self._factory() as session:
                for row in entries_by_id(session, missing):
                    if row.entry_id in self._active:
                        self._rows[row.entry_id] = row
        return {i: self._rows[i] for i in ids if i in self._rows}

    def match_file(
        self,
        signals: FileSignals,
        threshold: int | None = None,
        lists: Collection[str] | None = None,
    ) -> Verdict:
        """known if a cryptographic hash matched; near if PDQ (any dihedral variant) is within the
        threshold; unknown otherwise. PDQ of quality < 50 is not matched (Meta's guidance)."""
        queries = [Query(s, v) for s in EXACT_SIGNALS if (v := getattr(signals, s))]
        notes: list[str] = []
        if signals.pdq is not None:
            quality = signals.pdq_quality
            if quality is not None and quality < PDQ_MIN_QUALITY:
                notes.append(
                    f"pdq quality {quality} < {PDQ_MIN_QUALITY}: too little detail to match perceptually"
                )
            else:
                variants = signals.pdq_dihedral or [signals.pdq]
                queries += [
                    Query("pdq", value, quality, DIHEDRAL_NAMES[k] if len(variants) > 1 else None)
                    for k, value in enumerate(variants)
                ]
        found = [m for group in self.match_values(queries, threshold, lists) for m in group]
        video_json: list[dict[str, Any]] = []
        if signals.kind == "video" and self._video is not None and len(self._video):
            with self._lock:
                videos = self._video.check(signals.extra)
            if lists is not None:
                videos = [v for v in videos if v.video.list_name in lists]
            video_json = [v.as_dict() for v in videos]
            # A partial match (part of a listed video is in this one) is near-known material too; it
            # is marked as such, with its segments in video_matches for the investigator.
            found += [
                replace(as_match(v), variant=None if v.verdict == "match" else v.verdict)
                for v in videos
                if v.verdict in ("match", "partial")
            ]
        if not found and not notes and "robust_query" in signals.extra:
            found = self._match_robust(signals, lists)
        matches = _best_per_entry(found)
        if any(m.signal in EXACT_SIGNALS for m in matches):
            verdict = "known"
        elif matches:
            verdict = "near"
        else:
            verdict = "unknown"
        return Verdict(verdict, matches, notes, video_json)


    def _match_robust(self, signals: FileSignals, lists: Collection[str] | None) -> list[Match]:
        if self._robust is None or not len(self._robust):
            return []
        with self._lock:
            found = self._robust.search(signals.extra["robust_query"])
            hit = found[-1] if found and found[-1].is_match else None
            if hit is None or hit.item not in self._active:  # its pdq entry was disabled
                return []
            row = self._rows_for({hit.item}).get(hit.item)
        if row is None or (lists is not None and row.list_name not in lists):
            return []
        return [
            Match(
                list=row.list_name,
                signal=ROBUST_SIGNAL,
                value=row.value,
                distance=hit.distance,
                classification=row.classification,
                quality=signals.pdq_quality,
                entry_id=hit.item,
                source_ref=row.source_ref,
                score=hit.score,
            )
        ]


def _robust_index(session: Session, rows: list[EntryRow]) -> RobustIndex | None:
    keys = robust_item_keys(rows)
    if not keys:
        return None
    return index_from_entries(rows, load_features(session, keys))


def _best_per_entry(matches: list[Match]) -> list[Match]:
    """One match per list entry: the closest variant; exact matches first, then by distance."""
    best: dict[int, Match] = {}
    for match in matches:
        kept = best.get(match.entry_id)
        if kept is None or match.distance < kept.distance:
            best[match.entry_id] = match
    return sorted(
        best.values(), key=lambda m: (m.signal not in EXACT_SIGNALS, m.distance, m.list, m.entry_id)
    )


def parse_query(signal: str, value: str) -> Query:
    """Validate a hash given by a user (raises InvalidSignalValue with the reason)."""
    sig = get_signal(signal)
    return Query(sig.name, sig.parse(value))
