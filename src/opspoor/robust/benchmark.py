"""The robustness benchmark: recall per alteration at one threshold giving 99.99% precision.

Thorn's metric (thorn-oss/perception, `compute_threshold_recall`, precision_threshold=99.99): for
each method, one distance or score threshold is swept over all (query, reference) pairs, where a
query is an altered copy, its source is the positive and every other reference a negative; the
loosest threshold whose precision is at least 99.99% is kept and recall is reported per
alteration. Methods: PDQ as HMA uses it (whole picture, Hamming, no dihedral variants), pHash
(imagehash.phash, hash_size 16, as Thorn's pHash-16) and opspoor's robust matching.

Works on any list of photo paths, so tests run it on a few dozen and benchmarks/robustness.py on
the whole benign corpus.
"""

from __future__ import annotations

import io
import multiprocessing
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import imagehash
import numpy as np
from PIL import Image

from opspoor.robust import match, transforms
from opspoor.robust.search import RobustIndex, RobustMatch
from opspoor.signals.pdq import hash_pixels, reference_resize

PRECISION = 0.9999
PHASH_SIZE = 16
METHODS = ("pdq", "phash", "opspoor")


@dataclass
class QueryResult:
    source: int
    transform: str
    pdq: np.ndarray  # (32,) uint8 whole-picture PDQ of the altered copy
    phash: np.ndarray  # (32,) uint8
    matches: list[RobustMatch]
    # CPU seconds (process time, so other jobs on a shared machine do not inflate them):
    seconds_pdq: float  # decode + plain PDQ: the baseline cost of a check
    seconds_robust: float  # robust views + search + verification, on top of the baseline


@dataclass
class Corpus:
    pdq: np.ndarray  # (N, 32)
    phash: np.ndarray  # (N, 32)
    index: RobustIndex
    entry_bytes: list[int]  # extra index memory per reference (views + features)


@dataclass
class Sweep:
    threshold: int
    recall: dict[str, float]  # per transform, plus "overall"
    false_matches: int


@dataclass
class Report:
    photos: int
    queries: int
    sweeps: dict[str, Sweep]
    operating: Sweep  # opspoor at its fixed operating threshold
    pdq_at_31: Sweep  # PDQ at Meta's recommended threshold, as HMA matches in production
    self_false_matches: dict[str, int]  # distinct-photo pairs matching at the operating thresholds
    ms_pdq: float
    ms_robust: float
    entry_bytes: float
    transforms: list[str] = field(default_factory=list)
    results: list[QueryResult] = field(default_factory=list, repr=False)  # raw, for analysis


def _rgb(data: bytes | Path) -> np.ndarray:
    with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as im:
        return np.asarray(im.convert("RGB"))


def _pdq(rgb: np.ndarray) -> np.ndarray:
    hex_value, _ = hash_pixels(reference_resize(rgb))
    return np.frombuffer(bytes.fromhex(hex_value), np.uint8)


def _phash(rgb: np.ndarray) -> np.ndarray:
    bits = imagehash.phash(Image.fromarray(rgb), hash_size=PHASH_SIZE).hash
    return np.packbits(bits.astype(np.uint8).ravel())


def _reference(path: Path) -> tuple[np.ndarray, np.ndarray, match.ReferenceData]:
    rgb = _rgb(path)
    return _pdq(rgb), _phash(rgb), match.reference_data(rgb)


_INDEX: RobustIndex | None = None


def _queries(job: tuple[int, Path, Sequence[str]]) -> list[QueryResult]:
    position, path, names = job
    assert _INDEX is not None
    source = _rgb(path)
    out = []
    for name in names:
        data = transforms.apply(name, source, seed=position)
        start = time.process_time()
        rgb = _rgb(data)
        pdq = _pdq(rgb)
        middle = time.process_time()
        found = _INDEX.search(match.query_data(rgb))
        end = time.process_time()
        out.append(QueryResult(position, name, pdq, _phash(rgb), found, middle - start, end - middle))
    return out


def _self_check(job: tuple[int, Path]) -> list[RobustMatch]:
    position, path = job
    assert _INDEX is not None
    # The photo itself must not be a candidate: the search stops at the first match.
    return _INDEX.search(match.query_data(_rgb(path)), exclude=position)


def _map(func, jobs, workers: int):  # type: ignore[no-untyped-def]
    if workers <= 1:
        return [func(j) for j in jobs]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        out = []
        for done, result in enumerate(pool.imap(func, jobs, chunksize=4), 1):
            out.append(result)
            if done % 250 == 0:
                print(f"  {func.__name__}: {done}/{len(jobs)}", file=sys.stderr, flush=True)
        return out


def build_corpus(paths: Sequence[Path], workers: int = 1) -> Corpus:
    refs = _map(_reference, list(paths), workers)
    index = RobustIndex()
    sizes = []
    for i, (_, _, data) in enumerate(refs):
        index.add(i, data)
        # In memory: the view hashes, uint16 x/y and the 32-byte descriptor per keypoint.
        sizes.append(data.views.nbytes + data.features.points.size * 2 + data.features.descriptors.nbytes)
    return Corpus(np.stack([r[0] for r in refs]), np.stack([r[1] for r in refs]), index, sizes)


def _hamming_rows(queries: np.ndarray, refs: np.ndarray, block: int = 256):  # type: ignore[no-untyped-def]
    """Yield (start, (B, N) Hamming distances) in row blocks, to bound memory."""
    r = np.ascontiguousarray(refs).view("<u8")
    q = np.ascontiguousarray(queries).view("<u8")
    for start in range(0, len(q), block):
        yield start, np.bitwise_count(q[start : start + block, None, :] ^ r[None]).sum(axis=2)


def distance_histograms(
    queries: np.ndarray, refs: np.ndarray, sources: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each query's distance to its source, and the histogram (0..256) of all other pairs."""
    positive = np.empty(len(queries), np.int64)
    negative = np.zeros(257, np.int64)
    for start, d in _hamming_rows(queries, refs):
        rows = np.arange(len(d))
        src = sources[start : start + len(d)]
        positive[start : start + len(d)] = d[rows, src]
        negative += np.bincount(d.ravel(), minlength=257)
        negative -= np.bincount(d[rows, src], minlength=257)
    return positive, negative


def _recall(hit: np.ndarray, names: np.ndarray, order: Sequence[str]) -> dict[str, float]:
    recall = {name: float(hit[names == name].mean()) for name in order}
    recall["overall"] = float(hit.mean())
    return recall


def sweep_distances(
    positive: np.ndarray, negative_hist: np.ndarray, names: np.ndarray, order: Sequence[str]
) -> Sweep:
    """Thorn's sweep for a distance (match when <= threshold)."""
    tp = np.cumsum(np.bincount(positive, minlength=257))
    fp = np.cumsum(negative_hist)
    ok = np.flatnonzero((tp > 0) & (tp >= PRECISION * (tp + fp)))
    if not ok.size:
        return Sweep(-1, _recall(np.zeros(len(positive), bool), names, order), 0)
    threshold = int(ok.max())
    return Sweep(threshold, _recall(positive <= threshold, names, order), int(fp[threshold]))


def fixed_distance(
    positive: np.ndarray, negative_hist: np.ndarray, names: np.ndarray, order: Sequence[str], threshold: int
) -> Sweep:
    """Recall and false matches at a given distance threshold."""
    false_matches = int(negative_hist[: threshold + 1].sum())
    return Sweep(threshold, _recall(positive <= threshold, names, order), false_matches)


def sweep_scores(
    positive: np.ndarray, negative: np.ndarray, names: np.ndarray, order: Sequence[str]
) -> Sweep:
    """Thorn's sweep for a score (match when >= threshold); pairs never verified score 0."""
    candidates = np.unique(np.concatenate([positive, negative, [1]]))
    best = None
    for t in candidates[candidates > 0]:
        tp, fp = int((positive >= t).sum()), int((negative >= t).sum())
        if tp and tp >= PRECISION * (tp + fp):
            best = int(t)
            break  # the smallest qualifying score is the loosest threshold
    threshold = best if best is not None else int(candidates.max()) + 1
    return Sweep(threshold, _recall(positive >= threshold, names, order), int((negative >= threshold).sum()))


def duplicates_to_drop(text: str) -> set[str]:
    """The second photo of each `first second` line (paths relative to the photo folder; # comments)."""
    dropped = set()
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) == 2:
            dropped.add(fields[1])
    return dropped


def _self_pairs(hashes: np.ndarray, threshold: int) -> int:
    """Unordered pairs of distinct photos within `threshold`."""
    count = 0
    for start, d in _hamming_rows(hashes, hashes):
        rows = np.arange(len(d))
        d[rows, start + rows] = 257  # a photo against itself
        count += int((d <= threshold).sum())
    return count // 2


def run(
    paths: Sequence[Path],
    names: Sequence[str] | None = None,
    workers: int = 1,
    operating_threshold: int | None = None,
    query_photos: int | None = None,
) -> Report:
    """Benchmark on `paths`: all are references; altered copies are made of all of them, or of
    `query_photos` of them spread evenly (every copy is still compared with every reference)."""
    global _INDEX
    from opspoor.robust.search import SCORE_THRESHOLD
    from opspoor.signals.pdq import PDQ_MATCH_THRESHOLD

    order = list(names or transforms.TRANSFORMS)
    cv2.setNumThreads(1)  # one core per worker: honest per-check CPU cost, no oversubscription
    corpus = build_corpus(paths, workers)
    _INDEX = corpus.index
    try:
        chosen = list(range(len(paths)))
        if query_photos and query_photos < len(paths):
            chosen = [int(i * len(paths) / query_photos) for i in range(query_photos)]
        jobs = [(i, paths[i], order) for i in chosen]
        results = [r for batch in _map(_queries, jobs, workers) for r in batch]
        self_matches = _map(_self_check, list(enumerate(paths)), workers)
    finally:
        _INDEX = None
    sources = np.array([r.source for r in results])
    kinds = np.array([r.transform for r in results])
    sweeps = {}
    for name in ("pdq", "phash"):
        queries = np.stack([getattr(r, name) for r in results])
        positive_d, negative_hist = distance_histograms(queries, getattr(corpus, name), sources)
        sweeps[name] = sweep_distances(positive_d, negative_hist, kinds, order)
        if name == "pdq":
            pdq_at_31 = fixed_distance(positive_d, negative_hist, kinds, order, PDQ_MATCH_THRESHOLD)
    positive = np.array([max([m.score for m in r.matches if m.item == r.source], default=0) for r in results])
    negative = np.array([m.score for r in results for m in r.matches if m.item != r.source] or [0])
    sweeps["opspoor"] = sweep_scores(positive, negative, kinds, order)
    threshold = SCORE_THRESHOLD if operating_threshold is None else operating_threshold
    hits = positive >= threshold
    operating = Sweep(threshold, _recall(hits, kinds, order), int((negative >= threshold).sum()))
    self_false = {
        "pdq": _self_pairs(corpus.pdq, PDQ_MATCH_THRESHOLD),
        "phash": _self_pairs(corpus.phash, sweeps["phash"].threshold),
        "opspoor": len(
            {
                (min(i, m.item), max(i, m.item))
                for i, found in enumerate(self_matches)
                for m in found
                if m.score >= threshold
            }
        ),
    }
    return Report(
        photos=len(paths),
        queries=len(results),
        sweeps=sweeps,
        operating=operating,
        pdq_at_31=pdq_at_31,
        self_false_matches=self_false,
        ms_pdq=1000 * float(np.median([r.seconds_pdq for r in results])),
        ms_robust=1000 * float(np.median([r.seconds_robust for r in results])),
        entry_bytes=float(np.mean(corpus.entry_bytes)),
        transforms=order,
        results=results,
    )
