"""Limits that keep hostile input from exhausting memory or time."""

from __future__ import annotations

import os
from dataclasses import dataclass

from opspoor.media.errors import InvalidLimits

# 12 MP camera photos are the common case and 100 MP panoramas exist; 180 MP (about 540 MiB of RGB)
# is the most a 2-core worker should ever hold. Pillow's own default bomb limit is 89 MP.
DEFAULT_MAX_PIXELS = 180_000_000
DEFAULT_MAX_BYTES = 256 * 1024 * 1024

ENV_MAX_PIXELS = "OPSPOOR_MAX_PIXELS"
ENV_MAX_BYTES = "OPSPOOR_MAX_BYTES"


@dataclass(frozen=True)
class MediaLimits:
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if self.max_pixels < 1 or self.max_bytes < 1:
            raise InvalidLimits(
                f"media limits must be positive, got max_pixels={self.max_pixels}, "
                f"max_bytes={self.max_bytes}"
            )

    @classmethod
    def from_env(cls) -> MediaLimits:
        """Limits from OPSPOOR_MAX_PIXELS / OPSPOOR_MAX_BYTES, else the defaults."""
        return cls(
            max_pixels=_env_int(ENV_MAX_PIXELS, DEFAULT_MAX_PIXELS),
            max_bytes=_env_int(ENV_MAX_BYTES, DEFAULT_MAX_BYTES),
        )


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip().replace("_", "")
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidLimits(f"{name} must be a whole number, got {text[:40]!r}") from None
