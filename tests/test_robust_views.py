"""Transforms, border trimming and embedded-picture detection (opspoor.robust.transforms/canonical)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from opspoor.robust import canonical, transforms


def _photo(testdata: Path, name: str = "bsds500") -> np.ndarray:
    path = sorted((testdata / "photos" / name).rglob("*.jpg"))[3]
    return np.asarray(Image.open(path).convert("RGB"))


def _decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG"
        return np.asarray(im.convert("RGB"))


@pytest.mark.testdata
def test_every_transform_gives_a_repeatable_jpeg(testdata: Path) -> None:
    rgb = _photo(testdata)
    h, w = rgb.shape[:2]
    for name in transforms.TRANSFORMS:
        data = transforms.apply(name, rgb, seed=7)
        assert data == transforms.apply(name, rgb, seed=7), name
        out = _decode(data)
        assert out.ndim == 3 and min(out.shape[:2]) > 0, name
    assert _decode(transforms.apply("pad0.2", rgb, 0)).shape[:2] == (h + 2 * round(0.2 * h), w)
    cropped = (h - 2 * round(0.05 * h), w - 2 * round(0.05 * w))
    assert _decode(transforms.apply("crop0.05", rgb, 0)).shape[:2] == cropped
    assert _decode(transforms.apply("rotate90", rgb, 0)).shape[:2] == (w, h)
    assert _decode(transforms.apply("resize0.5", rgb, 0)).shape[:2] == (h // 2, w // 2)


@pytest.mark.testdata
def test_trim_recovers_the_picture_inside_padding_and_frames(testdata: Path) -> None:
    rgb = _photo(testdata)
    # The padded copy must end where the original itself ends (a flat sky is trimmed in both).
    own = canonical.border_box(rgb)
    for name in ("pad0.2", "border"):
        altered = _decode(transforms.apply(name, rgb, 1))
        box = canonical.border_box(altered)
        # JPEG ringing at the band's edge may shift a side by a few pixels: within 3% of the side.
        assert abs((box.bottom - box.top) - (own.bottom - own.top)) <= 0.03 * rgb.shape[0], name
        assert abs((box.right - box.left) - (own.right - own.left)) <= 0.03 * rgb.shape[1], name


@pytest.mark.testdata
def test_embedded_picture_is_found_in_a_screenshot_and_not_in_a_photo(testdata: Path) -> None:
    rgb = _photo(testdata)
    page = _decode(transforms.apply("screenshot", rgb, 2))
    box = canonical.embedded_box(page)
    assert box is not None
    assert abs((box.bottom - box.top) - rgb.shape[0]) <= 6 and abs((box.right - box.left) - rgb.shape[1]) <= 6
    assert canonical.embedded_box(rgb) is None


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 60),
    w=st.integers(1, 60),
    value=st.integers(0, 255),
    band=st.integers(0, 20),
)
def test_trim_never_fails_and_stays_inside(h: int, w: int, value: int, band: int) -> None:
    rng = np.random.default_rng(h * 61 + w)
    rgb = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    rgb = np.pad(rgb, ((band, band), (0, 0), (0, 0)), constant_values=value)
    box = canonical.border_box(rgb)
    assert 0 <= box.top < box.bottom <= rgb.shape[0] and 0 <= box.left < box.right <= rgb.shape[1]
    assert canonical.embedded_box(rgb) is None or canonical.embedded_box(rgb).area() > 0


def test_flat_picture_is_not_trimmed_to_nothing() -> None:
    flat = np.full((50, 80, 3), 128, np.uint8)
    box = canonical.border_box(flat)
    assert box.bottom - box.top >= 50 * canonical.MIN_KEEP - 1
    assert box.right - box.left >= 80 * canonical.MIN_KEEP - 1
