"""Glue to hash lists: robust entries from media, and a RobustIndex from list entries."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from opspoor.lists.rows import EntryRow
from opspoor.media.image import decode_image
from opspoor.robust import entries, match, transforms
from opspoor.robust.signals import ORB_FEATURES, PDQ_VIEWS
from opspoor.signals.compute import compute_signals


def _rows(data: bytes, list_id: int, first_id: int, features: dict[str, str]) -> list[EntryRow]:
    signals = compute_signals(data)
    entries.add_robust_extras(signals, decode_image(data))
    new = entries.robust_entry_hook(signals, "test", "src")
    # The ORB features are too long for an entry: they are stored per item (opspoor.store.robust).
    assert [n.signal_type for n in new] == [PDQ_VIEWS]
    assert all(n.item_key == signals.sha256 for n in new)
    features[signals.sha256] = signals.extra[ORB_FEATURES]
    values = [("pdq", signals.pdq)] + [(n.signal_type, n.value) for n in new]
    return [
        EntryRow(first_id + i, "l", list_id, kind, value, "test", "src", signals.sha256, None)
        for i, (kind, value) in enumerate(values)
    ]


@pytest.mark.testdata
def test_index_from_list_entries_finds_a_padded_copy(testdata: Path) -> None:
    entries.install()
    paths = sorted((testdata / "photos" / "bsds500").glob("*.jpg"))[:3]
    rows: list[EntryRow] = []
    features: dict[str, str] = {}
    for i, path in enumerate(paths):
        rows += _rows(path.read_bytes(), 1, 10 * i, features)
    rows.append(EntryRow(99, "l", 1, "pdq", "0" * 64, None, None, "lonely", None))  # bare hash: skipped
    assert entries.robust_item_keys(rows) == set(features)
    index = entries.index_from_entries(rows, features)
    assert len(index) == 3
    with Image.open(paths[1]) as im:
        copy = transforms.apply("pad0.2", np.asarray(im.convert("RGB")), 0)
    with Image.open(io.BytesIO(copy)) as im:
        found = index.search(match.query_data(np.asarray(im.convert("RGB"))))
    assert found[-1].item == 10 and found[-1].is_match  # the pdq entry's id of photo 1


def test_hook_adds_nothing_without_a_listable_pdq() -> None:
    signals = compute_signals(b"not an image")
    signals.extra[PDQ_VIEWS] = "v1:" + "0" * 64 * len(match.REFERENCE_VIEWS)
    assert entries.robust_entry_hook(signals, None, None) == []
