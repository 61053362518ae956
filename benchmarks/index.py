"""PDQ range queries at T=31: opspoor's PDQIndex against FAISS as Meta's HMA uses it, and brute force.

    /work/venv/bin/python benchmarks/index.py --sizes 1000000,10000000 --queries 1000

Datasets (synthetic, cached as .npy under --cache so repeated runs skip generating them):
- uniform: N random 256-bit hashes;
- clustered: N/10 random family centres with 10 members each, every member the centre with 0..20
  random bits flipped — like real lists, which hold many re-encoded, resized and cropped copies.
Queries mix hits and misses: half are a stored hash (uniform) or a family centre (clustered) with
0..12 bits flipped, half are random hashes (what most files checked against a list are).

Baselines, all single-threaded (faiss.omp_set_num_threads(1); our kernels are single-threaded):
- FAISS IndexBinaryMultiHash(256, 16, 16) with nflip = 31 // 16 = 1 and range_search radius 32, as
  python-threatexchange's PDQMultiHashIndex does (FAISS keeps distances < radius, so 32 means <= 31);
- FAISS IndexBinaryFlat range_search (brute force), also the ground truth for recall.
"batched" is one call with every query, "single" one call per query. Times are CPU time of the
process (time.process_time), the best of --repeats runs, so that other jobs on a shared machine
disturb them less; on an idle machine they equal wall time. Every index is built in its own child
process and its memory is the growth of that process's resident set (after a warm-up and
malloc_trim), divided by N.
"""

from __future__ import annotations

import argparse
import ctypes
import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

THRESHOLD = 31
FAMILY = 10
MAX_FLIPS = 20


def rss_bytes(field: str = "VmRSS") -> int:
    """Resident memory of this process (VmRSS), or its peak so far (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def retained_bytes() -> int:
    """Resident memory after handing freed heap back to the OS, so temporaries of a build that the
    allocator merely kept around are not counted as the index's memory (done for every index)."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_bytes()


def flip_bits(hashes: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flip up to counts[i] random bits of row i (a bit drawn twice flips back, so a few flip fewer)."""
    out = hashes.copy()
    rows = np.arange(out.shape[0])
    for j in range(int(counts.max(initial=0))):
        bits = rng.integers(0, 256, out.shape[0])
        active = rows[counts > j]
        out[active, bits[active] >> 3] ^= (1 << (bits[active] & 7)).astype(np.uint8)
    return out


def dataset(kind: str, n: int, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """(stored hashes, hashes that hit queries are made from) — cached on disk."""
    base = cache / f"{kind}_{n}"
    if Path(f"{base}.npy").exists():
        return np.load(f"{base}.npy"), np.load(f"{base}_sources.npy")
    rng = np.random.default_rng(20261121 + n + (kind == "clustered"))
    if kind == "uniform":
        data = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        sources = data[rng.integers(0, n, 100_000)]
    else:
        centres = rng.integers(0, 256, (n // FAMILY, 32), dtype=np.uint8)
        members = np.repeat(centres, FAMILY, axis=0)
        data = flip_bits(members, rng.integers(0, MAX_FLIPS + 1, members.shape[0]), rng)
        data = data[rng.permutation(data.shape[0])]
        sources = centres[rng.integers(0, centres.shape[0], 100_000)]
    cache.mkdir(parents=True, exist_ok=True)
    np.save(f"{base}.npy", data)
    np.save(f"{base}_sources.npy", sources)
    return data, sources


def make_queries(sources: np.ndarray, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hits = flip_bits(sources[: count // 2], rng.integers(0, 13, count // 2), rng)
    misses = rng.integers(0, 256, (count - count // 2, 32), dtype=np.uint8)
    return np.concatenate([hits, misses])[rng.permutation(count)]


def best_time(func: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.process_time()
        result = func()
        best = min(best, time.process_time() - start)
    return result, best


Results = list[dict[int, int]]


def _faiss_results(lims: np.ndarray, dists: np.ndarray, labels: np.ndarray) -> Results:
    return [
        dict(zip(labels[lims[q] : lims[q + 1]].tolist(), dists[lims[q] : lims[q + 1]].tolist(), strict=True))
        for q in range(lims.shape[0] - 1)
    ]


def measure(name: str, kind: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Build one index in this (child) process and time it; returns numbers and its results."""
    import faiss

    faiss.omp_set_num_threads(1)
    data, sources = dataset(kind, n, args.cache)
    queries = make_queries(sources, args.queries, seed=n + 1)
    single = queries[: args.single]
    out: dict[str, Any] = {"index": name}
    if name == "opspoor PDQIndex":
        from opspoor.index.pdq import PDQIndex

        warm = PDQIndex()
        warm.add(np.arange(100), data[:100])
        warm.rebuild()
        warm.search(queries[:2])  # load the compiled kernels before measuring memory
        rss0 = retained_bytes()
        index = PDQIndex()
        _, out["build_s"] = best_time(lambda: index.add(np.arange(n, dtype=np.int64), data), 1)
        out["bytes_per_hash"] = (retained_bytes() - rss0) / n
        out["peak_bytes_per_hash"] = (rss_bytes("VmHWM") - rss0) / n
        out["array_bytes_per_hash"] = index.memory_bytes() / n
        results, out["batched_s"] = best_time(lambda: index.search(queries, THRESHOLD), args.repeats)
        out["results"] = [dict(zip(i.tolist(), d.tolist(), strict=True)) for i, d in results]
        _, out["single_s"] = best_time(
            lambda: [index.search(single[i : i + 1], THRESHOLD) for i in range(len(single))], args.repeats
        )
        out["by_threshold"] = {}
        for t in args.thresholds:
            _, seconds = best_time(lambda t=t: index.search(queries, t), 1)
            out["by_threshold"][t] = len(queries) / seconds
        saved = args.cache / f"saved_{kind}_{n}"
        _, out["save_s"] = best_time(lambda: index.save(saved), 1)
        start = time.perf_counter()
        loaded = PDQIndex.load(saved)
        out["load_ms"] = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        loaded.search(queries, THRESHOLD)
        out["first_batch_after_load_s"] = time.perf_counter() - start
        return out
    warm_index = faiss.IndexBinaryFlat(256)
    warm_index.add(data[:100])
    warm_index.range_search(queries[:2], THRESHOLD + 1)
    rss0 = retained_bytes()
    if name.startswith("faiss IndexBinaryMultiHash"):
        index = faiss.IndexBinaryMultiHash(256, 16, 16)
        index.nflip = THRESHOLD // 16  # what python-threatexchange's PDQMultiHashIndex sets
    else:
        index = faiss.IndexBinaryFlat(256)
    _, out["build_s"] = best_time(lambda: index.add(data), 1)
    out["bytes_per_hash"] = (retained_bytes() - rss0) / n
    repeats = args.baseline_repeats
    found, out["batched_s"] = best_time(lambda: index.range_search(queries, THRESHOLD + 1), repeats)
    out["results"] = _faiss_results(*found)
    _, out["single_s"] = best_time(
        lambda: [index.range_search(single[i : i + 1], THRESHOLD + 1) for i in range(len(single))], repeats
    )
    return out


def recall(truth: Results, got: Results) -> tuple[float, bool]:
    """Fraction of true (id, distance) pairs found, and whether the results are exactly the truth."""
    total = sum(len(t) for t in truth)
    found = sum(sum(1 for k, d in t.items() if g.get(k) == d) for t, g in zip(truth, got, strict=True))
    return (found / total if total else 1.0), all(t == g for t, g in zip(truth, got, strict=True))


def run(kind: str, n: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    dataset(kind, n, args.cache)  # generate once, before the children read it
    names = ["faiss IndexBinaryFlat", "opspoor PDQIndex", "faiss IndexBinaryMultiHash(256,16,16)"]
    rows = []
    context = multiprocessing.get_context("fork")
    for name in names:
        with context.Pool(1) as pool:
            rows.append(pool.apply(measure, (name, kind, n, args)))
    truth = rows[0]["results"]
    for row in rows:
        row["recall"], row["exact"] = recall(truth, row.pop("results"))
        row["qps_batched"] = args.queries / row["batched_s"]
        row["qps_single"] = args.single / row["single_s"]
        row["dataset"] = f"{kind} {n:,}"
    flat, ours, multi = rows
    print(
        f"[{kind} {n:,}] {sum(1 for t in truth if t)} of {args.queries} queries match,"
        f" {sum(len(t) for t in truth)} matches in all. opspoor vs FAISS multi-hash:"
        f" {ours['qps_batched'] / multi['qps_batched']:.1f}x batched,"
        f" {ours['qps_single'] / multi['qps_single']:.1f}x single; vs FAISS flat:"
        f" {ours['qps_batched'] / flat['qps_batched']:.1f}x batched,"
        f" {ours['qps_single'] / flat['qps_single']:.1f}x single",
        flush=True,
    )
    print(
        f"[{kind} {n:,}] opspoor: arrays {ours['array_bytes_per_hash']:.1f} B/hash, peak while building"
        f" {ours['peak_bytes_per_hash']:.0f} B/hash; save"
        f" {ours['save_s']:.2f} s, load (mmap) {ours['load_ms']:.1f} ms, first batch after load"
        f" {ours['first_batch_after_load_s']:.2f} s; q/s by threshold (batched): "
        + ", ".join(f"T={t}: {q:.0f}" for t, q in ours["by_threshold"].items()),
        flush=True,
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--kinds", default="uniform,clustered")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--single", type=int, default=100, help="queries timed one per call")
    parser.add_argument("--repeats", type=int, default=3, help="runs of opspoor's timings (best kept)")
    parser.add_argument("--baseline-repeats", type=int, default=1, help="runs of FAISS timings")
    parser.add_argument("--thresholds", default="0,16,31,40,64", help="extra opspoor-only thresholds")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/opspoor_index_bench"))
    args = parser.parse_args()
    args.thresholds = [int(t) for t in args.thresholds.split(",") if t]
    table = []
    for n in (int(s) for s in args.sizes.split(",")):
        for kind in args.kinds.split(","):
            table += run(kind, n, args)
    columns = f"{'dataset':<20} {'index':<38} {'build s':>8} {'B/hash':>7} {'q/s batched':>11}"
    header = f"{columns} {'q/s single':>10} {'recall':>7} exact"
    print("\n" + header + "\n" + "-" * len(header))
    for r in table:
        print(
            f"{r['dataset']:<20} {r['index']:<38} {r['build_s']:>8.1f} {r['bytes_per_hash']:>7.0f}"
            f" {r['qps_batched']:>11.0f} {r['qps_single']:>10.0f} {r['recall']:>7.4f} {r['exact']}"
        )


if __name__ == "__main__":
    main()
