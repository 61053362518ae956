"""Canonical views of a picture: borders and padding trimmed, an embedded picture found, fixed crops.

A hash list entry and a checked file are both reduced to the same canonical views, so an altered
copy meets its original in at least one view: padding and frames disappear with the trim, a
screenshot gives up the picture inside it, and a cropped copy resembles a centre crop of the
original. Each view is then hashed with PDQ (see robust/signals.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# A row or column is border when this share of its pixels lies within BORDER_TOLERANCE (max channel
# difference, 0-255) of the edge colour: tolerant of JPEG noise at quality 75+ and a stray pixel,
# strict enough that a thin object reaching into a flat background stops the trim the same way in
# a padded copy (whose lines are longer) as in the original.
BORDER_SHARE = 0.995
BORDER_TOLERANCE = 20
# Never trim a side to less than this share of the original: a picture that is mostly flat colour
# is left alone rather than cut to a sliver.
MIN_KEEP = 0.25
# Centre crops stored per reference, as the share of each side kept: a copy cropped by 5%, 10% or
# 20% on every side (Thorn's crop0.05 and opspoor's crop0.1, crop0.2) resembles one of these.
CENTRE_FRACTIONS = (0.9, 0.8, 0.6)
# An embedded picture must cover this share of the frame's area (smaller ones are thumbnails,
# icons or text blocks) and leave at least EMBED_MAX of it (else it is the whole picture).
EMBED_MIN = 0.12
EMBED_MAX = 0.9
# Edge rows/columns of the found box where fewer pixels than this share differ from the page are
# the page's own text or rules, not the picture.
EMBED_FILL = 0.4


@dataclass(frozen=True)
class Box:
    top: int
    left: int
    bottom: int  # exclusive
    right: int  # exclusive

    def area(self) -> int:
        return max(0, self.bottom - self.top) * max(0, self.right - self.left)

    def cut(self, pixels: np.ndarray) -> np.ndarray:
        return pixels[self.top : self.bottom, self.left : self.right]


def _uniform_run(lines: np.ndarray, limit: int) -> int:
    """How many leading lines (axis 0 of `lines`, each an (L, 3) row of pixels) are border, up to `limit`.

    Lines are examined in growing chunks, so a picture without a border costs one line.
    """
    if limit <= 0:
        return 0
    colour = np.median(lines[0], axis=0).astype(np.int16)
    start, chunk = 0, 1
    while start < limit:
        block = lines[start : min(limit, start + chunk)].astype(np.int16)
        close = np.abs(block - colour).max(axis=2) <= BORDER_TOLERANCE
        stops = np.flatnonzero(close.mean(axis=1) < BORDER_SHARE)
        if stops.size:
            return start + int(stops[0])
        start += len(block)
        chunk *= 4
    return limit


def border_box(rgb: np.ndarray) -> Box:
    """The box inside any uniform borders or padding (bands of one colour at the edges).

    Sides are trimmed in turns until nothing changes, so nested bands (black padding around a
    white background, a coloured frame around a dark sky) all go, and a padded copy ends at the
    same box as its original.
    """
    if rgb.ndim == 2:
        rgb = rgb[:, :, None]
    h, w = rgb.shape[:2]
    min_h, min_w = max(1, int(h * MIN_KEEP)), max(1, int(w * MIN_KEEP))
    top, left, bottom, right = 0, 0, h, w
    for _ in range(4):
        before = (top, left, bottom, right)
        top += _uniform_run(rgb[top:bottom, left:right], bottom - top - min_h)
        bottom -= _uniform_run(rgb[top:bottom, left:right][::-1], bottom - top - min_h)
        columns = rgb[top:bottom, left:right].transpose(1, 0, 2)
        left += _uniform_run(columns, right - left - min_w)
        columns = rgb[top:bottom, left:right].transpose(1, 0, 2)
        right -= _uniform_run(columns[::-1], right - left - min_w)
        if (top, left, bottom, right) == before:
            break
    return Box(top, left, bottom, right)


def trim_borders(rgb: np.ndarray) -> np.ndarray:
    return border_box(rgb).cut(rgb)


def embedded_box(rgb: np.ndarray) -> Box | None:
    """The largest picture inside a flat frame (a screenshot of a page or viewer), or None.

    The frame's colour is the commonest colour of the outer ring. Pixels away from it form a mask;
    an opening as wide as 2% of the frame removes text, rules and icons, and the largest remaining
    blob that covers a plausible share of the frame is the picture.
    """
    h, w = rgb.shape[:2]
    scale = min(1.0, 256 / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    ring = max(2, round(0.03 * min(sh, sw)))
    outer = np.concatenate(
        [
            small[:ring].reshape(-1, 3),
            small[-ring:].reshape(-1, 3),
            small[:, :ring].reshape(-1, 3),
            small[:, -ring:].reshape(-1, 3),
        ]
    )
    quantised = (outer // 8).astype(np.int32)
    keys = quantised[:, 0] * 1024 + quantised[:, 1] * 32 + quantised[:, 2]
    values, counts = np.unique(keys, return_counts=True)
    if counts.max() < 0.3 * len(keys):
        return None  # no dominant frame colour: a photo, not a page
    colour = np.median(outer[keys == values[counts.argmax()]], axis=0)
    # 8 levels: above JPEG noise on a flat page, below the step to a white photo background.
    raw = (np.abs(small.astype(np.int16) - colour).max(axis=2) > 8).astype(np.uint8)
    mask = raw
    k = max(1, round(0.01 * min(sh, sw))) * 2 + 1  # odd, so the opening does not shift the blob
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    best: tuple[int, int, int, int] | None = None
    best_area = 0
    for x, y, bw, bh, filled in stats[1:count]:
        area = int(bw) * int(bh)
        if not EMBED_MIN <= area / (sh * sw) <= EMBED_MAX or filled < 0.5 * area:
            continue
        if area > best_area:
            best, best_area = (int(x), int(y), int(bw), int(bh)), area
    if best is None:
        return None
    x, y, bw, bh = best
    x, y, bw, bh = _shrink_to_fill(raw[y : y + bh, x : x + bw], x, y)
    return Box(
        max(0, round(y / scale)),
        max(0, round(x / scale)),
        min(h, round((y + bh) / scale)),
        min(w, round((x + bw) / scale)),
    )


def _shrink_to_fill(mask: np.ndarray, x: int, y: int) -> tuple[int, int, int, int]:
    """Drop sparse rows and columns (a caption or toolbar the blob swallowed) from the box edges."""
    rows = np.flatnonzero(mask.mean(axis=1) >= EMBED_FILL)
    cols = np.flatnonzero(mask.mean(axis=0) >= EMBED_FILL)
    if rows.size == 0 or cols.size == 0:
        return x, y, mask.shape[1], mask.shape[0]
    return x + int(cols[0]), y + int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def centre_crop(rgb: np.ndarray, keep: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    dy, dx = round(h * (1 - keep) / 2), round(w * (1 - keep) / 2)
    return rgb[dy : h - dy, dx : w - dx]
