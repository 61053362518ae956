"""PDQIndex returns exactly what brute force returns, however it was built, changed, saved or loaded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opspoor.index import pdq as pdq_module
from opspoor.index.errors import DuplicateIdError, IndexFormatError, IndexInputError
from opspoor.index.pdq import PDQIndex, array_to_hex, hex_to_array

THRESHOLDS = (0, 1, 31, 32, 64)


@pytest.fixture(autouse=True)
def small_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the tables even on test-sized sets, and fold additions in after a few hundred rows."""
    monkeypatch.setattr(pdq_module, "ROWS_PER_PROBE", 0)
    monkeypatch.setattr(pdq_module, "DELTA_LIMIT", 300)
    monkeypatch.setattr(pdq_module, "NUMPY_ROWS", 100)  # both brute-force paths get exercised


def flip(hashes: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flip exactly counts[i] distinct random bits of row i."""
    bits = np.unpackbits(hashes, axis=1)
    for i, count in enumerate(counts):
        bits[i, rng.choice(256, size=int(count), replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def dataset(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return rng.integers(0, 256, (n, 32), dtype=np.uint8)
    centres = rng.integers(0, 256, (max(1, n // 8), 32), dtype=np.uint8)
    members = centres[rng.integers(0, centres.shape[0], n)]
    return flip(members, rng.integers(0, 40, n), rng)


def queries_for(data: np.ndarray, seed: int, count: int = 24) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    near = data[rng.integers(0, data.shape[0], count // 2)] if data.shape[0] else np.empty((0, 32), np.uint8)
    near = flip(near, rng.integers(0, 36, near.shape[0]), rng)
    far = rng.integers(0, 256, (count - near.shape[0], 32), dtype=np.uint8)
    return np.concatenate([near, far])


def brute_force(ids: np.ndarray, data: np.ndarray, query: np.ndarray, threshold: int) -> tuple:
    dist = np.unpackbits(data ^ query, axis=1).sum(axis=1).astype(np.int32)
    keep = np.flatnonzero(dist <= threshold)
    order = np.lexsort((ids[keep], dist[keep]))
    return ids[keep][order], dist[keep][order]


def assert_same(
    index: PDQIndex, ids: np.ndarray, data: np.ndarray, queries: np.ndarray, threshold: int
) -> None:
    results = index.search(queries, threshold)
    assert len(results) == queries.shape[0]
    for query, (got_ids, got_dists) in zip(queries, results, strict=True):
        want_ids, want_dists = brute_force(ids, data, query, threshold)
        assert got_ids.dtype == np.int64 and got_dists.dtype == np.int32
        np.testing.assert_array_equal(got_ids, want_ids)
        np.testing.assert_array_equal(got_dists, want_dists)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["uniform", "clustered"]),
    n=st.integers(0, 1500),
    seed=st.integers(0, 2**32 - 1),
    threshold=st.one_of(st.sampled_from(THRESHOLDS), st.integers(0, 256)),
)
def test_search_equals_brute_force(kind: str, n: int, seed: int, threshold: int) -> None:
    data = dataset(kind, n, seed)
    ids = np.random.default_rng(seed).permutation(10 * n + 1)[:n].astype(np.int64) - 5 * n
    index = PDQIndex()
    index.add(ids, data)
    assert len(index) == n
    assert_same(index, ids, data, queries_for(data, seed), threshold)


@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_clustered_families_found_at_every_threshold(threshold: int) -> None:
    data = dataset("clustered", 3000, seed=threshold)
    ids = np.arange(3000, dtype=np.int64)
    index = PDQIndex()
    index.add(ids, data)
    assert index.pending == 0  # built into the tables
    assert_same(index, ids, data, queries_for(data, threshold, count=60), threshold)


def test_other_part_layouts_are_exact_too() -> None:
    data = dataset("clustered", 2000, seed=7)
    ids = np.arange(2000, dtype=np.int64)
    for bits in [(16,) * 16, (24,) * 10 + (16,)]:
        index = PDQIndex(part_bits=bits)
        index.add(ids, data)
        for threshold in (0, 31, 40):
            assert_same(index, ids, data, queries_for(data, 8), threshold)
    with pytest.raises(IndexInputError, match="add up to 256"):
        PDQIndex(part_bits=(32,) * 8)


@pytest.mark.parametrize("removed_per_step", [10, 60])  # tables merged / rebuilt without the dead
def test_incremental_adds_and_removes_equal_a_rebuild(removed_per_step: int) -> None:
    rng = np.random.default_rng(3)
    data = dataset("clustered", 2400, seed=3)
    ids = np.arange(10_000, 12_400, dtype=np.int64)
    index = PDQIndex()
    live = np.zeros(2400, bool)
    for start in range(0, 2400, 150):  # crosses DELTA_LIMIT several times: tables rebuilt in between
        index.add(ids[start : start + 150], data[start : start + 150])
        live[start : start + 150] = True
        gone = rng.choice(np.flatnonzero(live), size=removed_per_step, replace=False)
        assert index.remove(ids[gone]) == removed_per_step
        live[gone] = False
    assert len(index) == live.sum()
    queries = queries_for(data, 3, count=40)
    fresh = PDQIndex()
    fresh.add(ids[live], data[live])
    for threshold in (0, 31, 64):
        assert_same(index, ids[live], data[live], queries, threshold)
        for a, b in zip(index.search(queries, threshold), fresh.search(queries, threshold), strict=True):
            np.testing.assert_array_equal(a[0], b[0])


def test_remove_then_add_again_and_unknown_ids() -> None:
    data = dataset("uniform", 10, seed=1)
    index = PDQIndex()
    index.add(np.arange(10), data)
    assert index.remove(np.array([3, 3, 99])) == 1  # repeats and unknown ids are ignored
    assert index.remove(np.array([3])) == 0
    assert index.search(data[3:4], 0)[0][0].size == 0
    index.add(np.array([3]), data[5:6])  # the id comes back with another hash
    ids, dists = index.search(data[5:6], 0)[0]
    np.testing.assert_array_equal(ids, [3, 5])
    np.testing.assert_array_equal(dists, [0, 0])
    with pytest.raises(DuplicateIdError, match="id 3"):
        index.add(np.array([3]), data[:1])
    with pytest.raises(DuplicateIdError, match="repeat"):
        index.add(np.array([50, 50]), data[:2])
    assert len(index) == 10


def test_empty_index_and_empty_queries() -> None:
    index = PDQIndex()
    assert len(index) == 0
    result = index.search(np.zeros((3, 32), np.uint8))
    assert [r[0].size for r in result] == [0, 0, 0]
    assert index.search(np.empty((0, 32), np.uint8)) == []
    index.add(np.empty(0, np.int64), np.empty((0, 32), np.uint8))
    assert index.remove(np.array([1])) == 0


@pytest.mark.parametrize(
    "queries",
    [np.zeros(32, np.uint8), np.zeros((2, 31), np.uint8), np.zeros((2, 32), np.int64), [[1] * 32]],
)
def test_bad_query_shapes_are_rejected(queries: object) -> None:
    with pytest.raises(IndexInputError, match=r"\(N, 32\) uint8"):
        PDQIndex().search(queries)  # type: ignore[arg-type]


@pytest.mark.parametrize("threshold", [-1, 257, 3.5, True, "31", None])
def test_bad_thresholds_are_rejected(threshold: object) -> None:
    with pytest.raises(IndexInputError, match="threshold"):
        PDQIndex().search(np.zeros((1, 32), np.uint8), threshold)  # type: ignore[arg-type]


def test_bad_adds_are_rejected() -> None:
    index = PDQIndex()
    with pytest.raises(IndexInputError, match="2 ids for 3 hashes"):
        index.add(np.arange(2), np.zeros((3, 32), np.uint8))
    with pytest.raises(IndexInputError, match="integer"):
        index.add(np.array([1.5]), np.zeros((1, 32), np.uint8))
    with pytest.raises(IndexInputError, match="uint8"):
        index.add(np.arange(1), np.zeros((1, 64), np.uint8))
    assert len(index) == 0


def test_hex_round_trip_and_errors() -> None:
    values = ["f" * 64, "0123456789abcdef" * 4, "ABCDEF0123456789" * 4]
    array = hex_to_array(values)
    assert array.shape == (3, 32) and array.dtype == np.uint8
    assert array[0, 0] == 0xFF and array[1, 0] == 0x01  # most significant byte first, as printed
    assert array_to_hex(array) == [v.lower() for v in values]
    assert hex_to_array([]).shape == (0, 32)
    for bad, where in [(["f" * 63], 0), (["f" * 64, "g" * 64], 1), (["f" * 64, " " + "f" * 63], 1)]:
        with pytest.raises(IndexInputError, match=f"PDQ hash {where} "):
            hex_to_array(bad)


def test_dihedral_batch_finds_a_rotated_copy() -> None:
    data = dataset("uniform", 500, seed=5)
    index = PDQIndex()
    index.add(np.arange(500), data)
    variants = np.random.default_rng(555).integers(0, 256, (8, 32), dtype=np.uint8)
    variants[5] = flip(data[42:43], np.array([20]), np.random.default_rng(1))[0]
    results = index.search(variants)
    assert [r[0].tolist() for r in results] == [[], [], [], [], [], [42], [], []]
    assert results[5][1].tolist() == [20]


@pytest.mark.parametrize("mmap", [True, False])
def test_save_load_round_trip(tmp_path: Path, mmap: bool) -> None:
    data = dataset("clustered", 1000, seed=11)
    ids = np.arange(1000, dtype=np.int64) * 7
    index = PDQIndex()
    index.add(ids[:900], data[:900])
    index.add(ids[900:], data[900:])  # some rows still pending at save time
    index.remove(ids[:50])
    index.watermark = 4242
    index.save(tmp_path / "pdq")
    loaded = PDQIndex.load(tmp_path / "pdq", mmap=mmap)
    assert loaded.watermark == 4242 and len(loaded) == 950 and loaded.pending == index.pending
    queries = queries_for(data, 11)
    assert_same(loaded, ids[50:], data[50:], queries, 31)
    # Changes after loading stay in memory; the saved files are untouched.
    loaded.remove(ids[50:100])
    loaded.add(np.array([1, 2]), data[:2])
    assert len(loaded) == 902
    again = PDQIndex.load(tmp_path / "pdq")
    assert len(again) == 950
    assert_same(again, ids[50:], data[50:], queries, 31)
    loaded.save(tmp_path / "pdq")  # overwrite in place
    assert len(PDQIndex.load(tmp_path / "pdq")) == 902


def test_empty_index_round_trip(tmp_path: Path) -> None:
    PDQIndex().save(tmp_path / "empty")
    loaded = PDQIndex.load(tmp_path / "empty")
    assert len(loaded) == 0 and loaded.watermark is None
    assert loaded.search(np.zeros((1, 32), np.uint8))[0][0].size == 0


def test_damaged_or_foreign_files_give_clear_errors(tmp_path: Path) -> None:
    index = PDQIndex()
    index.add(np.arange(400), dataset("uniform", 400, seed=2))
    path = tmp_path / "pdq"
    index.save(path)
    header = json.loads((path / "header.json").read_text())

    with pytest.raises(IndexFormatError, match="header.json is missing"):
        PDQIndex.load(tmp_path / "nowhere")
    (path / "header.json").write_text(json.dumps(dict(header, version=99)))
    with pytest.raises(IndexFormatError, match="format version 99"):
        PDQIndex.load(path)
    (path / "header.json").write_text(json.dumps(dict(header, format="something-else")))
    with pytest.raises(IndexFormatError, match="'something-else' index"):
        PDQIndex.load(path)
    (path / "header.json").write_text("{not json")
    with pytest.raises(IndexFormatError, match="damaged"):
        PDQIndex.load(path)
    (path / "header.json").write_text(json.dumps(dict(header, count=401)))
    with pytest.raises(IndexFormatError, match="hashes should be"):
        PDQIndex.load(path)
    (path / "header.json").write_text(json.dumps(header))
    (path / "ids.npy").write_bytes((path / "ids.npy").read_bytes()[:200])
    with pytest.raises(IndexFormatError, match="ids.npy is missing or damaged"):
        PDQIndex.load(path)
    (path / "ids.npy").unlink()
    with pytest.raises(IndexFormatError, match="ids.npy"):
        PDQIndex.load(path)
    not_an_index = tmp_path / "mine"
    not_an_index.mkdir()
    with pytest.raises(IndexFormatError, match="refusing to overwrite"):
        index.save(not_an_index)
