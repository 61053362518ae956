"""The robustness benchmark logic: Thorn's threshold sweep, and a small end-to-end run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from opspoor.robust import benchmark, report


def test_distance_sweep_picks_the_loosest_threshold_at_the_precision() -> None:
    positive = np.array([0, 5, 10, 40, 90])
    names = np.array(["a", "a", "b", "b", "b"])
    negative = np.zeros(257, np.int64)
    negative[50] = 1  # one different photo at distance 50
    sweep = benchmark.sweep_distances(positive, negative, names, ["a", "b"])
    assert sweep.threshold == 49 and sweep.false_matches == 0
    assert sweep.recall == {"a": 1.0, "b": 2 / 3, "overall": 0.8}


def test_score_sweep_counts_unverified_pairs_as_misses() -> None:
    positive = np.array([0, 30, 60])
    negative = np.array([0, 0, 12, 25])
    names = np.array(["x", "x", "y"])
    sweep = benchmark.sweep_scores(positive, negative, names, ["x", "y"])
    assert sweep.threshold == 30 and sweep.false_matches == 0  # the lowest observed qualifying score
    assert sweep.recall["overall"] == pytest.approx(2 / 3)


def test_distance_histograms_match_a_direct_count() -> None:
    rng = np.random.default_rng(3)
    refs = rng.integers(0, 256, (9, 32), dtype=np.uint8)
    queries = refs[[0, 4, 8]].copy()
    queries[:, 0] ^= 0b111  # three bits off their source
    positive, negative = benchmark.distance_histograms(queries, refs, np.array([0, 4, 8]))
    assert positive.tolist() == [3, 3, 3]
    assert negative.sum() == 3 * 8 and negative[:20].sum() == 0


@pytest.mark.testdata
@pytest.mark.slow
def test_small_run_beats_plain_pdq_without_false_matches(testdata: Path, tmp_path: Path) -> None:
    paths = sorted((testdata / "photos").rglob("*.jpg"))
    paths = paths[:: len(paths) // 16][:16]
    names = ["jpeg95", "pad0.2", "crop0.05", "rotate4", "flip", "screenshot"]
    result = benchmark.run(paths, names=names, query_photos=8)
    assert result.queries == 8 * len(names)
    ours, pdq = result.sweeps["opspoor"].recall, result.sweeps["pdq"].recall
    assert ours["overall"] >= 0.95 and ours["overall"] > pdq["overall"]
    assert ours["crop0.05"] >= pdq["crop0.05"] and ours["pad0.2"] == 1.0
    assert result.self_false_matches["opspoor"] == 0 and result.operating.false_matches == 0
    text = report.markdown(result)
    assert "| **overall**" in text and "pHash-16" in text
    report.chart(result, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").stat().st_size > 1000


def test_duplicate_list_names_the_second_photo_of_each_pair() -> None:
    text = "# comment\na/1.jpg b/2.jpg  # mirrored\n\nc/3.jpg d/4.jpg\nbroken-line\n"
    assert benchmark.duplicates_to_drop(text) == {"b/2.jpg", "d/4.jpg"}
