"""Unit tests of the PRNU core on small generated images (no test data needed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opspoor.camera import synthetic
from opspoor.camera.cluster import adjusted_rand_index, cluster, cluster_vector
from opspoor.camera.digest import digest_score, make_digest
from opspoor.camera.errors import ShapeMismatch, TooSmall
from opspoor.camera.fingerprint import FingerprintBuilder, intensity_weight, saturation_mask
from opspoor.camera.pce import PCE_THRESHOLD, cross_correlation, pce, pce_at
from opspoor.camera.residual import query_residual, zero_mean_lattice
from opspoor.camera.search import SearchPolicy, rotations_for, scales_for, search

SHAPE = (192, 256)


def scene(seed: int, shape: tuple[int, int] = SHAPE) -> np.ndarray:
    return synthetic.smooth_scene(seed, shape)


def shots(k: np.ndarray, n: int, seed: int) -> list[np.ndarray]:
    return [synthetic.expose(scene(seed + i, k.shape), k, seed + i, 92) for i in range(n)]


@pytest.fixture(scope="module")
def cams() -> tuple[list[np.ndarray], list[np.ndarray]]:
    patterns = [synthetic.sensor_pattern(SHAPE, 0.03, s) for s in (1, 2)]
    prints = []
    for i, k in enumerate(patterns):
        builder = FingerprintBuilder(SHAPE)
        for px in shots(k, 12, 100 * (i + 1)):
            builder.add(px)
        prints.append(builder.build())
    return patterns, prints


def test_residual_shape_type_and_zero_mean() -> None:
    q = query_residual(scene(1))
    assert q.residual.shape == SHAPE and q.residual.dtype == np.float32
    assert q.intensity.min() >= 0 and q.intensity.max() <= 1
    for dy in (0, 1):
        for dx in (0, 1):
            sub = zero_mean_lattice(np.random.default_rng(0).standard_normal((20, 30)).astype(np.float32))
            assert abs(float(sub[dy::2, dx::2].mean(axis=0).max())) < 1e-5


def test_grey_input_and_too_small() -> None:
    q = query_residual(scene(2)[:, :, 0])
    assert q.shape == SHAPE
    with pytest.raises(TooSmall):
        query_residual(np.zeros((8, 8, 3), dtype=np.uint8))


def test_builder_rejects_other_sizes() -> None:
    builder = FingerprintBuilder(SHAPE)
    with pytest.raises(ShapeMismatch):
        builder.add(scene(3, (100, 100)))


def test_saturation_and_intensity_weight() -> None:
    ch = np.full((5, 5), 100, dtype=np.uint8)
    ch[1:4, 1:4] = 255
    mask = saturation_mask(ch)
    assert not mask[2, 2] and mask[1, 1] and mask[0, 0]
    assert np.all(saturation_mask(np.full((4, 4), 200, dtype=np.uint8)))
    w = intensity_weight(np.array([0, 126, 252, 255], dtype=np.uint8))
    assert w[0] == 0 and abs(w[1] - 0.5) < 1e-6 and w[2] == pytest.approx(1.0) and w[3] < 0.3


def test_own_camera_matches_other_does_not(cams: tuple[list[np.ndarray], list[np.ndarray]]) -> None:
    patterns, prints = cams
    query = query_residual(shots(patterns[0], 1, 9000)[0])
    own = search(query, prints[0], SearchPolicy.exact())
    other = search(query, prints[1], SearchPolicy.exact())
    assert own.pce >= PCE_THRESHOLD > other.pce
    assert own.positions == 1 and own.tries == 1


def test_crop_offset_is_found(cams: tuple[list[np.ndarray], list[np.ndarray]]) -> None:
    patterns, prints = cams
    photo = shots(patterns[1], 1, 9100)[0]
    crop = np.ascontiguousarray(photo[20:170, 30:230])
    attempt = search(query_residual(crop), prints[1])
    assert attempt.pce >= PCE_THRESHOLD
    assert (attempt.dy, attempt.dx, attempt.rotation, attempt.scale) == (20, 30, 0, 1.0)
    assert attempt.positions > 1


def test_shift_range_limits_the_peak() -> None:
    rng = np.random.default_rng(5)
    ref = rng.standard_normal((64, 64)).astype(np.float32)
    query = np.ascontiguousarray(ref[10:42, 12:44])
    surface = cross_correlation(query, ref)
    assert pce_at(surface, 40, 40).dy == 10
    # Zero shift only: the true peak at (10, 12) is outside the declared range.
    assert pce_at(surface).pce < PCE_THRESHOLD
    assert pce(query, ref, 40, 40).pce > 500


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_pce_of_unrelated_noise_stays_low(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((64, 64)).astype(np.float32)
    b = rng.standard_normal((64, 64)).astype(np.float32)
    assert pce(a, b).pce < PCE_THRESHOLD


def test_rotation_and_scale_candidates() -> None:
    assert rotations_for((100, 200), (300, 400), True) == [0, 2]
    assert rotations_for((200, 100), (300, 400), True) == [1, 3]
    assert rotations_for((100, 100), (300, 400), True) == [0, 1, 2, 3]
    assert rotations_for((200, 100), (300, 400), False) == [0]
    assert scales_for((150, 200), (300, 400), SearchPolicy()) == [1.0, 0.75, 0.5]
    assert scales_for((300, 400), (300, 400), SearchPolicy.exact()) == [1.0]
    assert scales_for((600, 800), (300, 400), SearchPolicy()) == []


def test_query_larger_than_frame_is_no_attempt(cams: tuple[list[np.ndarray], list[np.ndarray]]) -> None:
    _, prints = cams
    attempt = search(query_residual(scene(4, (300, 300))), prints[0])
    assert attempt.tries == 0 and attempt.pce == 0


def test_digest_ranks_own_camera_first(cams: tuple[list[np.ndarray], list[np.ndarray]]) -> None:
    patterns, prints = cams
    z = query_residual(shots(patterns[0], 1, 9200)[0]).weighted()
    own = digest_score(z, make_digest(prints[0]))
    other = digest_score(z, make_digest(prints[1]))
    assert own > 4 > other
    assert digest_score(z[:100], make_digest(prints[0])) == -np.inf


def test_cluster_and_ari(cams: tuple[list[np.ndarray], list[np.ndarray]]) -> None:
    patterns, _ = cams
    photos = shots(patterns[0], 4, 7000) + shots(patterns[1], 4, 8000)
    vectors = [cluster_vector(query_residual(p)) for p in photos]
    found = cluster(vectors)
    labels = [0] * 4 + [1] * 4
    predicted = [0] * 8
    for ci, c in enumerate(found):
        for m in c.members:
            predicted[m] = ci
    assert adjusted_rand_index(labels, predicted) == 1.0
    assert all(conf > 0 for c in found for conf in c.confidence)


def test_adjusted_rand_index_known_values() -> None:
    assert adjusted_rand_index([0, 0, 1, 1], [5, 5, 7, 7]) == 1.0
    assert adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) < 0


def test_rank_statuses_digest_shortlist(cams: tuple[list[np.ndarray], list[np.ndarray]]) -> None:
    from opspoor.camera.registry import LoadedCamera
    from opspoor.camera.service import SHORTLIST, decide, rank

    patterns, prints = cams
    rng = np.random.default_rng(9)
    cameras = [LoadedCamera("true", prints[0], make_digest(prints[0]), 0)]
    for i in range(SHORTLIST + 3):
        k = rng.standard_normal(SHAPE).astype(np.float32)
        cameras.append(LoadedCamera(f"noise{i}", k, make_digest(k), i + 1))
    tiny = rng.standard_normal((64, 64)).astype(np.float32)
    cameras.append(LoadedCamera("tiny", tiny, make_digest(tiny), 99))
    query = query_residual(shots(patterns[0], 1, 9300)[0])
    ranked = rank(query, cameras)
    statuses = {c.camera: c.status for c in ranked}
    assert statuses["true"] == "searched" and ranked[0].camera == "true"
    assert statuses["tiny"] == "incompatible-size"
    assert sum(s == "prefiltered-out" for s in statuses.values()) == 4
    assert decide("q", ranked, PCE_THRESHOLD, []).camera == "true"
    full = rank(query, cameras, use_digests=False)
    assert sum(c.status == "searched" for c in full) == SHORTLIST + 4
