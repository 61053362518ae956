"""Compiled kernels of the PDQ index: table building, multi-index search and brute-force scans.

Hashes are handled as four little-endian uint64 words per 256-bit hash (bit b lives in word b // 64 at
position b % 64), so a Hamming distance is four XORs and four popcounts. Numba compiles these loops
once per machine (cache=True keeps the machine code next to this file); every kernel is
single-threaded so a caller decides how many cores a search may use.

Everything is typed in unsigned 64-bit on purpose: numba turns a mix of uint64 and int64 into float64.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

HI_BITS = 16  # every part's top 16 bits address a bucket directly: 65,536 buckets per table
N_BUCKETS = 1 << HI_BITS


@intrinsic
def _ctpop(typingctx, x):  # type: ignore[no-untyped-def]
    """The CPU's popcount instruction (llvm.ctpop), which numba does not expose by itself."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(fn, args)

    return sig, codegen


@njit(cache=True, inline="always")
def popcount(x: np.uint64) -> int:
    return np.int64(_ctpop(x))


@njit(cache=True, inline="always")
def extract(words: np.ndarray, start: np.int64, length: np.int64) -> np.uint64:
    """Bits [start, start + length) of a hash (length <= 32) as an integer."""
    wi = start >> 6
    off = np.uint64(start & 63)
    value = words[wi] >> off
    if (start & 63) + length > 64:
        value |= words[wi + 1] << (np.uint64(64) - off)
    return value & ((np.uint64(1) << np.uint64(length)) - np.uint64(1))


@njit(cache=True)
def build_table(
    words: np.ndarray, start: np.int64, length: np.int64, out_rows: np.ndarray, out_lo: np.ndarray
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
        key = extract(words[r], start, length)
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


@njit(cache=True, inline="always")
def _push(
    rows: np.ndarray, dists: np.ndarray, n: np.int64, row: np.int64, dist: np.int64
) -> tuple[np.ndarray, np.ndarray]:
    if n == rows.shape[0]:
        bigger_rows = np.empty(2 * n, np.int64)
        bigger_dists = np.empty(2 * n, np.int32)
        bigger_rows[:n] = rows
        bigger_dists[:n] = dists
        rows, dists = bigger_rows, bigger_dists
    rows[n] = row
    dists[n] = dist
    return rows, dists


@njit(cache=True)
def search_batch(
    words: np.ndarray,
    alive: np.ndarray,
    n_indexed: np.int64,
    table_rows: np.ndarray,
    table_lo: np.ndarray,
    table_offsets: np.ndarray,
    part_starts: np.ndarray,
    part_lengths: np.ndarray,
    part_masks: np.ndarray,
    radii: np.ndarray,
    flips: np.ndarray,
    flip_offsets: np.ndarray,
    queries: np.ndarray,
    threshold: np.int64,
    use_tables: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All live rows within `threshold` of each query: (query offsets, rows, distances).

    Multi-index hashing (Norouzi, Punjani & Fleet, "Fast search in Hamming space with multi-index
    hashing", CVPR 2012) with per-part radii (the generalised pigeonhole principle of Qin et al.,
    ICDE 2018): if every part i differed by more than radii[i] bits, the hashes would differ by at least
    sum(radii + 1) > threshold bits, so probing each part's table within its radius finds every match.
    A hit found through part p is kept only if no earlier part already reaches it, so none repeats.
    Rows from n_indexed on (recent additions not yet in the tables) are compared one by one.
    """
    n_total = words.shape[0]
    n_parts = part_starts.shape[0]
    n_queries = queries.shape[0]
    q_offsets = np.zeros(n_queries + 1, np.int64)
    out_rows = np.empty(1024, np.int64)
    out_dists = np.empty(1024, np.int32)
    n_out = 0
    scan_from = n_indexed if use_tables else 0
    for q in range(n_queries):
        qw = queries[q]
        if use_tables:
            for p in range(n_parts):
                radius = radii[p]
                if radius < 0:
                    continue
                length = part_lengths[p]
                lo_bits = length - HI_BITS
                key = extract(qw, part_starts[p], length)
                q_hi = np.int64(key >> np.uint64(lo_bits))
                q_lo = np.int64(key & ((np.uint64(1) << np.uint64(lo_bits)) - np.uint64(1)))
                offsets = table_offsets[p]
                rows_p = table_rows[p]
                lo_p = table_lo[p]
                for flipped in range(min(radius, HI_BITS) + 1):
                    rest = radius - flipped  # bits the low part may still differ by
                    for k in range(flip_offsets[flipped], flip_offsets[flipped + 1]):
                        bucket = q_hi ^ flips[k]
                        begin = offsets[bucket]
                        end = offsets[bucket + 1]
                        if begin == end:
                            continue
                        if rest == 0 and lo_bits > 0:
                            # The low bits must be equal: binary search the sorted bucket.
                            a = begin
                            b = end
                            while a < b:
                                mid = (a + b) >> 1
                                if np.int64(lo_p[mid]) < q_lo:
                                    a = mid + 1
                                else:
                                    b = mid
                            begin = a
                        for j in range(begin, end):
                            lo_diff = np.uint64(np.int64(lo_p[j]) ^ q_lo)
                            if rest == 0 and lo_bits > 0:
                                if lo_diff != 0:
                                    break
                            elif rest < lo_bits and popcount(lo_diff) > rest:
                                continue
                            row = np.int64(rows_p[j])
                            hw = words[row]
                            x0 = hw[0] ^ qw[0]
                            x1 = hw[1] ^ qw[1]
                            x2 = hw[2] ^ qw[2]
                            x3 = hw[3] ^ qw[3]
                            dist = popcount(x0) + popcount(x1) + popcount(x2) + popcount(x3)
                            if dist > threshold or not alive[row]:
                                continue
                            seen = False
                            for i in range(p):
                                if radii[i] < 0:
                                    continue
                                m = part_masks[i]
                                d_i = (
                                    popcount(x0 & m[0])
                                    + popcount(x1 & m[1])
                                    + popcount(x2 & m[2])
                                    + popcount(x3 & m[3])
                                )
                                if d_i <= radii[i]:
                                    seen = True
                                    break
                            if not seen:
                                out_rows, out_dists = _push(out_rows, out_dists, n_out, row, dist)
                                n_out += 1
        for row in range(scan_from, n_total):
            hw = words[row]
            dist = (
                popcount(hw[0] ^ qw[0])
                + popcount(hw[1] ^ qw[1])
                + popcount(hw[2] ^ qw[2])
                + popcount(hw[3] ^ qw[3])
            )
            if dist <= threshold and alive[row]:
                out_rows, out_dists = _push(out_rows, out_dists, n_out, row, dist)
                n_out += 1
        q_offsets[q + 1] = n_out
    return q_offsets, out_rows[:n_out], out_dists[:n_out]


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
