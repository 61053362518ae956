"""Compiled search kernels of the PDQ index: multi-index search and brute-force scans.

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
    # np.int64, not int(): numba keeps int() of a uint64 unsigned, and uint64 mixed with int64 is float64.
    # (The ignore is for mypy: numba's intrinsic stub does not declare the argument.)
    return np.int64(_ctpop(x))  # type: ignore[call-arg,return-value]


@njit(cache=True, inline="always")
def extract(words: np.ndarray, row: int, start: int, length: int) -> np.uint64:
    """Bits [start, start + length) of hash `row` (length <= 32) as an integer."""
    wi = start >> 6
    off = np.uint64(start & 63)
    value = words[row, wi] >> off
    if (start & 63) + length > 64:
        value |= words[row, wi + 1] << (np.uint64(64) - off)
    return value & ((np.uint64(1) << np.uint64(length)) - np.uint64(1))


@njit(cache=True)
def _reserve(rows: np.ndarray, other: np.ndarray, used: int, more: int) -> tuple[np.ndarray, np.ndarray]:
    """Two parallel buffers with room for `more` entries after the first `used` (grown by doubling)."""
    if used + more <= rows.shape[0]:
        return rows, other
    size = max(2 * rows.shape[0], used + more)
    bigger_rows = np.empty(size, rows.dtype)
    bigger_other = np.empty(size, other.dtype)
    bigger_rows[:used] = rows[:used]
    bigger_other[:used] = other[:used]
    return bigger_rows, bigger_other


# The passes of a query are separate functions on purpose: numba updates the reference count of an
# array that a loop may reassign on every iteration, with atomic instructions that stall the memory
# reads around them (it made the verification loop 5x slower); arrays passed into a function are
# borrowed, so these loops run free of that. For the same reason they index 2-D arrays with scalars
# (words[row, 0]) instead of taking row views.


@njit(cache=True)
def _probe_buckets(
    queries: np.ndarray,
    q: int,
    table_offsets: np.ndarray,
    table_lo: np.ndarray,
    part_starts: np.ndarray,
    part_lengths: np.ndarray,
    radii: np.ndarray,
    flips: np.ndarray,
    flip_offsets: np.ndarray,
    query_lo: np.ndarray,
    probe_part: np.ndarray,
    probe_begin: np.ndarray,
    probe_end: np.ndarray,
    probe_rest: np.ndarray,
) -> tuple[int, int]:
    """Pass 1: the non-empty buckets query q visits; returns (how many, total rows in them).

    It also reads the first, middle and last low byte of each bucket and stores their sum where
    nothing uses it (query_lo[-1]): reads that nothing waits for act as prefetches, so the cache
    misses of pass 2 happen here, many at a time, instead of one after another in its binary searches.
    """
    n_probes = 0
    most = 0
    touched = np.int64(0)
    for p in range(part_starts.shape[0]):
        radius = radii[p]
        if radius < 0:
            continue
        length = part_lengths[p]
        lo_bits = np.uint64(length - HI_BITS)
        key = extract(queries, q, part_starts[p], length)
        q_hi = np.int64(key >> lo_bits)
        query_lo[p] = np.int64(key & ((np.uint64(1) << lo_bits) - np.uint64(1)))
        for flipped in range(min(radius, HI_BITS) + 1):
            for k in range(flip_offsets[flipped], flip_offsets[flipped + 1]):
                bucket = q_hi ^ flips[k]
                begin = np.int64(table_offsets[p, bucket])
                end = np.int64(table_offsets[p, bucket + 1])
                if begin < end:
                    probe_part[n_probes] = p
                    probe_begin[n_probes] = begin
                    probe_end[n_probes] = end
                    probe_rest[n_probes] = radius - flipped
                    n_probes += 1
                    most += int(end - begin)
                    touched += (
                        np.int64(table_lo[p, begin])
                        + np.int64(table_lo[p, (begin + end) >> 1])
                        + np.int64(table_lo[p, end - 1])
                    )
    query_lo[query_lo.shape[0] - 1] = touched
    return n_probes, most


@njit(cache=True)
def _filter_buckets(
    n_probes: int,
    probe_part: np.ndarray,
    probe_begin: np.ndarray,
    probe_end: np.ndarray,
    probe_rest: np.ndarray,
    query_lo: np.ndarray,
    part_lengths: np.ndarray,
    table_rows: np.ndarray,
    table_lo: np.ndarray,
    cand_rows: np.ndarray,
    cand_parts: np.ndarray,
) -> int:
    """Pass 2: rows of the visited buckets whose low key bits are within the part's radius."""
    n_cand = 0
    for i in range(n_probes):
        p = probe_part[i]
        lo_bits = part_lengths[p] - HI_BITS
        rest = probe_rest[i]
        q_lo = query_lo[p]
        begin = probe_begin[i]
        end = probe_end[i]
        if rest == 0 and lo_bits > 0:
            # The low bits must be equal: binary search the bucket (sorted by them).
            a = begin
            b = end
            while a < b:
                mid = (a + b) >> 1
                if np.int64(table_lo[p, mid]) < q_lo:
                    a = mid + 1
                else:
                    b = mid
            begin = a
            end = a
            while end < probe_end[i] and np.int64(table_lo[p, end]) == q_lo:
                end += 1
            take_all = True
        else:
            take_all = rest >= lo_bits
        for j in range(begin, end):
            if take_all or popcount(np.uint64(np.int64(table_lo[p, j]) ^ q_lo)) <= rest:
                cand_rows[n_cand] = table_rows[p, j]
                cand_parts[n_cand] = p
                n_cand += 1
    return n_cand


@njit(cache=True)
def _verify(
    words: np.ndarray,
    alive: np.ndarray,
    queries: np.ndarray,
    q: int,
    threshold: int,
    radii: np.ndarray,
    part_masks: np.ndarray,
    n_cand: int,
    cand_rows: np.ndarray,
    cand_parts: np.ndarray,
    out_rows: np.ndarray,
    out_dists: np.ndarray,
    n_out: int,
) -> int:
    """Pass 3: keep candidates within the threshold, each once; returns the new result count."""
    n_total = words.shape[0]
    q0 = queries[q, 0]
    q1 = queries[q, 1]
    q2 = queries[q, 2]
    q3 = queries[q, 3]
    for c in range(n_cand):
        row = cand_rows[c]
        if row >= n_total:
            continue  # only a damaged file could hold such a row
        x0 = words[row, 0] ^ q0
        x1 = words[row, 1] ^ q1
        x2 = words[row, 2] ^ q2
        x3 = words[row, 3] ^ q3
        dist = popcount(x0) + popcount(x1) + popcount(x2) + popcount(x3)
        if dist > threshold or not alive[row]:
            continue
        # Found through part p: skip it if an earlier part's probes already reached it.
        seen = False
        for i in range(cand_parts[c]):
            if radii[i] < 0:
                continue
            d_i = (
                popcount(x0 & part_masks[i, 0])
                + popcount(x1 & part_masks[i, 1])
                + popcount(x2 & part_masks[i, 2])
                + popcount(x3 & part_masks[i, 3])
            )
            if d_i <= radii[i]:
                seen = True
                break
        if not seen:
            out_rows[n_out] = row
            out_dists[n_out] = dist
            n_out += 1
    return n_out


@njit(cache=True)
def _scan(
    words: np.ndarray,
    alive: np.ndarray,
    begin: int,
    end: int,
    queries: np.ndarray,
    q: int,
    threshold: int,
    out_rows: np.ndarray,
    out_dists: np.ndarray,
    n_out: int,
) -> int:
    """Compare rows [begin, end) one by one (out_* must have room for end - begin more)."""
    q0 = queries[q, 0]
    q1 = queries[q, 1]
    q2 = queries[q, 2]
    q3 = queries[q, 3]
    for row in range(begin, end):
        dist = (
            popcount(words[row, 0] ^ q0)
            + popcount(words[row, 1] ^ q1)
            + popcount(words[row, 2] ^ q2)
            + popcount(words[row, 3] ^ q3)
        )
        if dist <= threshold and alive[row]:
            out_rows[n_out] = row
            out_dists[n_out] = dist
            n_out += 1
    return n_out


@njit(cache=True)
def search_batch(
    words: np.ndarray,
    alive: np.ndarray,
    n_indexed: int,
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
    threshold: int,
    use_tables: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All live rows within `threshold` of each query: (query offsets, rows, distances).

    Multi-index hashing (Norouzi, Punjani & Fleet, "Fast search in Hamming space with multi-index
    hashing", CVPR 2012) with per-part radii (the generalised pigeonhole principle of Qin et al.,
    ICDE 2018): if every part i differed by more than radii[i] bits, the hashes would differ by at least
    sum(radii + 1) > threshold bits, so probing each part's table within its radius finds every match.
    A hit found through part p is kept only if no earlier part already reaches it, so none repeats.
    Rows from n_indexed on (recent additions not yet in the tables) are compared one by one; without
    tables (use_tables False) every row is.
    """
    n_total = words.shape[0]
    n_parts = part_starts.shape[0]
    n_queries = queries.shape[0]
    q_offsets = np.zeros(n_queries + 1, np.int64)
    out_rows = np.empty(1024, np.int64)
    out_dists = np.empty(1024, np.int32)
    n_out = 0
    scan_from = n_indexed if use_tables else 0
    scan_chunk = 1 << 16
    n_probes = 0
    for p in range(n_parts):
        if radii[p] >= 0:
            n_probes += flip_offsets[min(radii[p], HI_BITS) + 1]
    probe_part = np.empty(n_probes, np.int64)
    probe_begin = np.empty(n_probes, np.int64)
    probe_end = np.empty(n_probes, np.int64)
    probe_rest = np.empty(n_probes, np.int64)
    query_lo = np.empty(n_parts + 1, np.int64)
    cand_rows = np.empty(4096, np.int64)
    cand_parts = np.empty(4096, np.int64)
    for q in range(n_queries):
        if use_tables:
            live, most = _probe_buckets(
                queries, q, table_offsets, table_lo, part_starts, part_lengths, radii, flips, flip_offsets,
                query_lo, probe_part, probe_begin, probe_end, probe_rest,
            )  # fmt: skip
            cand_rows, cand_parts = _reserve(cand_rows, cand_parts, 0, most)
            n_cand = _filter_buckets(
                live, probe_part, probe_begin, probe_end, probe_rest, query_lo, part_lengths,
                table_rows, table_lo, cand_rows, cand_parts,
            )  # fmt: skip
            out_rows, out_dists = _reserve(out_rows, out_dists, n_out, n_cand)
            n_out = _verify(
                words, alive, queries, q, threshold, radii, part_masks, n_cand, cand_rows, cand_parts,
                out_rows, out_dists, n_out,
            )  # fmt: skip
        for chunk in range(scan_from, n_total, scan_chunk):
            end = min(chunk + scan_chunk, n_total)
            out_rows, out_dists = _reserve(out_rows, out_dists, n_out, end - chunk)
            n_out = _scan(words, alive, chunk, end, queries, q, threshold, out_rows, out_dists, n_out)
        q_offsets[q + 1] = n_out
    return q_offsets, out_rows[:n_out], out_dists[:n_out]
