"""Robust signal types, ORB verification and the robust search (opspoor.robust.signals/verify/search)."""

from __future__ import annotations

import base64
import contextlib
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from opspoor.media.image import decode_image
from opspoor.robust import match, search, transforms, verify
from opspoor.robust.signals import (
    ORB_FEATURES,
    PDQ_VIEWS,
    register_robust_signals,
    robust_signals_for_reference,
)
from opspoor.signals.base import InvalidSignalValue
from opspoor.signals.pdq import PDQ
from opspoor.signals.registry import get_signal


def _paths(testdata: Path, count: int) -> list[Path]:
    paths = sorted((testdata / "photos").rglob("*.jpg"))
    return paths[:: len(paths) // count][:count]


def _rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


@pytest.mark.testdata
def test_reference_signals_are_stored_text_that_parses_back(testdata: Path) -> None:
    register_robust_signals()
    image = decode_image(_paths(testdata, 3)[1].read_bytes())
    values = robust_signals_for_reference(image)
    assert [v.signal for v in values] == ["pdq", PDQ_VIEWS, ORB_FEATURES]
    assert values[0].value == PDQ().from_image(image).value  # the interchange hash is plain PDQ
    for value in values:
        signal = get_signal(value.signal)
        assert signal.parse(value.value) == value.value
        assert signal.distance(value.value, value.value) == 0
    assert len(verify.unpack(values[2].value)) <= verify.REFERENCE_FEATURES
    assert get_signal(PDQ_VIEWS).from_image(image).value == values[1].value


def test_bad_signal_text_is_refused_with_a_clear_error() -> None:
    register_robust_signals()
    with pytest.raises(InvalidSignalValue, match="64 hex"):
        get_signal(PDQ_VIEWS).parse("v1:abc")
    with pytest.raises(InvalidSignalValue):
        get_signal(ORB_FEATURES).parse("not base64 at all!")
    with pytest.raises(verify.FeatureError, match="version"):
        verify.unpack("AgEAAQAAAA==")


@settings(max_examples=30, deadline=None)
@given(count=st.integers(0, 40), width=st.integers(1, 500), height=st.integers(1, 500))
def test_packed_features_round_trip(count: int, width: int, height: int) -> None:
    rng = np.random.default_rng(count)
    points = (rng.random((count, 2)) * [width, height]).astype(np.float32)
    features = verify.Features(points, rng.integers(0, 256, (count, 32), dtype=np.uint8), width, height)
    back = verify.unpack(verify.pack(features))
    assert np.array_equal(back.descriptors, features.descriptors)
    assert np.allclose(back.points, features.points, atol=1 / 16)
    assert (back.width, back.height) == (width, height)


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=200))
def test_unpack_refuses_garbage_without_crashing(blob: bytes) -> None:
    with contextlib.suppress(verify.FeatureError):
        verify.unpack(base64.b64encode(blob).decode())


@pytest.mark.testdata
def test_verification_separates_copies_from_other_photos(testdata: Path) -> None:
    paths = _paths(testdata, 6)
    sources = [_rgb(p.read_bytes()) for p in paths]
    refs = [match.reference_features(rgb) for rgb in sources]
    for name in ("rotate4", "crop0.2", "pad0.2", "screenshot"):
        query = match.query_data(_rgb(transforms.apply(name, sources[0], 0)))
        own = verify.inliers(query.features(False), refs[0])
        others = max(verify.inliers(query.features(False), r) for r in refs[1:])
        assert own >= verify.MIN_INLIERS > others, name
    flipped = match.query_data(_rgb(transforms.apply("flip", sources[0], 0)))
    assert verify.inliers(flipped.features(True), refs[0]) >= verify.MIN_INLIERS


@pytest.mark.testdata
def test_search_finds_altered_copies_and_nothing_for_other_photos(testdata: Path) -> None:
    paths = _paths(testdata, 12)
    sources = [_rgb(p.read_bytes()) for p in paths]
    index = search.RobustIndex()
    for i, rgb in enumerate(sources[:8]):
        index.add(i, match.reference_data(rgb))
    assert len(index) == 8
    for i in (0, 5):
        for name in ("crop0.05", "rotate90", "border", "noise0.2"):
            found = index.search(match.query_data(_rgb(transforms.apply(name, sources[i], i))))
            assert found and found[0].item == i and found[0].is_match, (i, name, found[:2])
    for rgb in sources[8:]:  # photos not in the index
        assert not any(m.is_match for m in index.search(match.query_data(rgb)))
    assert search.RobustIndex().search(match.query_data(sources[0])) == []


@pytest.mark.testdata
def test_index_built_from_stored_entries_matches_like_one_built_from_pixels(testdata: Path) -> None:
    from opspoor.robust.signals import robust_query_signals, verify_entry

    paths = _paths(testdata, 4)
    index = search.RobustIndex()
    stored = {}
    for i, path in enumerate(paths):
        pdq, views, orb = (v.value for v in robust_signals_for_reference(decode_image(path.read_bytes())))
        index.add_entry(100 + i, pdq, views, orb)
        stored[100 + i] = orb
    copy = transforms.apply("rotate4", _rgb(paths[2].read_bytes()), 0)
    query = robust_query_signals(decode_image(copy))
    found = index.search(query)
    assert found[-1].item == 102 and found[-1].is_match and found[-1].inliers >= verify.MIN_INLIERS
    assert verify_entry(query, stored[102]) == found[-1].inliers


def test_score_combines_geometry_and_pdq_closeness() -> None:
    assert match.combined_score(200, 0) == 0
    assert match.combined_score(match.PDQ_BONUS_FROM, 7) == 7
    assert match.combined_score(0, 0) == match.PDQ_BONUS_SLOPE * match.PDQ_BONUS_FROM
    assert match.combined_score(30, 30) > match.combined_score(30, 10)


@pytest.mark.testdata
def test_search_can_leave_one_item_out(testdata: Path) -> None:
    paths = _paths(testdata, 3)
    index = search.RobustIndex()
    sources = [_rgb(p.read_bytes()) for p in paths]
    for i, rgb in enumerate(sources):
        index.add(i, match.reference_data(rgb))
    query = match.query_data(sources[1])
    assert index.search(query)[-1].item == 1
    assert all(m.item != 1 and not m.is_match for m in index.search(query, exclude=1))
