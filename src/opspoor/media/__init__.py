"""Safe decoding of untrusted media into pixel arrays."""

from opspoor.media.errors import (
    CorruptMedia,
    DecompressionBomb,
    MediaError,
    MediaTooLarge,
    UnreadableFile,
    UnsupportedMedia,
)
from opspoor.media.image import DecodedImage, decode_image, read_limited
from opspoor.media.limits import MediaLimits
from opspoor.media.sniff import sniff_kind

__all__ = [
    "CorruptMedia",
    "DecodedImage",
    "DecompressionBomb",
    "MediaError",
    "MediaLimits",
    "MediaTooLarge",
    "UnreadableFile",
    "UnsupportedMedia",
    "decode_image",
    "read_limited",
    "sniff_kind",
]
