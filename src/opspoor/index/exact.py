"""ExactIndex: which entries hold this md5 / sha1 / sha256 (or any other hex digest)?

Per signal, digests are kept as raw bytes in one sorted fixed-width array (16-32 bytes each, plus
8 for the id and 1 for the live flag) searched by bisection, instead of a Python dict that would take
about ten times the memory for the tens of millions of hashes national lists hold. Recent additions
wait in a small dict until MERGE_AT of them have piled up and are then merged in one sort; removed
ids are flagged dead and dropped at that merge. The same digest may belong to several entries (the
same file on several lists), so a lookup returns every live id.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from opspoor.index.errors import DuplicateIdError, IndexFormatError, IndexInputError
from opspoor.index.inputs import check_ids, has_repeats
from opspoor.index.persist import load_arrays, save_arrays

FORMAT = "opspoor-exact-index"
FORMAT_VERSION = 1
MERGE_AT = 65_536  # pending additions before they are merged into the sorted arrays
_NO_IDS = np.empty(0, np.int64)


def _digest(value: object) -> bytes:
    if isinstance(value, str):
        text = value.strip()
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = b""
        if raw and len(text) == 2 * len(raw):
            return raw
    raise IndexInputError(f"not a hex digest: {str(value)[:80]!r}")


class _SignalTable:
    def __init__(self, width: int) -> None:
        self.width = width
        self.keys = np.empty(0, f"S{width}")  # sorted; NumPy pads with NULs, all keys are `width` long
        self.ids = np.empty(0, np.int64)
        self.alive = np.empty(0, np.bool_)
        self.live = 0
        self.pending: dict[bytes, list[int]] = {}
        self.pending_key: dict[int, bytes] = {}
        self._by_id: tuple[np.ndarray, np.ndarray] | None = None  # (argsort of ids, sorted ids)

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Rows of the sorted arrays holding these ids, by binary search in a by-id copy."""
        if self._by_id is None:
            order = np.argsort(self.ids, kind="stable").astype(np.int32)
            self._by_id = (order, self.ids[order])
        order, sorted_ids = self._by_id
        left = np.searchsorted(sorted_ids, ids, side="left")
        right = np.searchsorted(sorted_ids, ids, side="right")
        hit = np.flatnonzero(right > left)
        if hit.size == 0:
            return _NO_IDS
        return np.concatenate([order[left[i] : right[i]] for i in hit]).astype(np.int64)

    def add(self, ids: np.ndarray, keys: list[bytes]) -> None:
        clash = [i for i in ids.tolist() if i in self.pending_key]
        rows = self.rows_of(ids)
        if rows.size:
            clash += self.ids[rows[self.alive[rows]]].tolist()
        if clash:
            raise DuplicateIdError(f"id {clash[0]} is already in the index (remove it first)")
        for i, key in zip(ids.tolist(), keys, strict=True):
            self.pending.setdefault(key, []).append(i)
            self.pending_key[i] = key
        self.live += len(keys)
        if len(self.pending_key) > MERGE_AT:
            self.merge()

    def merge(self) -> None:
        if not self.pending_key and self.live == self.ids.size:
            return
        new_keys = np.array(list(self.pending_key.values()), dtype=self.keys.dtype)
        keep = np.flatnonzero(self.alive)
        keys = np.concatenate([self.keys[keep], new_keys])
        ids = np.concatenate([self.ids[keep], np.fromiter(self.pending_key, np.int64, len(self.pending_key))])
        order = np.argsort(keys, kind="stable")
        self.keys, self.ids = keys[order], ids[order]
        self.alive = np.ones(ids.size, np.bool_)
        self.pending, self.pending_key, self._by_id = {}, {}, None

    def remove(self, ids: np.ndarray) -> int:
        removed = 0
        for i in ids.tolist():
            key = self.pending_key.pop(i, None)
            if key is not None:
                self.pending[key].remove(i)
                if not self.pending[key]:
                    del self.pending[key]
                removed += 1
        rows = self.rows_of(ids)
        rows = rows[self.alive[rows]] if rows.size else rows
        if rows.size:
            if not self.alive.flags.writeable:
                self.alive = np.array(self.alive)
            self.alive[rows] = False
        self.live -= removed + rows.size
        return removed + int(rows.size)

    def lookup(self, key: bytes) -> list[int]:
        needle = np.array(key, dtype=self.keys.dtype)
        begin = int(np.searchsorted(self.keys, needle, side="left"))
        end = int(np.searchsorted(self.keys, needle, side="right"))
        found = self.ids[begin:end][self.alive[begin:end]].tolist() + self.pending.get(key, [])
        return sorted(found)


class ExactIndex:
    def __init__(self) -> None:
        self._tables: dict[str, _SignalTable] = {}
        self.watermark: int | None = None

    def __len__(self) -> int:
        return sum(t.live for t in self._tables.values())

    @property
    def signals(self) -> list[str]:
        return sorted(self._tables)

    def add(self, ids: np.ndarray | Sequence[int], signal: str, values: Sequence[str]) -> None:
        """Add hex digests of one signal under caller-chosen int64 ids (an id must not be live)."""
        ids = check_ids(ids)
        values = list(values)
        if len(values) != ids.shape[0]:
            raise IndexInputError(f"{ids.shape[0]} ids for {len(values)} values")
        if has_repeats(ids):
            raise DuplicateIdError("ids repeat within one add()")
        if not values:
            return
        keys = [_digest(v) for v in values]
        width = len(keys[0])
        table = self._tables.get(signal)
        if table is not None:
            width = table.width
        bad = next((v for v, k in zip(values, keys, strict=True) if len(k) != width), None)
        if bad is not None:
            raise IndexInputError(f"{signal} digests are {width} bytes; {bad[:80]!r} is not")
        if table is None:
            table = self._tables[signal] = _SignalTable(width)
        table.add(ids, keys)

    def remove(self, ids: np.ndarray | Sequence[int]) -> int:
        """Remove (disable) entries by id, whatever their signal; returns how many were live."""
        ids = np.unique(check_ids(ids))
        return sum(t.remove(ids) for t in self._tables.values())

    def lookup(self, signal: str, value: str) -> list[int]:
        """Live ids holding this digest, sorted; none for an unknown signal or a malformed value
        (a query that is not a digest of this signal cannot match one)."""
        table = self._tables.get(signal)
        try:
            key = _digest(value)
        except IndexInputError:
            return []
        if table is None or len(key) != table.width:
            return []
        return table.lookup(key)

    def merge(self) -> None:
        """Fold pending additions into the sorted arrays and drop removed entries now."""
        for table in self._tables.values():
            table.merge()

    def save(self, path: str | os.PathLike[str]) -> None:
        arrays: dict[str, np.ndarray] = {}
        for n, signal in enumerate(sorted(self._tables)):
            table = self._tables[signal]
            table.merge()
            arrays.update({f"t{n}_keys": table.keys, f"t{n}_ids": table.ids, f"t{n}_alive": table.alive})
        meta: dict[str, Any] = {"signals": sorted(self._tables), "watermark": self.watermark}
        save_arrays(path, FORMAT, FORMAT_VERSION, meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = True) -> ExactIndex:
        header, arrays = load_arrays(path, FORMAT, FORMAT_VERSION, mmap)
        index = cls()
        try:
            for n, signal in enumerate(header["signals"]):
                keys, ids, alive = arrays[f"t{n}_keys"], arrays[f"t{n}_ids"], arrays[f"t{n}_alive"]
                if keys.dtype.kind != "S" or ids.dtype != np.int64 or alive.dtype != np.bool_:
                    raise IndexFormatError(f"{path}: arrays of {signal!r} have the wrong types")
                if not keys.shape == ids.shape == alive.shape or keys.ndim != 1:
                    raise IndexFormatError(f"{path}: arrays of {signal!r} differ in length")
                table = _SignalTable(keys.dtype.itemsize)
                table.keys, table.ids, table.alive = keys, ids, alive
                table.live = int(np.count_nonzero(alive))
                index._tables[str(signal)] = table
            watermark = header.get("watermark")
            index.watermark = None if watermark is None else int(watermark)
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexFormatError(f"{path}: header.json is incomplete or wrong: {exc!r}") from None
        return index
