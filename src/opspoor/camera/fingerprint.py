"""Camera fingerprint K by maximum likelihood from N photos of one camera.

Model (Chen, Fridrich, Goljan, Lukas, "Determining image origin and integrity using sensor noise",
IEEE TIFS 2008): each residual is W_i = I_i K + noise, so the ML estimate is
K = sum(W_i I_i) / sum(I_i^2), per colour channel. Pixels that carry no PRNU are kept out of both
sums: saturated pixels (clipped at the channel maximum with a flat neighbourhood) get weight 0 and
pixels near saturation are attenuated (the toolbox's IntenScale: I/252 below 252, a Gaussian
fall-off with variance 6 above). The channel estimates are merged with the luma weights and finished
like a residual (zero-mean lattices, spectral Wiener), which removes what all cameras of a model share.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from opspoor.camera.errors import CameraError, ShapeMismatch
from opspoor.camera.residual import ResidualParams, channel_noise, finish, to_gray

# IntenScale constants of the Binghamton toolbox (Goljan et al. 2009): T = 252, v = 6.
SATURATION_KNEE = 252.0
SATURATION_SPREAD = 6.0
# A channel whose maximum is below this never clipped, so nothing is masked (toolbox: 250).
SATURATION_MIN_PEAK = 250


def intensity_weight(channel: np.ndarray) -> np.ndarray:
    """IntenScale: linear in the intensity below the knee, fading to 0 at the clip level."""
    x = channel.astype(np.float32)
    fall = np.exp(-((x - SATURATION_KNEE) ** 2) / SATURATION_SPREAD).astype(np.float32)
    return np.where(x < SATURATION_KNEE, x / np.float32(SATURATION_KNEE), fall).astype(np.float32)


def saturation_mask(channel: np.ndarray) -> np.ndarray:
    """True where the pixel is usable: False at the channel maximum with all 4 neighbours equal."""
    peak = int(channel.max())
    if peak < SATURATION_MIN_PEAK:
        return np.ones(channel.shape, dtype=bool)
    at_peak = channel == peak
    flat = at_peak.copy()
    flat[1:, :] &= at_peak[:-1, :]
    flat[:-1, :] &= at_peak[1:, :]
    flat[:, 1:] &= at_peak[:, :-1]
    flat[:, :-1] &= at_peak[:, 1:]
    return ~flat


@dataclass
class FingerprintBuilder:
    """Accumulates sum(W I) and sum(I^2) photo by photo, so N photos never sit in memory at once."""

    shape: tuple[int, int]
    params: ResidualParams = field(default_factory=ResidualParams)
    count: int = 0
    _num: np.ndarray | None = None
    _den: np.ndarray | None = None

    def add(self, pixels: np.ndarray) -> None:
        """Add one photo (HxWx3 or HxW uint8) of exactly the builder's shape."""
        if pixels.shape[:2] != self.shape:
            raise ShapeMismatch(
                f"photo is {pixels.shape[1]}x{pixels.shape[0]}, fingerprint is "
                f"{self.shape[1]}x{self.shape[0]}; enrol same-size photos only"
            )
        img = pixels if pixels.ndim == 3 else pixels[:, :, None]
        noise = channel_noise(img, self.params)
        self.add_noise(img, noise)

    def add_noise(self, img: np.ndarray, noise: np.ndarray) -> None:
        """Add a photo whose per-channel noise (HxWxC) is already computed."""
        if self._num is None:
            self._num = np.zeros(img.shape, dtype=np.float32)
            self._den = np.zeros(img.shape, dtype=np.float32)
        assert self._den is not None
        if self._num.shape != img.shape:
            raise ShapeMismatch("all photos of a fingerprint must have the same channels")
        for c in range(img.shape[2]):
            ch = img[:, :, c]
            weight = intensity_weight(ch) * saturation_mask(ch)
            # W I with I = pixel/255 (the toolbox multiplies the residual by the image).
            self._num[:, :, c] += noise[:, :, c] * (ch.astype(np.float32) / np.float32(255.0)) * (weight > 0)
            self._den[:, :, c] += weight * weight
        self.count += 1

    def build(self) -> np.ndarray:
        """The finished fingerprint K (float32 HxW)."""
        if self._num is None or self._den is None or self.count == 0:
            raise CameraError("no photos were added to the fingerprint")
        k = self._num / (self._den + np.float32(1.0))
        return finish(to_gray(k), self.params)


def estimate_fingerprint(
    photos: Iterable[np.ndarray], params: ResidualParams = ResidualParams()
) -> np.ndarray:
    """K from same-size photos (uint8 arrays), one at a time."""
    builder: FingerprintBuilder | None = None
    for pixels in photos:
        if builder is None:
            builder = FingerprintBuilder((int(pixels.shape[0]), int(pixels.shape[1])), params)
        builder.add(pixels)
    if builder is None:
        raise CameraError("no photos given")
    return builder.build()
