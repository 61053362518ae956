"""Find and cut off letterbox/pillarbox bars (and flat borders) around a video frame.

Re-published copies of a video often gain or lose bars: a 16:9 clip padded to 9:16 for a phone
app, or a portrait clip padded to landscape. The bars change PDQ completely (they are part of the
hashed image), so Meta's vPDQ does not match such copies. Cutting them off first lets opspoor's
`vpdq_trim` signal match them.

A side has a bar when its outermost line is flat and dark (bars are black in practice; a flat light
wall or sky at the frame's edge is content, not a bar) and the lines inward keep that colour; we stop
at the first line where the content starts. Guards keep ordinary frames whole:
a bar must be at least 2% of the side, and what remains must be at least 40% of it (a fade to black
is not a bar).
"""

from __future__ import annotations

import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # BT.601 luma, as PDQ uses
# A line is bar-coloured when 97% of its pixels are within 10 luma levels of the bar colour: video
# coding noise near flat areas stays within a few levels; real content does not.
_TOLERANCE = 10.0
_SHARE = 0.97
# Bars are black: limited-range black decodes to luma 0..16 in RGB; 40 leaves room for dark grey.
_MAX_BAR_LUMA = 40.0
_MIN_BAR = 0.02
_MIN_CONTENT = 0.40


def _bar_length(lines: np.ndarray) -> int:
    """How many leading lines (rows of `lines`) are one flat colour, that of line 0."""
    edge = lines[0]
    colour = float(np.median(edge))
    if colour > _MAX_BAR_LUMA or np.mean(np.abs(edge - colour) <= _TOLERANCE) < _SHARE:
        return 0
    flat = np.mean(np.abs(lines - colour) <= _TOLERANCE, axis=1) >= _SHARE
    stops = np.flatnonzero(~flat)
    return int(stops[0]) if stops.size else lines.shape[0]


def content_box(pixels: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the frame without its bars; the whole frame when none."""
    height, width = pixels.shape[:2]
    luma = pixels.astype(np.float32) @ _LUMA if pixels.ndim == 3 else pixels.astype(np.float32)
    half_h, half_w = height // 2, width // 2
    top = _bar_length(luma[:half_h])
    bottom = height - _bar_length(luma[::-1][:half_h])
    left = _bar_length(luma[:, :half_w].T)
    right = width - _bar_length(luma[:, ::-1][:, :half_w].T)
    top, bottom = _guard(top, bottom, height)
    left, right = _guard(left, right, width)
    return top, bottom, left, right


def _guard(start: int, end: int, side: int) -> tuple[int, int]:
    minimum = max(1, int(_MIN_BAR * side))
    start = start if start >= minimum else 0
    end = end if side - end >= minimum else side
    if end - start < _MIN_CONTENT * side:
        return 0, side
    return start, end


def trim_bars(pixels: np.ndarray) -> np.ndarray:
    """The frame without bars: the same array object when there is nothing to cut."""
    height, width = pixels.shape[:2]
    top, bottom, left, right = content_box(pixels)
    if (top, bottom, left, right) == (0, height, 0, width):
        return pixels
    return np.ascontiguousarray(pixels[top:bottom, left:right])
