"""PDQ range queries at T=31: opspoor's PDQIndex against FAISS as Meta's HMA uses it, and brute force.

    /work/venv/bin/python benchmarks/index.py --sizes 1000000,10000000 --queries 2000

Datasets (synthetic, cached as .npy under --cache so repeated runs skip generating them):
- uniform: N random 256-bit hashes;
- clustered: N/10 random family centres with 10 members each, every member the centre with 0..20
  random bits flipped — like real lists, which hold many re-encoded, resized and cropped copies.
Queries mix hits and misses: half are a stored hash (uniform) or a family centre (clustered) with
0..12 bits flipped, half are random hashes (what most files checked against a list are).

Baselines, all single-threaded (faiss.omp_set_num_threads(1)):
- FAISS IndexBinaryMultiHash(256, 16, 16) with nflip = 31 // 16 = 1 and range_search radius 32, as
  python-threatexchange's PDQMultiHashIndex does (FAISS keeps distances < radius, so 32 means <= 31);
- FAISS IndexBinaryFlat range_search (brute force), also the ground truth for recall.
"single" times one query per call; "batched" one call with every query.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from opspoor.index.pdq import PDQIndex

THRESHOLD = 31
FAMILY = 10
MAX_FLIPS = 20


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


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
    """(stored hashes, hash that hit queries are made from) — cached on disk."""
    base = cache / f"{kind}_{n}"
    if base.with_suffix(".npy").exists():
        return np.load(base.with_suffix(".npy")), np.load(f"{base}_sources.npy")
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
    np.save(base.with_suffix(".npy"), data)
    np.save(f"{base}_sources.npy", sources)
    return data, sources


def make_queries(sources: np.ndarray, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hits = flip_bits(sources[: count // 2], rng.integers(0, 13, count // 2), rng)
    misses = rng.integers(0, 256, (count - count // 2, 32), dtype=np.uint8)
    return np.concatenate([hits, misses])[rng.permutation(count)]


def timed(func, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = func(*args)
    return result, time.perf_counter() - start


def faiss_results(lims: np.ndarray, dists: np.ndarray, labels: np.ndarray) -> list[dict[int, int]]:
    return [
        dict(zip(labels[lims[q] : lims[q + 1]].tolist(), dists[lims[q] : lims[q + 1]].tolist(), strict=True))
        for q in range(lims.shape[0] - 1)
    ]


def recall(truth: list[dict[int, int]], got: list[dict[int, int]]) -> tuple[float, bool]:
    """Fraction of true (id, distance) pairs found, and whether nothing extra was returned."""
    total = sum(len(t) for t in truth)
    found = sum(sum(1 for k, d in t.items() if g.get(k) == d) for t, g in zip(truth, got, strict=True))
    exact = all(t == g for t, g in zip(truth, got, strict=True))
    return (found / total if total else 1.0), exact


def run(kind: str, n: int, n_queries: int, n_single: int, cache: Path) -> list[dict[str, object]]:
    import faiss

    faiss.omp_set_num_threads(1)
    data, sources = dataset(kind, n, cache)
    queries = make_queries(sources, n_queries, seed=n + 1)
    single = queries[:n_single]
    ids = np.arange(n, dtype=np.int64)
    rows: list[dict[str, object]] = []

    flat = faiss.IndexBinaryFlat(256)
    rss0 = rss_bytes()
    _, build = timed(flat.add, data)
    flat_mem = rss_bytes() - rss0
    (lims, dists, labels), batched = timed(flat.range_search, queries, THRESHOLD + 1)
    truth = faiss_results(lims, dists, labels)
    _, one = timed(lambda: [flat.range_search(single[i : i + 1], THRESHOLD + 1) for i in range(n_single)])
    rows.append(
        _row("faiss IndexBinaryFlat", build, flat_mem, n, batched, n_queries, one, n_single, 1.0, True)
    )
    hits = sum(1 for t in truth if t)
    del flat

    rss0 = rss_bytes()
    index = PDQIndex()
    _, build = timed(index.add, ids, data)
    mem = max(index.memory_bytes(), rss_bytes() - rss0)
    index.search(queries[:2], THRESHOLD)  # compile outside the timing (numba caches on disk anyway)
    results, batched = timed(index.search, queries, THRESHOLD)
    got = [dict(zip(i.tolist(), d.tolist(), strict=True)) for i, d in results]
    rec, exact = recall(truth, got)
    _, one = timed(lambda: [index.search(single[i : i + 1], THRESHOLD) for i in range(n_single)])
    rows.append(_row("opspoor PDQIndex", build, mem, n, batched, n_queries, one, n_single, rec, exact))
    save_dir = cache / f"saved_{kind}_{n}"
    _, save_s = timed(index.save, save_dir)
    del index
    loaded, load_s = timed(PDQIndex.load, save_dir)
    _, first = timed(loaded.search, queries, THRESHOLD)
    print(
        f"  [{kind} {n:,}] save {save_s:.2f}s, load (mmap) {load_s * 1000:.1f} ms, first batch after load {first:.2f}s"
    )
    del loaded

    rss0 = rss_bytes()
    multi = faiss.IndexBinaryMultiHash(256, 16, 16)
    multi.nflip = THRESHOLD // 16
    _, build = timed(multi.add, data)
    mem = rss_bytes() - rss0
    (lims, dists, labels), batched = timed(multi.range_search, queries, THRESHOLD + 1)
    rec, exact = recall(truth, faiss_results(lims, dists, labels))
    _, one = timed(lambda: [multi.range_search(single[i : i + 1], THRESHOLD + 1) for i in range(n_single)])
    rows.append(
        _row(
            "faiss IndexBinaryMultiHash(256,16,16)",
            build,
            mem,
            n,
            batched,
            n_queries,
            one,
            n_single,
            rec,
            exact,
        )
    )
    del multi
    print(
        f"  [{kind} {n:,}] {hits} of {n_queries} queries have matches; {sum(len(t) for t in truth)} matches"
    )
    return [dict(r, dataset=f"{kind} {n:,}") for r in rows]


def _row(name, build, mem, n, batched, n_queries, one, n_single, rec, exact):  # type: ignore[no-untyped-def]
    return {
        "index": name,
        "build_s": build,
        "bytes_per_hash": mem / n,
        "qps_batched": n_queries / batched,
        "qps_single": n_single / one,
        "recall": rec,
        "exact": exact,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--kinds", default="uniform,clustered")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--single", type=int, default=200, help="queries timed one per call")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/opspoor_index_bench"))
    args = parser.parse_args()
    table = []
    for n in (int(s) for s in args.sizes.split(",")):
        for kind in args.kinds.split(","):
            rows = run(kind, n, args.queries, args.single, args.cache)
            table += rows
            ours, flat, multi = rows[1], rows[0], rows[2]
            print(
                f"  [{kind} {n:,}] opspoor vs FAISS multi-hash: {ours['qps_batched'] / multi['qps_batched']:.1f}x"
                f" batched, {ours['qps_single'] / multi['qps_single']:.1f}x single;"
                f" vs flat: {ours['qps_batched'] / flat['qps_batched']:.1f}x batched,"
                f" {ours['qps_single'] / flat['qps_single']:.1f}x single",
                flush=True,
            )
    header = f"{'dataset':<20} {'index':<38} {'build s':>8} {'B/hash':>7} {'q/s batch':>10} {'q/s single':>10} {'recall':>7} exact"
    print("\n" + header + "\n" + "-" * len(header))
    for r in table:
        print(
            f"{r['dataset']:<20} {r['index']:<38} {r['build_s']:>8.1f} {r['bytes_per_hash']:>7.0f}"
            f" {r['qps_batched']:>10.0f} {r['qps_single']:>10.0f} {r['recall']:>7.4f} {r['exact']}"
        )


if __name__ == "__main__":
    main()
