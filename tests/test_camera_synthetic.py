"""Five simulated cameras (known PRNU laid over benign photos, then JPEG 75-95).

Each camera is enrolled from 20 photos; 100 other photos are attributed through the same path the
CLI uses (digest shortlist, geometry search, PCE >= 60). Scenes: BSDS500 for enrolment and extra
queries, Sun/Hays for queries, so no scene is shared between enrolment and query.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from opspoor.camera import synthetic
from opspoor.camera.digest import make_digest
from opspoor.camera.fingerprint import FingerprintBuilder
from opspoor.camera.pce import PCE_THRESHOLD
from opspoor.camera.registry import LoadedCamera
from opspoor.camera.residual import query_residual
from opspoor.camera.service import DECISION_MATCH, decide, rank

pytestmark = [pytest.mark.testdata, pytest.mark.slow]

SHAPE = (480, 640)
# PRNU strengths of the simulation: K std 0.01-0.02, the range the issue asks for (an assumption).
STRENGTHS = (0.01, 0.0125, 0.015, 0.0175, 0.02)


class Synth:
    def __init__(self, root: Path) -> None:
        photos = root / "photos"
        bsds = sorted((photos / "bsds500").glob("*.jpg"))
        sun = sorted((photos / "sun_hays80").glob("*.jpg"))
        rng = np.random.default_rng(7)
        self.patterns = [synthetic.sensor_pattern(SHAPE, s, 100 + i) for i, s in enumerate(STRENGTHS)]
        self.cameras = []
        for c, k in enumerate(self.patterns):
            builder = FingerprintBuilder(SHAPE)
            for j in range(20):
                scene = synthetic.fit_scene(_rgb(bsds[c * 20 + j]), SHAPE)
                builder.add(synthetic.expose(scene, k, 1000 * c + j, int(rng.integers(75, 96))))
            fp = builder.build()
            self.cameras.append(LoadedCamera(f"sim{c}", fp, make_digest(fp), c))
        self.queries: list[tuple[int, np.ndarray]] = []
        for i, path in enumerate(sun + bsds[100:120]):
            c = i % 5
            scene = synthetic.fit_scene(_rgb(path), SHAPE)
            quality = int(rng.integers(75, 96))
            self.queries.append((c, synthetic.expose(scene, self.patterns[c], 50_000 + i, quality)))


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="session")
def synth(testdata: Path) -> Synth:
    return Synth(testdata)


def test_hundred_photos_attributed(synth: Synth) -> None:
    correct = wrong = 0
    own_pce = []
    for c, pixels in synth.queries:
        result = decide("q", rank(query_residual(pixels), synth.cameras), PCE_THRESHOLD, [])
        own_pce.append(next(x.pce for x in result.candidates if x.camera == f"sim{c}"))
        if result.decision == DECISION_MATCH:
            if result.camera == f"sim{c}":
                correct += 1
            else:
                wrong += 1
        assert all((x.pce or 0) < PCE_THRESHOLD for x in result.candidates if x.camera != f"sim{c}")
    print(f"synthetic: {correct}/100 correct, {wrong} wrong, min own PCE {min(own_pce):.1f}")
    assert len(synth.queries) == 100
    assert correct >= 95
    assert wrong == 0


@pytest.mark.parametrize("kind", ["resize50", "crop10-centre", "crop10-corner", "rotated"])
def test_edited_photos_still_attributed(synth: Synth, kind: str) -> None:
    """Resized to 50% or cropped by 10% (scale and offset search), or turned to portrait."""
    own, foreign = [], []
    for c, pixels in synth.queries[:10]:
        if kind == "resize50":
            edited = synthetic.resized(pixels, 0.5)
        elif kind == "crop10-centre":
            edited = synthetic.cropped(pixels, 0.1, "centre")
        elif kind == "crop10-corner":
            edited = synthetic.cropped(pixels, 0.1, "corner")
        else:
            edited = np.ascontiguousarray(np.rot90(pixels, 1))
        edited = synthetic.jpeg(edited, 90)
        result = decide("q", rank(query_residual(edited), synth.cameras), PCE_THRESHOLD, [])
        assert result.camera == f"sim{c}", (kind, c, [(x.camera, x.pce) for x in result.candidates])
        others = [x.pce or 0 for x in result.candidates if x.camera != f"sim{c}"]
        assert max(others) < PCE_THRESHOLD
        own.append(result.pce)
        foreign.append(max(others))
        best = result.candidates[0].attempt
        assert best is not None
        if kind == "resize50":
            assert abs(best.scale - 0.5) < 0.01
        if kind == "rotated":
            assert best.rotation in (90, 270)
    print(f"{kind}: min own PCE {min(own):.1f}, max other PCE {max(foreign):.1f}")
