"""The matcher: verdicts, evidence, dihedral queries, list filters, and keeping in step with the store."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from opspoor.lists.media import entries_for_media
from opspoor.lists.rows import EntryRow
from opspoor.lists.service import add_entries, create_list, disable_entry, set_list_enabled
from opspoor.matching.engine import Matcher, Query
from opspoor.signals.compute import FileSignals, compute_signals
from opspoor.store.db import open_store, transaction


def _photo(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A textured synthetic photo: smooth gradients plus blobs, so PDQ quality is high."""
    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        for _ in range(6):
            cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(15, 80)
            img[..., c] += rng.uniform(40, 120) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
        img[..., c] += rng.uniform(0.1, 0.5) * x + rng.uniform(0.1, 0.5) * y
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def _jpeg(im: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _rows(signals: FileSignals, list_name: str, start_id: int) -> list[EntryRow]:
    entries, _ = entries_for_media(signals, classification="iwf:A")
    return [
        EntryRow(
            start_id + i, list_name, 1, e.signal_type, e.value, e.classification, None, e.item_key, e.quality
        )
        for i, e in enumerate(entries)
    ]


@pytest.fixture(scope="module")
def original() -> bytes:
    return _jpeg(_photo(1))


def test_exact_copy_is_known_with_evidence(original: bytes) -> None:
    signals = compute_signals(original, dihedral=True)
    matcher = Matcher.from_entries(_rows(signals, "police", 1))
    verdict = matcher.match_file(signals)
    assert verdict.verdict == "known"
    kinds = {m.signal for m in verdict.matches}
    assert {"md5", "sha1", "sha256", "pdq"} <= kinds
    assert verdict.matches[0].signal in ("md5", "sha1", "sha256")  # exact evidence comes first
    assert all(m.list == "police" and m.classification == "iwf:A" for m in verdict.matches)
    pdq = next(m for m in verdict.matches if m.signal == "pdq")
    assert pdq.distance == 0 and pdq.quality == signals.pdq_quality


def test_reencoded_and_rotated_copies_are_near(original: bytes) -> None:
    listed = compute_signals(original)
    matcher = Matcher.from_entries(_rows(listed, "police", 1))
    im = Image.open(io.BytesIO(original))
    for altered, variant in (
        (_jpeg(im.resize((160, 120)), 60), None),
        (_jpeg(im.transpose(Image.Transpose.ROTATE_90)), "rotate270"),
        (_jpeg(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)), "flipx"),
    ):
        verdict = matcher.match_file(compute_signals(altered, dihedral=True))
        assert verdict.verdict == "near", variant
        (match,) = verdict.matches
        assert match.signal == "pdq" and 0 <= match.distance <= 31
        if variant is not None:
            assert match.variant is not None and match.variant != "original"


def test_rotated_copy_is_missed_without_dihedral_variants(original: bytes) -> None:
    matcher = Matcher.from_entries(_rows(compute_signals(original), "police", 1))
    rotated = _jpeg(Image.open(io.BytesIO(original)).transpose(Image.Transpose.ROTATE_90))
    assert matcher.match_file(compute_signals(rotated, dihedral=False)).verdict == "unknown"


def test_unrelated_photo_is_unknown_and_threshold_is_respected(original: bytes) -> None:
    matcher = Matcher.from_entries(_rows(compute_signals(original), "police", 1))
    other = compute_signals(_jpeg(_photo(2)), dihedral=True)
    assert matcher.match_file(other).verdict == "unknown"
    near = compute_signals(_jpeg(Image.open(io.BytesIO(original)), 40))
    found = matcher.match_file(near)
    assert found.verdict == "near"
    distance = found.matches[0].distance
    if distance > 0:
        assert matcher.match_file(near, threshold=distance - 1).verdict == "unknown"


def test_low_quality_pdq_is_not_matched_and_says_why() -> None:
    flat = Image.new("RGB", (200, 200), (120, 120, 120))
    signals = compute_signals(_jpeg(flat))
    assert signals.pdq_quality is not None and signals.pdq_quality < 50
    rows = [EntryRow(1, "l", 1, "pdq", signals.pdq, None, None, None, 100)]
    verdict = Matcher.from_entries(rows).match_file(signals)
    assert verdict.verdict == "unknown"
    assert any("quality" in note for note in verdict.notes)


def test_list_filter_restricts_evidence(original: bytes) -> None:
    signals = compute_signals(original)
    matcher = Matcher.from_entries(_rows(signals, "a", 1) + _rows(signals, "b", 100))
    assert {m.list for m in matcher.match_file(signals).matches} == {"a", "b"}
    assert {m.list for m in matcher.match_file(signals, lists={"b"}).matches} == {"b"}
    assert matcher.match_file(signals, lists={"c"}).verdict == "unknown"


def test_match_values_batches_hashes(original: bytes) -> None:
    signals = compute_signals(original)
    matcher = Matcher.from_entries(_rows(signals, "a", 1))
    flipped = "".join(f"{int(c, 16) ^ 1:x}" for c in signals.pdq[:4]) + signals.pdq[4:]
    results = matcher.match_values(
        [Query("md5", signals.md5), Query("pdq", flipped), Query("sha1", "0" * 40)]
    )
    assert [len(r) for r in results] == [1, 1, 0]
    assert results[1][0].distance == 4


def test_store_backed_matcher_follows_changes(db_url: str, original: bytes) -> None:
    engine, factory = open_store(db_url)
    try:
        signals = compute_signals(original)
        with transaction(factory) as session:
            create_list(session, "national", source="test")
            entries, _ = entries_for_media(signals, classification="iccam:baseline")
            add_entries(session, "national", entries)
        first = Matcher.from_store(factory)
        second = Matcher.from_store(factory, ["national"])
        assert first.match_file(signals).verdict == "known"

        with transaction(factory) as session:
            for name in ("md5", "sha1", "sha256"):
                value = getattr(signals, name)
                disable_entry(session, "national", value, "disputed in test", signal_type=name)
        assert first.refresh() == 3
        second.refresh()
        for matcher in (first, second):
            verdict = matcher.match_file(signals)
            assert verdict.verdict == "near"
            assert verdict.matches[0].classification == "iccam:baseline"

        other = compute_signals(_jpeg(_photo(3)))
        with transaction(factory) as session:
            add_entries(session, "national", entries_for_media(other)[0])
        first.refresh()
        assert first.match_file(other).verdict == "known"

        with transaction(factory) as session:
            set_list_enabled(session, "national", False, reason="paused")
        first.refresh()
        assert first.match_file(other).verdict == "unknown"
        assert len(first) == 0
    finally:
        engine.dispose()


def test_scanner_path_matches_a_rotated_copy(original: bytes) -> None:
    """Every checking path hashes with the dihedral variants (check_signals), the scanner's too."""
    from opspoor.scanner.hashing import hash_and_match

    matcher = Matcher.from_entries(_rows(compute_signals(original), "police", 1))
    rotated = _jpeg(Image.open(io.BytesIO(original)).transpose(Image.Transpose.ROTATE_90))
    result = hash_and_match(rotated, matcher, None)
    assert result.verdict == "near"
    assert result.matches[0]["variant"] not in (None, "original")
