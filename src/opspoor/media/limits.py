"""Limits that keep hostile input from exhausting memory or time."""

from __future__ import annotations

import os
from dataclasses import dataclass

# 12 MP camera photos are the common case and 100 MP panoramas exist; 180 MP (about 540 MiB of RGB)
# is the most a 2-core worker should ever hold. Pillow's own default bomb limit is 89 MP.
DEFAULT_MAX_PIXELS = 180_000_000
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class MediaLimits:
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_env(cls) -> MediaLimits:
        """Limits from OPSPOOR_MAX_PIXELS / OPSPOOR_MAX_BYTES, else the defaults."""
        return cls(
            max_pixels=int(os.environ.get("OPSPOOR_MAX_PIXELS", DEFAULT_MAX_PIXELS)),
            max_bytes=int(os.environ.get("OPSPOOR_MAX_BYTES", DEFAULT_MAX_BYTES)),
        )
