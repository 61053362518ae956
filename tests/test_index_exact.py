import hashlib

import pytest

from opspoor.index import exact
from opspoor.index.errors import IndexInputError
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
    index._tables["md5"].merge(set())
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
