"""Sensor-noise residuals: what is left of a photo after its scene content is denoised away.

The method is the one of Lukas, Fridrich and Goljan ("Digital camera identification from sensor
pattern noise", IEEE TIFS 2006) as refined in the Binghamton toolbox (Goljan, Fridrich, Filler,
"Large scale test of sensor fingerprint camera identification", SPIE 2009):

1. per colour channel, a 4-level wavelet decomposition; every detail sub-band is passed through a
   local Wiener filter whose signal variance is the minimum of the local variances over 3x3, 5x5,
   7x7 and 9x9 windows; what the filter removes (the noise part) is kept, the approximation band is
   dropped, and the inverse transform gives the channel residual;
2. the channel residuals are combined with the luma weights;
3. each of the four 2x2 sub-lattices (the Bayer colour-filter phases) is made zero-mean per row and
   per column: demosaicing and readout leave row/column patterns shared by every camera of a model
   ("non-unique artefacts"), which must not count as identity;
4. a Wiener filter on the Fourier magnitude flattens spectral peaks (JPEG 8x8 grid, periodic
   artefacts) so the residual is close to white.

Everything runs in float32 on one channel at a time, so a 10-megapixel photo needs a few hundred MB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pywt
from scipy import fft as sfft
from scipy.ndimage import uniform_filter

from opspoor.camera.errors import TooSmall

# sigma = 5 for 8-bit images: the noise std assumed by the Wiener filter, prnu-python's default
# (the Binghamton toolbox's examples pass 2-3; docs/camera.md reports the effect of 3 on our data).
DEFAULT_SIGMA = 5.0
# 4 levels of an orthonormal Daubechies wavelet (Lukas et al. 2006: "8-tap Daubechies QMF").
# pywt's "db4" is the 8-tap filter; the Binghamton port in prnu-python uses "db8" (16 taps).
# Both are kept selectable; the choice and the measured difference are in docs/camera.md.
DEFAULT_WAVELET = "db8"
DEFAULT_LEVELS = 4
WIENER_WINDOWS = (3, 5, 7, 9)
# Luma weights of MATLAB's rgb2gray, which the toolbox uses to merge the channel residuals.
LUMA = np.array([0.29893602, 0.58704307, 0.11402090], dtype=np.float32)


@dataclass(frozen=True)
class ResidualParams:
    """The knobs of residual extraction; the defaults are the literature's."""

    sigma: float = DEFAULT_SIGMA
    wavelet: str = DEFAULT_WAVELET
    levels: int = DEFAULT_LEVELS
    spectral_wiener: bool = True


def local_wiener_noise(coeff: np.ndarray, noise_var: float) -> np.ndarray:
    """The noise part of `coeff` under a local Wiener filter (variance: min over 3..9 windows)."""
    energy = coeff * coeff
    var: np.ndarray | None = None
    for size in WIENER_WINDOWS:
        local = uniform_filter(energy, size, mode="constant")
        var = local if var is None else np.minimum(var, local, out=var)
    assert var is not None
    var -= noise_var
    np.maximum(var, 0.0, out=var)
    var += noise_var
    return (coeff * (noise_var / var)).astype(np.float32, copy=False)


def wavelet_noise(channel: np.ndarray, params: ResidualParams = ResidualParams()) -> np.ndarray:
    """Residual of one channel (float32 HxW): the detail-band noise, approximation band dropped."""
    h, w = channel.shape
    levels = min(params.levels, pywt.dwtn_max_level((h, w), params.wavelet))
    if levels < 1:
        raise TooSmall(f"image of {w}x{h} pixels is too small for wavelet denoising")
    noise_var = float(params.sigma) ** 2
    coeffs = pywt.wavedec2(channel, params.wavelet, mode="symmetric", level=levels)
    out: list[object] = [np.zeros_like(coeffs[0])]
    for detail in coeffs[1:]:
        out.append(tuple(local_wiener_noise(band, noise_var) for band in detail))
    rec = pywt.waverec2(out, params.wavelet, mode="symmetric")
    return np.ascontiguousarray(rec[:h, :w], dtype=np.float32)


def zero_mean_lattice(x: np.ndarray) -> np.ndarray:
    """Zero mean per row and per column on each of the four 2x2 (Bayer) sub-lattices, in place."""
    for dy in (0, 1):
        for dx in (0, 1):
            sub = x[dy::2, dx::2]
            sub -= sub.mean()
            sub -= sub.mean(axis=1, keepdims=True)
            sub -= sub.mean(axis=0, keepdims=True)
    return x


def spectral_wiener(x: np.ndarray) -> np.ndarray:
    """Keep the white-noise-like part of the spectrum: a local Wiener filter on |FFT|.

    The noise variance is the residual's own variance (the toolbox's WienerInDFT with
    sigma = std(x)); peaks that stand out of their spectral neighbourhood (periodic artefacts
    shared by every camera of a model) are pulled down to the noise floor.
    """
    h, w = x.shape
    spec = sfft.rfft2(x, workers=1)
    mag = np.abs(spec).astype(np.float32) / np.float32(np.sqrt(h * w))
    noise_var = float(x.var())
    kept = local_wiener_noise(mag, noise_var)
    safe = np.where(mag == 0, np.float32(1), mag)
    gain = np.where(mag == 0, np.float32(0), kept / safe)
    spec *= gain
    return sfft.irfft2(spec, s=(h, w), workers=1).astype(np.float32)


def finish(gray_residual: np.ndarray, params: ResidualParams = ResidualParams()) -> np.ndarray:
    """Steps 3 and 4 on a combined residual or an estimated fingerprint (returns a new array)."""
    x = zero_mean_lattice(np.array(gray_residual, dtype=np.float32, copy=True))
    return spectral_wiener(x) if params.spectral_wiener else x


def channel_noise(pixels: np.ndarray, params: ResidualParams = ResidualParams()) -> np.ndarray:
    """Raw wavelet noise per channel: HxWxC float32 (C = 1 for grey, 3 for RGB)."""
    img = pixels if pixels.ndim == 3 else pixels[:, :, None]
    out = np.empty(img.shape, dtype=np.float32)
    for c in range(img.shape[2]):
        out[:, :, c] = wavelet_noise(img[:, :, c].astype(np.float32), params)
    return out


def to_gray(channels: np.ndarray) -> np.ndarray:
    """Luma combination of HxWx3 (or pass-through of HxWx1 / HxW) as float32 HxW."""
    if channels.ndim == 2:
        return channels.astype(np.float32, copy=False)
    if channels.shape[2] == 1:
        return channels[:, :, 0].astype(np.float32, copy=False)
    return np.tensordot(channels.astype(np.float32, copy=False), LUMA, axes=([2], [0]))


@dataclass(frozen=True)
class QueryResidual:
    """What a photo contributes to matching: residual W and its grey intensity I in [0, 1]."""

    residual: np.ndarray  # float32 HxW
    intensity: np.ndarray  # float32 HxW

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.residual.shape[0]), int(self.residual.shape[1]))

    def weighted(self) -> np.ndarray:
        """W * I: correlating this with K equals correlating W with I*K (Goljan's detector)."""
        z = self.residual * self.intensity
        z -= z.mean()
        return z


def query_residual(pixels: np.ndarray, params: ResidualParams = ResidualParams()) -> QueryResidual:
    """Residual of one photo as a query (grey, zero-mean per lattice, spectrally whitened)."""
    if pixels.ndim not in (2, 3) or min(pixels.shape[:2]) < 16:
        raise TooSmall(f"expected an image of at least 16x16 pixels, got shape {pixels.shape}")
    return residual_from_noise(pixels, channel_noise(pixels, params), params)


def residual_from_noise(
    pixels: np.ndarray, noise: np.ndarray, params: ResidualParams = ResidualParams()
) -> QueryResidual:
    """The query residual when the per-channel noise is already at hand (enrolment reuses it)."""
    w = finish(to_gray(noise), params)
    intensity = to_gray(pixels.astype(np.float32)) / np.float32(255.0)
    return QueryResidual(w, intensity.astype(np.float32, copy=False))
