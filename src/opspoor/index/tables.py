"""Compiled kernels that build and merge the PDQ index's tables and find rows by id.

Tables sort rows by one part of the hash: bucket = the part's top 16 bits, then the remaining low bits
(kept inline in the table). Building is two counting sorts per part, so it is linear in the rows.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from opspoor.index.kernels import HI_BITS, N_BUCKETS, extract


@njit(cache=True)
def build_table(
    words: np.ndarray, start: int, length: int, out_rows: np.ndarray, out_lo: np.ndarray
) -> np.ndarray:
    """Sort rows by one part's key (bucket = top 16 bits, then the low bits) with two counting sorts.

    Fills out_rows (int32) and out_lo (uint8, the key's low bits kept inline so a bucket can be
    filtered without touching the hashes) and returns the bucket offsets (N_BUCKETS + 1, int64).
    """
    n = words.shape[0]
    lo_bits = np.uint64(length - HI_BITS)
    lo_mask = (np.uint64(1) << lo_bits) - np.uint64(1)
    hi = np.empty(n, np.uint16)
    lo = np.empty(n, np.uint8)
    for r in range(n):
        key = extract(words, r, start, length)
        hi[r] = np.uint16(key >> lo_bits)
        lo[r] = np.uint8(key & lo_mask)
    # Pass 1: stable counting sort by the low byte.
    counts = np.zeros(257, np.int64)
    for r in range(n):
        counts[np.int64(lo[r]) + 1] += 1
    for k in range(256):
        counts[k + 1] += counts[k]
    tmp_rows = np.empty(n, np.int32)
    tmp_hi = np.empty(n, np.uint16)
    tmp_lo = np.empty(n, np.uint8)
    for r in range(n):
        pos = counts[lo[r]]
        counts[lo[r]] += 1
        tmp_rows[pos] = r
        tmp_hi[pos] = hi[r]
        tmp_lo[pos] = lo[r]
    # Pass 2: stable counting sort by bucket, so each bucket ends up sorted by its low bits.
    offsets = np.zeros(N_BUCKETS + 1, np.int64)
    for i in range(n):
        offsets[np.int64(tmp_hi[i]) + 1] += 1
    for k in range(N_BUCKETS):
        offsets[k + 1] += offsets[k]
    fill = offsets[:-1].copy()
    for i in range(n):
        h = tmp_hi[i]
        pos = fill[h]
        fill[h] += 1
        out_rows[pos] = tmp_rows[i]
        out_lo[pos] = tmp_lo[i]
    return offsets


@njit(cache=True)
def merge_table(
    old_rows: np.ndarray,
    old_lo: np.ndarray,
    old_offsets: np.ndarray,
    new_rows: np.ndarray,
    new_lo: np.ndarray,
    new_offsets: np.ndarray,
    new_base: int,
    out_rows: np.ndarray,
    out_lo: np.ndarray,
) -> np.ndarray:
    """Merge a table of recent rows (numbered from new_base) into a built one, both sorted by
    (bucket, low bits): one linear pass instead of sorting everything again. Returns the offsets."""
    offsets = np.empty(N_BUCKETS + 1, np.int64)
    pos = 0
    for h in range(N_BUCKETS):
        offsets[h] = pos
        i = np.int64(old_offsets[h])
        i_end = np.int64(old_offsets[h + 1])
        j = np.int64(new_offsets[h])
        j_end = np.int64(new_offsets[h + 1])
        while i < i_end or j < j_end:
            if j == j_end or (i < i_end and old_lo[i] <= new_lo[j]):
                out_rows[pos] = old_rows[i]
                out_lo[pos] = old_lo[i]
                i += 1
            else:
                out_rows[pos] = new_rows[j] + new_base
                out_lo[pos] = new_lo[j]
                j += 1
            pos += 1
    offsets[N_BUCKETS] = pos
    return offsets


@njit(cache=True)
def find_rows(ids: np.ndarray, order: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Rows whose id is in `wanted`, by binary search of ids through `order` (ids[order] is sorted)."""
    found = np.empty(16, np.int64)
    n_found = 0
    n = order.shape[0]
    for w in wanted:
        a = 0
        b = n
        while a < b:
            mid = (a + b) >> 1
            if ids[order[mid]] < w:
                a = mid + 1
            else:
                b = mid
        while a < n and ids[order[a]] == w:
            if n_found == found.shape[0]:
                bigger = np.empty(2 * n_found, np.int64)
                bigger[:n_found] = found
                found = bigger
            found[n_found] = order[a]
            n_found += 1
            a += 1
    return found[:n_found]
