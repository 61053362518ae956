"""Simulated cameras for tests and benchmarks: a known PRNU pattern laid over benign photos.

The sensor output model of Chen et al. (TIFS 2008) is I = I0 (1 + K) + Theta: a multiplicative
pattern K plus additive noise, then the camera's JPEG compression. The tests use K std 0.01-0.02,
the strength asked for in the project's issue; it is an assumption of the simulation, not a
measured property of any camera here. Scenes come from photos with no PRNU of their own left
(they are resized), so the only shared pattern is the one we lay down.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

# Additive read/shot noise of the simulated sensor (std in 8-bit grey levels).
READ_NOISE = 1.5


def sensor_pattern(shape: tuple[int, int], strength: float, seed: int) -> np.ndarray:
    """A camera's PRNU: white Gaussian K (float32 HxW) with the given standard deviation."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape, dtype=np.float32) * np.float32(strength)).astype(np.float32)


def fit_scene(pixels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Rotate to the frame's orientation, resize to cover it and centre-crop (uint8 HxWx3)."""
    h, w = shape
    img = Image.fromarray(pixels)
    if (img.height > img.width) != (h > w):
        img = img.transpose(Image.Transpose.ROTATE_90)
    scale = max(w / img.width, h / img.height)
    size = (max(w, round(img.width * scale)), max(h, round(img.height * scale)))
    img = img.resize(size, Image.Resampling.LANCZOS)
    left, top = (img.width - w) // 2, (img.height - h) // 2
    return np.asarray(img.crop((left, top, left + w, top + h)).convert("RGB"))


def expose(scene: np.ndarray, k: np.ndarray, seed: int, quality: int) -> np.ndarray:
    """The scene as this sensor would record it, JPEG-compressed at `quality` and decoded again."""
    rng = np.random.default_rng(seed)
    x = scene.astype(np.float32) * (1.0 + k[:, :, None])
    x += rng.standard_normal(x.shape, dtype=np.float32) * np.float32(READ_NOISE)
    raw = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return jpeg(raw, quality)


def jpeg(pixels: np.ndarray, quality: int) -> np.ndarray:
    """JPEG round trip with Pillow (4:2:0 chroma, as most cameras)."""
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=int(quality))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def resized(pixels: np.ndarray, factor: float) -> np.ndarray:
    """A photo resized by `factor` the way a sharing service would (area filter for shrinking)."""
    img = Image.fromarray(pixels)
    size = (max(1, round(img.width * factor)), max(1, round(img.height * factor)))
    return np.asarray(img.resize(size, Image.Resampling.BOX if factor < 1 else Image.Resampling.BICUBIC))


def cropped(pixels: np.ndarray, fraction: float, corner: str = "centre") -> np.ndarray:
    """Cut `fraction` of each side's length away (split evenly for 'centre', else from the top left)."""
    h, w = pixels.shape[:2]
    ch, cw = round(h * fraction), round(w * fraction)
    if corner == "centre":
        top, left = ch // 2, cw // 2
    else:
        top, left = ch, cw
    return np.ascontiguousarray(pixels[top : top + h - ch, left : left + w - cw])


def smooth_scene(seed: int, shape: tuple[int, int]) -> np.ndarray:
    """A generated 'photo' (uint8 RGB): smooth random shading with fine texture, no PRNU."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    base = gaussian_filter(rng.standard_normal((*shape, 3)), sigma=(8, 8, 0)) * 400 + 128
    texture = gaussian_filter(rng.standard_normal((*shape, 3)), sigma=(1.5, 1.5, 0)) * 30
    return np.clip(base + texture, 10, 240).astype(np.uint8)
