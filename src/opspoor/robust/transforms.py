"""Image alterations for the robustness benchmark: Thorn's set plus opspoor's harder ones.

Thorn's set (the `transforms` dict in thorn-oss/perception `docs/examples/benchmarking.rst`, whose
results Thorn publishes as recall at 99.99% precision): text watermark, Gaussian blur sigma 2,
vignette, gamma 2, JPEG quality 95, 20% padding (top and bottom), 5% crop (every side), additive
Gaussian noise (scale 0.2 * 255), 4-degree rotation (size kept, corners black) and resize to half.
We re-implement them with OpenCV/NumPy (imgaug is unmaintained) and add the alterations offenders
use that Thorn's set lacks: mirror, quarter turn, heavier crops, stretched aspect ratio, a coloured
frame, and the picture pasted into a screenshot of a larger page.

Every transform takes and returns RGB uint8 (H, W, 3). The benchmark re-encodes every output as
JPEG quality 95, as a file shared online would be.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

Transform = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def encode_jpeg(rgb: np.ndarray, quality: int = 95) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def watermark(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark text over the bottom-left fifth of the width, alpha 200/255, as in Thorn's example."""
    h, w = rgb.shape[:2]
    face, thickness = cv2.FONT_HERSHEY_SIMPLEX, 5
    (text_w, text_h), _ = cv2.getTextSize("TEST", face, 5, thickness)
    scale = 0.2 * w / text_w
    origin = (int(text_h * scale), int(h - text_h * scale))
    alpha = np.zeros((h, w), np.uint8)
    cv2.putText(alpha, "TEST", origin, face, 5 * scale, 200, max(1, int(thickness * scale)))
    keep = 1.0 - alpha.astype(np.float32)[..., None] / 255.0
    return (rgb.astype(np.float32) * keep).astype(np.uint8)


def blur2(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return cv2.GaussianBlur(rgb, (0, 0), sigmaX=2.0)


def vignette(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Thorn's vignette: a separable Gaussian falloff with sigma half the side."""
    h, w = rgb.shape[:2]
    mask = cv2.getGaussianKernel(h, h / 2) @ cv2.getGaussianKernel(w, w / 2).T
    return (rgb * (mask / mask.max())[..., None]).astype(np.uint8)


def gamma2(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    lut = (255.0 * (np.arange(256) / 255.0) ** 2).round().astype(np.uint8)
    return lut[rgb]


def jpeg95(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rgb  # the re-encoding every output gets is the whole alteration


def pad20(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Black bands of 20% of the height above and below (imgaug Pad percent top/bottom 0.2)."""
    band = round(0.2 * rgb.shape[0])
    return cv2.copyMakeBorder(rgb, band, band, 0, 0, cv2.BORDER_CONSTANT, value=(0, 0, 0))


def _crop(fraction: float) -> Transform:
    def crop(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = rgb.shape[:2]
        dy, dx = round(fraction * h), round(fraction * w)
        return rgb[dy : h - dy, dx : w - dx].copy()

    return crop


def noise(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Additive Gaussian noise, scale 0.2 * 255, one sample per pixel for all channels (imgaug default)."""
    sample = rng.normal(0.0, 0.2 * 255, size=rgb.shape[:2] + (1,))
    return np.clip(rgb + sample, 0, 255).astype(np.uint8)


def _rotate(degrees: float) -> Transform:
    def rotate(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = rgb.shape[:2]
        matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), degrees, 1.0)
        return cv2.warpAffine(rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))

    return rotate


def resize_half(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)


def flip(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rgb[:, ::-1].copy()


def rotate90(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.rot90(rgb).copy()


def aspect(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Stretched to 1.4 times the width: a picture forced into a wider slot."""
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (round(1.4 * w), h), interpolation=cv2.INTER_LINEAR)


def border(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A coloured frame, 8% of the longer side, in a random saturated colour."""
    width = max(2, round(0.08 * max(rgb.shape[:2])))
    colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
    return cv2.copyMakeBorder(rgb, width, width, width, width, cv2.BORDER_CONSTANT, value=colour)


def screenshot(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The picture at 60% of a page-like frame: light page, title bar, text lines, a side panel."""
    h, w = rgb.shape[:2]
    page_w, page_h = round(w / 0.6), round(h / 0.6) + round(0.12 * h)
    page = np.full((page_h, page_w, 3), 245, np.uint8)
    bar = round(0.08 * page_h)
    page[:bar] = (40, 60, 110)
    face = cv2.FONT_HERSHEY_SIMPLEX
    scale = max(0.3, page_w / 1600)
    cv2.putText(page, "Photo viewer - shared album", (10, int(bar * 0.7)), face, scale, (255, 255, 255), 1)
    x0 = round(0.05 * page_w)
    y0 = bar + round(0.05 * page_h)
    page[y0 : y0 + h, x0 : x0 + w] = rgb
    text_x = x0 + w + round(0.03 * page_w)
    for i, y in enumerate(range(y0 + 10, page_h - 10, max(8, round(0.04 * page_h)))):
        length = int(rng.integers(page_w // 10, page_w // 4))
        ink = (90, 90, 90) if i % 3 else (30, 30, 30)
        cv2.line(page, (text_x, y), (min(page_w - 5, text_x + length), y), ink, 2)
    caption_y = y0 + h + round(0.04 * page_h)
    if caption_y < page_h - 5:
        cv2.putText(page, "IMG_2041.jpg  1.2 MB", (x0, caption_y), face, scale, (20, 20, 20), 1)
    return page


# Name -> transform, in report order. Names with a digit suffix follow Thorn's naming.
THORN_TRANSFORMS: dict[str, Transform] = {
    "watermark": watermark,
    "blur2": blur2,
    "vignette": vignette,
    "gamma2": gamma2,
    "jpeg95": jpeg95,
    "pad0.2": pad20,
    "crop0.05": _crop(0.05),
    "noise0.2": noise,
    "rotate4": _rotate(4.0),
    "resize0.5": resize_half,
}
OPSPOOR_TRANSFORMS: dict[str, Transform] = {
    "flip": flip,
    "rotate90": rotate90,
    "crop0.1": _crop(0.10),
    "crop0.2": _crop(0.20),
    "aspect1.4": aspect,
    "border": border,
    "screenshot": screenshot,
}
TRANSFORMS: dict[str, Transform] = {**THORN_TRANSFORMS, **OPSPOOR_TRANSFORMS}


def apply(name: str, rgb: np.ndarray, seed: int) -> bytes:
    """The named alteration of `rgb`, JPEG-encoded at quality 95; `seed` makes random parts repeatable."""
    out = TRANSFORMS[name](rgb, np.random.default_rng(seed))
    return encode_jpeg(np.ascontiguousarray(out))
