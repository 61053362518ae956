"""ExactIndex: every live id holding a digest, through adds, removals, merges and save/load."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from opspoor.index import exact
from opspoor.index.errors import DuplicateIdError, IndexFormatError, IndexInputError
from opspoor.index.exact import ExactIndex


def _md5(i: int) -> str:
    return hashlib.md5(str(i).encode()).hexdigest()


@pytest.mark.parametrize("merge_at", [3, 1_000_000])
def test_lookup_add_remove_readd(monkeypatch: pytest.MonkeyPatch, merge_at: int) -> None:
    monkeypatch.setattr(exact, "MERGE_AT", merge_at)
    index = ExactIndex()
    index.add(range(10), "md5", [_md5(i) for i in range(10)])
    index.add([10], "md5", [_md5(3)])  # the same value in a second list
    assert sorted(index.lookup("md5", _md5(3))) == [3, 10]
    assert index.lookup("md5", _md5(99)) == []
    assert index.lookup("sha1", _md5(3)) == []
    index.remove([3, 4])
    assert index.lookup("md5", _md5(3)) == [10]
    assert index.lookup("md5", _md5(4)) == []
    index.add([4], "md5", [_md5(4)])
    assert index.lookup("md5", _md5(4)) == [4]
    for i in (0, 9):
        assert index.lookup("md5", _md5(i)) == [i]


def test_digest_with_trailing_zero_bytes_is_exact() -> None:
    index = ExactIndex()
    a, b = "ab" + "00" * 15, "ab" + "00" * 14 + "01"
    index.add([1, 2], "md5", [a, b])
    index.merge()
    assert index.lookup("md5", a) == [1]
    assert index.lookup("md5", b) == [2]


def test_bad_values_are_rejected_and_odd_queries_miss() -> None:
    index = ExactIndex()
    with pytest.raises(IndexInputError):
        index.add([1], "md5", ["zz" * 16])
    with pytest.raises(IndexInputError):
        index.add([1, 2], "md5", [_md5(1)])
    index.add([1], "md5", [_md5(1)])
    with pytest.raises(IndexInputError):
        index.add([2], "md5", ["ab" * 20])
    assert index.lookup("md5", "not hex") == []
    assert index.lookup("md5", "ab") == []


def _sha256(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


@pytest.mark.parametrize("merge_at", [2, 1_000_000])
def test_readded_id_with_another_value_and_counts(monkeypatch: pytest.MonkeyPatch, merge_at: int) -> None:
    monkeypatch.setattr(exact, "MERGE_AT", merge_at)
    index = ExactIndex()
    index.add(np.arange(5), "sha256", [_sha256(i) for i in range(5)])
    index.add([7], "md5", [_md5(7)])
    assert len(index) == 6 and index.signals == ["md5", "sha256"]
    assert index.remove([1, 7, 99]) == 2  # across signals; unknown ids ignored
    assert index.remove([1]) == 0
    index.add([1], "sha256", [_sha256(42)])  # the id is reused for another value
    assert index.lookup("sha256", _sha256(1)) == []
    assert index.lookup("sha256", _sha256(42)) == [1]
    assert index.lookup("sha256", _sha256(42).upper()) == [1]
    with pytest.raises(DuplicateIdError, match="id 2"):
        index.add([2], "sha256", [_sha256(8)])
    with pytest.raises(DuplicateIdError, match="repeat"):
        index.add([8, 8], "sha256", [_sha256(8), _sha256(9)])
    assert len(index) == 5


def test_many_values_stay_exact() -> None:
    index = ExactIndex()
    values = [_md5(i) for i in range(5000)]
    index.add(np.arange(5000) * 3, "md5", values)
    index.merge()
    assert all(index.lookup("md5", values[i]) == [3 * i] for i in range(0, 5000, 7))
    assert index.lookup("md5", _md5(-1)) == []


@pytest.mark.parametrize("mmap", [True, False])
def test_save_load_round_trip(tmp_path: Path, mmap: bool) -> None:
    index = ExactIndex()
    index.add(range(4), "md5", [_md5(i) for i in range(4)])
    index.add([10, 11], "sha256", [_sha256(0), _sha256(0)])
    index.remove([2])
    index.watermark = 17
    index.save(tmp_path / "exact")
    loaded = ExactIndex.load(tmp_path / "exact", mmap=mmap)
    assert loaded.watermark == 17 and len(loaded) == 5
    assert loaded.lookup("md5", _md5(3)) == [3]
    assert loaded.lookup("md5", _md5(2)) == []
    assert loaded.lookup("sha256", _sha256(0)) == [10, 11]
    loaded.remove([10])
    loaded.add([2], "md5", [_md5(2)])
    assert loaded.lookup("sha256", _sha256(0)) == [11] and loaded.lookup("md5", _md5(2)) == [2]
    assert ExactIndex.load(tmp_path / "exact").lookup("sha256", _sha256(0)) == [10, 11]


def test_damaged_files_give_clear_errors(tmp_path: Path) -> None:
    index = ExactIndex()
    index.add([1], "md5", [_md5(1)])
    index.save(tmp_path / "exact")
    header_file = tmp_path / "exact" / "header.json"
    header = json.loads(header_file.read_text())
    header_file.write_text(json.dumps(dict(header, version=2)))
    with pytest.raises(IndexFormatError, match="format version 2"):
        ExactIndex.load(tmp_path / "exact")
    header_file.write_text(json.dumps(dict(header, signals=["md5", "sha1"])))
    with pytest.raises(IndexFormatError, match="incomplete"):
        ExactIndex.load(tmp_path / "exact")
    with pytest.raises(IndexFormatError, match="missing"):
        ExactIndex.load(tmp_path / "nothing")
