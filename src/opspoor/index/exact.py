"""Exact lookup of cryptographic hashes (md5, sha1, sha256) by value.

Values are kept as fixed-width binary digests in sorted NumPy arrays per signal type (16-32 bytes plus
an 8-byte id per entry, instead of ~150 bytes for a Python dict item), with a small dict of recent
additions and a set of removed ids, folded into the arrays when they grow. An id always stands for
the same value (list entries never change their value), so removing and re-adding an id is cheap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from opspoor.index.errors import IndexInputError

MERGE_AT = 65_536  # pending additions or removals before the sorted arrays are rebuilt


class _Table:
    def __init__(self, width: int) -> None:
        self.width = width
        self.keys = np.empty(0, dtype=f"S{width}")
        self.ids = np.empty(0, dtype=np.int64)
        self.recent: dict[bytes, list[int]] = {}
        self.recent_count = 0

    def lookup(self, key: bytes, dead: set[int]) -> list[int]:
        probe = np.array([key], dtype=f"S{self.width}")
        lo = int(np.searchsorted(self.keys, probe[0], side="left"))
        hi = int(np.searchsorted(self.keys, probe[0], side="right"))
        # An id removed and added again may sit both in the arrays and in `recent`: report it once.
        found = dict.fromkeys([int(i) for i in self.ids[lo:hi]] + self.recent.get(key, []))
        return [i for i in found if i not in dead]

    def merge(self, dead: set[int]) -> None:
        extra_keys = [k for k, ids in self.recent.items() for _ in ids]
        extra_ids = [i for ids in self.recent.values() for i in ids]
        keys = np.concatenate([self.keys, np.array(extra_keys, dtype=f"S{self.width}")])
        ids = np.concatenate([self.ids, np.array(extra_ids, dtype=np.int64)])
        if dead:
            keep = ~np.isin(ids, np.fromiter(dead, dtype=np.int64, count=len(dead)))
            keys, ids = keys[keep], ids[keep]
        order = np.argsort(keys, kind="stable")
        self.keys, self.ids = keys[order], ids[order]
        self.recent, self.recent_count = {}, 0


class ExactIndex:
    def __init__(self) -> None:
        self._tables: dict[str, _Table] = {}
        self._dead: set[int] = set()

    def add(self, ids: np.ndarray | Sequence[int], signal: str, values: Sequence[str]) -> None:
        """Index hex `values` of one signal type under the given entry ids."""
        id_list = [int(i) for i in ids]
        if len(id_list) != len(values):
            raise IndexInputError(f"{len(id_list)} ids for {len(values)} values")
        if not values:
            return
        try:
            keys = [bytes.fromhex(v) for v in values]
        except ValueError as exc:
            raise IndexInputError(f"{signal} values must be hex: {exc}") from None
        width = len(keys[0])
        if any(len(k) != width for k in keys):
            raise IndexInputError(f"{signal} values differ in length")
        table = self._tables.setdefault(signal, _Table(width))
        if table.width != width:
            raise IndexInputError(f"{signal} values are {table.width} bytes, not {width}")
        for entry_id, key in zip(id_list, keys, strict=True):
            self._dead.discard(entry_id)
            table.recent.setdefault(key, []).append(entry_id)
        table.recent_count += len(keys)
        if table.recent_count > MERGE_AT:
            table.merge(self._dead)

    def remove(self, ids: np.ndarray | Sequence[int]) -> None:
        """Stop returning these ids (they stay out until added again)."""
        self._dead.update(int(i) for i in ids)
        if len(self._dead) > MERGE_AT:
            for table in self._tables.values():
                table.merge(self._dead)
            self._dead.clear()

    def lookup(self, signal: str, value: str) -> list[int]:
        table = self._tables.get(signal)
        if table is None:
            return []
        try:
            key = bytes.fromhex(value)
        except ValueError:
            return []
        if len(key) != table.width:
            return []
        return table.lookup(key, self._dead)
