"""Video in the lists: entries and frames on SQLite and PostgreSQL, checking, disabling.

The list videos here are Meta's reference vPDQ files (text import), so no decoding is needed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from opspoor.lists.service import add_entries, create_list, disable_entry
from opspoor.matching.video_check import VideoChecker, as_match, video_results
from opspoor.signals import InvalidSignalValue
from opspoor.signals.compute import FileSignals, compute_signals
from opspoor.signals.vpdq import VpdqFeature, digest, merge_consecutive, parse_text, to_text
from opspoor.store.db import open_store, transaction
from opspoor.store.lists import Entry
from opspoor.store.video import (
    VideoFrame,
    add_video_to_list,
    frames_text,
    import_vpdq_text,
    load_frames,
    save_frames,
    video_entry_rows,
)

pytestmark = pytest.mark.testdata


def _one_fps(features: list[VpdqFeature]) -> list[VpdqFeature]:
    return [f for f in features if f.frame % 30 == 0]


def _signals(testdata: Path, name: str) -> FileSignals:
    """FileSignals as compute_signals makes them, from the reference's every-frame file."""
    features = parse_text((testdata / "video" / "expected-vpdq" / f"{name}.txt").read_text())
    fake = name.encode()
    text = to_text(_one_fps(features))
    return FileSignals(
        md5=hashlib.md5(fake).hexdigest(),
        sha1=hashlib.sha1(fake).hexdigest(),
        sha256=hashlib.sha256(fake).hexdigest(),
        kind="video",
        extra={"vpdq": text, "vpdq_trim": text, "vpdq_dense": to_text(features)},
    )


def test_entries_frames_check_and_disable(testdata: Path, db_url: str) -> None:
    engine, factory = open_store(db_url)
    try:
        chair, pattern = _signals(testdata, "chair-20-sd-bar"), _signals(testdata, "pattern-hd-no-bar")
        with transaction(factory) as session:
            create_list(session, "videos", source="test")
            create_list(session, "other", source="test")
            add_video_to_list(session, "videos", chair, classification="iccam:baseline", source_ref="case-1")
            kinds = session.scalars(select(Entry.signal_type).where(Entry.item_key == chair.sha256))
            # No bars were cut (vpdq_trim text == vpdq text): no vpdq_trim entry repeats vpdq.
            assert sorted(kinds) == ["md5", "sha1", "sha256", "vpdq"]
            add_video_to_list(session, "videos", pattern, source_ref="case-2")
            add_video_to_list(session, "other", chair, source_ref="case-3")
            # Frames are stored once per video, however many lists hold it (merged within 2 bits).
            stored = session.scalar(select(func.count()).select_from(VideoFrame))
            merged = [merge_consecutive(parse_text(v.extra["vpdq"])) for v in (chair, pattern)]
            assert stored == sum(len(m) for m in merged)

        checker = VideoChecker.from_store(factory, ["videos"])
        assert checker.notes == []
        query = _signals(testdata, "chair-22-sd-grey-bar")
        found = checker.check(query.extra)
        assert len(found) == 1
        m = found[0]
        assert m.verdict == "match" and m.video.list_name == "videos"
        assert m.video.item_key == chair.sha256 and m.video.source_ref == "case-1"
        assert m.video.classification is not None and "baseline" in m.video.classification
        assert m.segments and m.segments[0].target_start <= 1.0
        evidence = m.as_dict()
        assert evidence["query_percent"] >= 80 and evidence["segments"][0]["frames"] >= 10
        matches, records = video_results(checker, query.extra)
        assert [r.entry_id for r in matches] == [m.video.entry_id] and records == [evidence]
        record = as_match(m, query_quality=100)
        assert record.signal in ("vpdq", "vpdq_trim") and record.distance <= 20 and record.entry_id > 0

        assert checker.check(_signals(testdata, "doorknob-hd-no-bar").extra) == []

        with transaction(factory) as session:
            key = digest(parse_text(chair.extra["vpdq"]))
            disable_entry(session, "videos", key, "test: disputed video", signal_type="vpdq")
        assert VideoChecker.from_store(factory, ["videos"]).check(query.extra) == []
        with factory() as session:  # history and frames are kept
            assert load_frames(session, "vpdq", [key])[key] == merge_consecutive(
                parse_text(chair.extra["vpdq"])
            )
    finally:
        engine.dispose()


def test_entry_without_frames_is_noted(testdata: Path, tmp_path: Path) -> None:
    engine, factory = open_store(f"sqlite:///{tmp_path / 'v.db'}")
    try:
        with transaction(factory) as session:
            create_list(session, "imported")
            add_entries(session, "imported", [{"signal_type": "vpdq", "value": "ab" * 32}])
        checker = VideoChecker.from_store(factory)
        assert len(checker.notes) == 1 and "no frames" in checker.notes[0]
        assert checker.check(_signals(testdata, "chair-20-sd-bar").extra) == []
    finally:
        engine.dispose()


def test_save_frames_is_idempotent_and_ordered(tmp_path: Path) -> None:
    engine, factory = open_store(f"sqlite:///{tmp_path / 'v.db'}")
    feats = [VpdqFeature(i, 90, f"{(2**64 - 1) << (i * 64):064x}", float(i)) for i in range(4)]
    same = VpdqFeature(9, 80, feats[-1].pdq, 9.0)  # repeats the last frame: merged into it
    try:
        with transaction(factory) as session:
            key = save_frames(session, "vpdq", [*feats, same])
            assert key == digest([*feats, same])
            assert save_frames(session, "vpdq", [*feats, same]) == key
        with factory() as session:
            stored = load_frames(session, "vpdq", [key, "0" * 64])
            assert stored == {key: [*feats[:-1], VpdqFeature(3, 90, feats[-1].pdq, 3.0, 9.0)]}
            assert session.scalar(select(func.count()).select_from(VideoFrame)) == 4
    finally:
        engine.dispose()


def test_flat_videos_get_no_perceptual_entry() -> None:
    flat = to_text([VpdqFeature(0, 10, "0" * 64, 0.0), VpdqFeature(30, 20, "0" * 64, 1.0)])
    signals = FileSignals(sha256="a" * 64, kind="video", extra={"vpdq": flat})
    assert video_entry_rows(signals) == []
    good = to_text([VpdqFeature(0, 90, "1" * 64, 0.0)])
    rows = video_entry_rows(FileSignals(sha256="a" * 64, kind="video", extra={"vpdq": good}), "x", "ref")
    assert [(r.signal_type, r.value, r.item_key, r.quality) for r in rows] == [
        ("vpdq", digest(parse_text(good)), "a" * 64, 90)
    ]


def test_import_and_export_in_the_reference_text_format(testdata: Path, tmp_path: Path) -> None:
    engine, factory = open_store(f"sqlite:///{tmp_path / 'v.db'}")
    text = (testdata / "video" / "expected-vpdq" / "chair-20-sd-bar.txt").read_text()
    try:
        with transaction(factory) as session:
            create_list(session, "meta-samples")
            key = import_vpdq_text(session, "meta-samples", text, source_ref="vpdq/sample-hashes")
        assert key == digest(parse_text(text))
        with factory() as session:
            # Exported as stored: the reference's format, with frames within 2 bits of the previous
            # kept frame pruned (vpdq README, "Pruning Frames").
            exported = frames_text(session, "vpdq", key)
            assert exported == to_text(merge_consecutive(parse_text(text)))
            assert set(exported.splitlines()) <= set(text.splitlines())
            with pytest.raises(LookupError):
                frames_text(session, "vpdq", "0" * 64)
        query = (testdata / "video" / "expected-vpdq" / "chair-22-sd-grey-bar.txt").read_text()
        found = VideoChecker.from_store(factory).check({"vpdq": query})
        assert [(m.verdict, m.video.source_ref) for m in found] == [("match", "vpdq/sample-hashes")]
        with transaction(factory) as session, pytest.raises(InvalidSignalValue):
            import_vpdq_text(session, "meta-samples", "0,100,not-a-hash,0.0")
    finally:
        engine.dispose()


def test_a_copy_with_bars_matches_through_the_store(testdata: Path, tmp_path: Path) -> None:
    """pattern-hd-no-bar is listed (no bars: no vpdq_trim entry); its grey copy with bars is found."""
    engine, factory = open_store(f"sqlite:///{tmp_path / 'v.db'}")
    folder = testdata / "video"
    try:
        listed = compute_signals((folder / "pattern-hd-no-bar.mp4").read_bytes())
        with transaction(factory) as session:
            create_list(session, "videos")
            add_video_to_list(session, "videos", listed, source_ref="pattern")
            kinds = session.scalars(select(Entry.signal_type).where(Entry.item_key == listed.sha256))
            assert "vpdq_trim" not in set(kinds)
        query = compute_signals((folder / "pattern-sd-grey-bar.mp4").read_bytes())
        assert query.extra["video"]["bars_found"] == 7
        found = VideoChecker.from_store(factory).check(query.extra)
        assert [(m.verdict, m.video.source_ref) for m in found] == [("match", "pattern")]
        assert found[0].query_percent == 100.0
        other = compute_signals((folder / "doorknob-hd-no-bar.mp4").read_bytes())
        assert VideoChecker.from_store(factory).check(other.extra) == []
    finally:
        engine.dispose()


def test_checker_follows_list_changes(testdata: Path, tmp_path: Path) -> None:
    from opspoor.lists.service import changes_since, enable_entry, latest_event_id

    engine, factory = open_store(f"sqlite:///{tmp_path / 'v.db'}")
    chair, pattern = _signals(testdata, "chair-20-sd-bar"), _signals(testdata, "pattern-hd-no-bar")
    query = _signals(testdata, "chair-22-sd-grey-bar").extra
    key = digest(parse_text(chair.extra["vpdq"]))
    try:
        with transaction(factory) as session:
            create_list(session, "videos")
            add_video_to_list(session, "videos", pattern)
        checker = VideoChecker.from_store(factory)
        with factory() as session:
            mark = latest_event_id(session)
        assert checker.check(query) == []
        with transaction(factory) as session:
            add_video_to_list(session, "videos", chair, source_ref="late")
        with factory() as session:
            changes = changes_since(session, mark)
            mark = latest_event_id(session)
            assert checker.apply_changes(session, changes) == 1  # md5/sha entries are not video
        assert [m.video.source_ref for m in checker.check(query)] == ["late"]
        with transaction(factory) as session:
            disable_entry(session, "videos", key, "test", signal_type="vpdq")
        with factory() as session:
            checker.apply_changes(session, changes_since(session, mark))
            mark = latest_event_id(session)
        assert checker.check(query) == []
        with transaction(factory) as session:
            enable_entry(session, "videos", key, "test: reviewed", signal_type="vpdq")
        with factory() as session:
            checker.apply_changes(session, changes_since(session, mark))
        assert len(checker.check(query)) == 1 and len(checker) == 2
    finally:
        engine.dispose()
