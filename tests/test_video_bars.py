"""Bar detection for vpdq_trim: letterbox and pillarbox bars are cut, content is left whole."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from opspoor.signals.bars import content_box, trim_bars


def _content(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(60, 256, (height, width, 3), dtype=np.uint8)


def test_pillarbox_and_letterbox_are_cut_exactly() -> None:
    frame = np.zeros((720, 480, 3), dtype=np.uint8)
    frame[:, 32:448] = _content(720, 416)
    assert content_box(frame) == (0, 720, 32, 448)
    frame = np.full((480, 640, 3), 16, dtype=np.uint8)  # limited-range black, as decoded
    frame[60:420] = _content(360, 640)
    assert content_box(frame) == (60, 420, 0, 640)
    assert trim_bars(frame).shape == (360, 640, 3)


def test_frames_without_bars_are_returned_as_they_are() -> None:
    frame = _content(120, 160)
    assert trim_bars(frame) is frame
    wall = np.full((120, 160, 3), 200, dtype=np.uint8)  # a flat light edge is content, not a bar
    wall[:, 40:] = _content(120, 120)
    assert trim_bars(wall) is wall
    black = np.zeros((120, 160, 3), dtype=np.uint8)  # a fade to black keeps its whole frame
    assert trim_bars(black) is black
    thin = _content(120, 160)
    thin[:, :2] = 0  # under 2% of the width: an encoder's edge, not a bar
    assert trim_bars(thin) is thin


@settings(max_examples=50, deadline=None)
@given(
    st.integers(40, 200),
    st.integers(40, 200),
    st.integers(0, 2**31 - 1),
    st.tuples(*[st.floats(0, 0.3)] * 4),
)
def test_trimmed_content_is_never_less_than_40_percent(
    height: int, width: int, seed: int, bars: tuple[float, float, float, float]
) -> None:
    frame = _content(height, width, seed)
    top, bottom, left, right = (int(b * s) for b, s in zip(bars, (height, height, width, width), strict=True))
    frame[:top] = 0
    frame[height - bottom :] = 0
    frame[:, :left] = 0
    frame[:, width - right :] = 0
    t, b, lft, r = content_box(frame)
    assert b - t >= 0.4 * height and r - lft >= 0.4 * width
    assert t <= top and b >= height - bottom and lft <= left and r >= width - right
    assert trim_bars(frame).shape[:2] == (b - t, r - lft)
