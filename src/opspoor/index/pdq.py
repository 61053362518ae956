"""PDQIndex: every stored PDQ hash within a Hamming distance of a query — exact, no misses.

Layout in memory (N stored hashes, m = 11 parts by default):
- hashes (N, 32) uint8, ids (N,) int64, alive (N,) bool — rows in insertion order;
- per part, a table sorting rows [0, n_indexed) by that part's bits: rows (m, n_indexed) int32, the
  key's low bits (m, n_indexed) uint8 and bucket offsets (m, 65537) int32 (layout.py, tables.py);
- rows from n_indexed on are recent additions, compared one by one until DELTA_LIMIT of them have
  piled up; then they are sorted on their own and merged into each table in one linear pass.
Removing an id clears its alive flag (a tombstone); once a quarter of the rows are dead the tables are
rebuilt without them (two counting sorts per table). That is about 100 bytes per hash, against 32 for
the hash itself.

`watermark` is the caller's own marker of how current the index is (the last list change applied);
it is saved and loaded with the index so a reloaded matcher knows which changes to replay.
"""

from __future__ import annotations

import os

import numpy as np

from opspoor.index import kernels, tables
from opspoor.index.errors import DuplicateIdError, IndexFormatError, IndexInputError
from opspoor.index.inputs import HASH_BYTES, check_hashes, check_ids, check_threshold, has_repeats
from opspoor.index.layout import DEFAULT_PART_BITS, FLIP_OFFSETS, FLIPS, Layout
from opspoor.index.persist import load_arrays, save_arrays

FORMAT = "opspoor-pdq-index"
FORMAT_VERSION = 1
DELTA_LIMIT = 32_768  # recent rows scanned one by one (~30 us per query) before the tables absorb them
COMPACT_DEAD_FRACTION = 0.25
# Below this many indexed rows per bucket probe, comparing every hash is cheaper than the tables.
ROWS_PER_PROBE = 4
MAX_ROWS = 2**31 - 1  # tables hold rows as int32
# Up to this many rows (and no tables in use) NumPy compares them all: fast enough, and small lists
# (a demo, a test, a fresh matcher) never wait for the compiled kernels to be built on first use.
NUMPY_ROWS = 32_768


def hex_to_array(values: list[str]) -> np.ndarray:
    """PDQ hashes as 64-digit hex strings -> (N, 32) uint8, most significant byte first."""
    values = list(values)
    if values and all(isinstance(v, str) and len(v) == 2 * HASH_BYTES for v in values):
        try:
            raw = bytes.fromhex("".join(values))
        except ValueError:
            raw = b""
        if len(raw) == HASH_BYTES * len(values):
            return np.frombuffer(raw, dtype=np.uint8).reshape(len(values), HASH_BYTES).copy()
    for i, value in enumerate(values):
        ok = isinstance(value, str) and len(value) == 2 * HASH_BYTES
        try:
            ok = ok and len(bytes.fromhex(value)) == HASH_BYTES
        except ValueError:
            ok = False
        if not ok:
            raise IndexInputError(f"PDQ hash {i} is not 64 hex digits: {str(value)[:80]!r}")
    return np.empty((0, HASH_BYTES), np.uint8)


def array_to_hex(hashes: np.ndarray) -> list[str]:
    """(N, 32) uint8 -> 64-digit lowercase hex strings (the inverse of hex_to_array)."""
    return [bytes(row).hex() for row in check_hashes(hashes, "hashes")]


def _words(hashes: np.ndarray) -> np.ndarray:
    """(N, 32) uint8 viewed as (N, 4) little-endian uint64, without copying."""
    return hashes.view("<u8").reshape(hashes.shape[0], 4)


class PDQIndex:
    def __init__(self, part_bits: tuple[int, ...] = DEFAULT_PART_BITS) -> None:
        self._layout = Layout(part_bits)
        self._hashes = np.empty((0, HASH_BYTES), np.uint8)
        self._ids = np.empty(0, np.int64)
        self._alive = np.empty(0, np.bool_)
        self._n = 0  # rows used in the buffers above (they grow by doubling)
        self._live = 0
        self._set_tables(*self._empty_tables())
        self._order: np.ndarray | None = None  # argsort of ids[:_n_sorted], for remove()
        self._n_sorted = 0
        self.watermark: int | None = None

    # -- size ------------------------------------------------------------------------------
    def __len__(self) -> int:
        """Live (not removed) hashes."""
        return self._live

    @property
    def part_bits(self) -> tuple[int, ...]:
        return self._layout.part_bits

    @property
    def pending(self) -> int:
        """Recent additions not yet in the tables (searched one by one)."""
        return self._n - self._n_indexed

    def memory_bytes(self) -> int:
        """Bytes held by the index's arrays (buffers at their allocated size)."""
        arrays: list[np.ndarray] = [self._hashes, self._ids, self._alive, self._rows, self._lo, self._offsets]
        if self._order is not None:
            arrays.append(self._order)
        return sum(a.nbytes for a in arrays)

    # -- changes ---------------------------------------------------------------------------
    def add(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        """Add hashes under caller-chosen int64 ids (e.g. list entry ids); an id must not be live."""
        ids = check_ids(ids)
        hashes = check_hashes(hashes, "hashes")
        if hashes.shape[0] != ids.shape[0]:
            raise IndexInputError(f"{ids.shape[0]} ids for {hashes.shape[0]} hashes")
        k = ids.shape[0]
        if k == 0:
            return
        if has_repeats(ids):
            raise DuplicateIdError("ids repeat within one add()")
        existing = self._rows_of(ids)
        if existing.size and self._alive[existing].any():
            dup = self._ids[existing[self._alive[existing]][0]]
            raise DuplicateIdError(f"id {dup} is already in the index (remove it first)")
        if self._n + k > MAX_ROWS:
            raise IndexInputError(f"an index holds at most {MAX_ROWS} rows")
        self._grow(self._n + k)
        self._hashes[self._n : self._n + k] = hashes
        self._ids[self._n : self._n + k] = ids
        self._alive[self._n : self._n + k] = True
        self._n += k
        self._live += k
        if self.pending > DELTA_LIMIT:
            self._fold()

    def remove(self, ids: np.ndarray) -> int:
        """Remove (disable) hashes by id; unknown ids are ignored. Returns how many were removed."""
        ids = check_ids(ids)
        rows = self._rows_of(np.unique(ids))
        rows = rows[self._alive[rows]] if rows.size else rows
        if rows.size == 0:
            return 0
        if not self._alive.flags.writeable:  # load() maps copy-on-write, but be safe with read-only
            self._alive = np.array(self._alive)
        self._alive[rows] = False
        self._live -= rows.size
        if self._n - self._live > COMPACT_DEAD_FRACTION * self._n and self._n > DELTA_LIMIT:
            self._rebuild()
        return int(rows.size)

    def rebuild(self) -> None:
        """Drop removed rows and fold pending additions into the tables now (also done on its own)."""
        self._rebuild()

    # -- search ----------------------------------------------------------------------------
    def search(self, queries: np.ndarray, threshold: int = 31) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each query row: (ids, distances) of every live hash within `threshold` bits, nearest
        first (ties by id). Default 31: Meta's PDQ match threshold (pdq README)."""
        queries = check_hashes(queries, "queries")
        threshold = check_threshold(threshold)
        n_queries = queries.shape[0]
        if n_queries == 0:
            return []
        radii = self._layout.radii(threshold)
        use_tables = (
            radii is not None
            and self._n_indexed > 0
            and self._n_indexed >= ROWS_PER_PROBE * self._layout.probes(radii)
        )
        if radii is None:
            radii = np.zeros(len(self.part_bits), np.int64)
        if not use_tables and self._n <= NUMPY_ROWS:
            offsets, rows, dists = self._scan_numpy(queries, threshold)
        else:
            offsets, rows, dists = kernels.search_batch(
                _words(self._hashes[: self._n]),
                self._alive[: self._n],
                self._n_indexed,
                self._rows,
                self._lo,
                self._offsets,
                self._layout.starts,
                self._layout.lengths,
                self._layout.masks,
                radii,
                FLIPS,
                FLIP_OFFSETS,
                _words(queries),
                threshold,
                use_tables,
            )
        ids = self._ids[rows]
        query_of = np.repeat(np.arange(n_queries), np.diff(offsets))
        order = np.lexsort((ids, dists, query_of))
        ids, dists = ids[order], dists[order]
        return [
            (ids[offsets[q] : offsets[q + 1]], dists[offsets[q] : offsets[q + 1]]) for q in range(n_queries)
        ]

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index as a directory of .npy arrays plus header.json (format in persist.py)."""
        meta = {
            "count": self._n,
            "live": self._live,
            "indexed": self._n_indexed,
            "part_bits": list(self.part_bits),
            "hi_bits": kernels.HI_BITS,
            "watermark": self.watermark,
        }
        arrays: dict[str, np.ndarray] = {
            "hashes": self._hashes[: self._n],
            "ids": self._ids[: self._n],
            "alive": self._alive[: self._n],
            "table_rows": self._rows,
            "table_lo": self._lo,
            "table_offsets": self._offsets,
        }
        save_arrays(path, FORMAT, FORMAT_VERSION, meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = True) -> PDQIndex:
        """Open a saved index. With mmap (the default) arrays are paged in from the files on use, so
        opening is instant and processes opening the same index share memory; changes made after
        loading copy what they touch into memory and never write to the files."""
        header, arrays = load_arrays(path, FORMAT, FORMAT_VERSION, mmap)
        try:
            index = cls(tuple(header["part_bits"]))
            n, indexed = int(header["count"]), int(header["indexed"])
            m = len(index.part_bits)
            shapes = {
                "hashes": (n, HASH_BYTES),
                "ids": (n,),
                "alive": (n,),
                "table_rows": (m, indexed),
                "table_lo": (m, indexed),
                "table_offsets": (m, kernels.N_BUCKETS + 1),
            }
            dtypes = {"hashes": "|u1", "ids": "<i8", "alive": "|b1", "table_rows": "<i4", "table_lo": "|u1"}
            dtypes["table_offsets"] = "<i4"
            for name, shape in shapes.items():
                if arrays[name].shape != shape or arrays[name].dtype.str != dtypes[name]:
                    raise IndexFormatError(f"{path}: {name} should be {dtypes[name]} {shape}")
            offs = arrays["table_offsets"]
            if (
                header["hi_bits"] != kernels.HI_BITS
                or indexed > n
                or (
                    m
                    and (
                        offs[:, 0].any()
                        or (offs[:, -1] != indexed).any()
                        or (np.diff(offs, axis=1) < 0).any()
                    )
                )
            ):
                raise IndexFormatError(f"{path}: the tables do not fit the stored hashes")
            watermark = header.get("watermark")
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexFormatError(f"{path}: header.json is incomplete or wrong: {exc!r}") from None
        index._hashes, index._ids, index._alive = arrays["hashes"], arrays["ids"], arrays["alive"]
        index._n = n
        index._live = int(np.count_nonzero(index._alive))
        index._set_tables(arrays["table_rows"], arrays["table_lo"], offs)
        index.watermark = None if watermark is None else int(watermark)
        return index

    # -- internals -------------------------------------------------------------------------
    def _empty_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m = len(self.part_bits)
        return (
            np.empty((m, 0), np.int32),
            np.empty((m, 0), np.uint8),
            np.zeros((m, kernels.N_BUCKETS + 1), np.int32),
        )

    def _set_tables(self, rows: np.ndarray, lo: np.ndarray, offsets: np.ndarray) -> None:
        self._rows, self._lo, self._offsets = rows, lo, offsets
        self._n_indexed = rows.shape[1]

    def _grow(self, size: int) -> None:
        """Room for `size` rows in writable buffers (memory-mapped ones are copied on first change)."""
        capacity = self._hashes.shape[0]
        writable = all(a.flags.writeable for a in (self._hashes, self._ids, self._alive))
        if size <= capacity and writable:
            return
        capacity = max(size, 2 * capacity, 1024) if size > capacity else capacity
        for name, shape, dtype in (
            ("_hashes", (capacity, HASH_BYTES), np.uint8),
            ("_ids", (capacity,), np.int64),
            ("_alive", (capacity,), np.bool_),
        ):
            bigger = np.zeros(shape, dtype)
            bigger[: self._n] = getattr(self, name)[: self._n]
            setattr(self, name, bigger)

    def _scan_numpy(self, queries: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """search_batch's answer for a small index without tables, by comparing every live row."""
        live = np.flatnonzero(self._alive[: self._n])
        words = _words(self._hashes[: self._n])[live]
        query_words = _words(queries)
        step = max(1, (1 << 20) // max(1, live.size))
        found_q, found_rows, found_dists = [], [], []
        for start in range(0, queries.shape[0], step):
            block = query_words[start : start + step]
            dists = np.bitwise_count(block[:, None, :] ^ words[None, :, :]).sum(axis=2, dtype=np.int32)
            q, r = np.nonzero(dists <= threshold)
            found_q.append(q + start)
            found_rows.append(live[r])
            found_dists.append(dists[q, r])
        query_of = np.concatenate(found_q)
        offsets = np.searchsorted(query_of, np.arange(queries.shape[0] + 1))
        return offsets, np.concatenate(found_rows), np.concatenate(found_dists).astype(np.int32)

    def _rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Rows (live or not) holding any of these ids: by binary search in the rows sorted by id, and
        one by one among rows added since that sort (all of them while there are few)."""
        if self._n - self._n_sorted > DELTA_LIMIT:
            self._order = np.argsort(self._ids[: self._n], kind="stable").astype(np.int32)
            self._n_sorted = self._n
        found = [np.empty(0, np.int64)]
        if self._order is not None and self._order.size:
            found.append(tables.find_rows(self._ids, self._order, ids))
        if self._n > self._n_sorted:
            tail = np.flatnonzero(np.isin(self._ids[self._n_sorted : self._n], ids))
            found.append(tail + self._n_sorted)
        return np.concatenate(found)

    def _fold(self) -> None:
        """Merge pending rows into the tables (or rebuild them all if many rows are dead)."""
        base, n = self._n_indexed, self._n
        if base == 0 or self._n - self._live > COMPACT_DEAD_FRACTION * self._n:
            self._rebuild()
            return
        words = _words(self._hashes[base:n])
        m = len(self.part_bits)
        rows = np.empty((m, n), np.int32)
        lo = np.empty((m, n), np.uint8)
        offsets = np.empty((m, kernels.N_BUCKETS + 1), np.int32)
        new_rows = np.empty(n - base, np.int32)
        new_lo = np.empty(n - base, np.uint8)
        for p in range(m):
            new_offsets = tables.build_table(
                words, self._layout.starts[p], self._layout.lengths[p], new_rows, new_lo
            )
            offsets[p] = tables.merge_table(
                self._rows[p],
                self._lo[p],
                self._offsets[p],
                new_rows,
                new_lo,
                new_offsets,
                base,
                rows[p],
                lo[p],
            )
        self._set_tables(rows, lo, offsets)

    def _rebuild(self) -> None:
        n = self._n
        if self._live < n:  # compact: removed rows leave for good
            keep = np.flatnonzero(self._alive[:n])
            self._hashes = self._hashes[keep]
            self._ids = self._ids[keep]
            self._alive = np.ones(keep.size, np.bool_)
            self._n = n = keep.size
            self._order, self._n_sorted = None, 0
        words = _words(np.ascontiguousarray(self._hashes[:n]))
        m = len(self.part_bits)
        rows = np.empty((m, n), np.int32)
        lo = np.empty((m, n), np.uint8)
        offsets = np.empty((m, kernels.N_BUCKETS + 1), np.int32)
        for p in range(m):
            offsets[p] = tables.build_table(
                words, self._layout.starts[p], self._layout.lengths[p], rows[p], lo[p]
            )
        self._set_tables(rows, lo, offsets)
