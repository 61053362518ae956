"""Typed decoding errors: each says what is wrong with the input, never a stack trace."""

from opspoor.errors import OpspoorError


class MediaError(OpspoorError):
    """The input could not be turned into pixels."""


class UnsupportedMedia(MediaError):
    """The bytes are not a media format opspoor reads (a text file, random bytes, an empty file)."""


class CorruptMedia(MediaError):
    """The bytes start like a known format but cannot be decoded (truncated or damaged)."""


class UnreadableFile(MediaError):
    """The file could not be read at all (missing, a folder, no permission, an I/O error)."""


class MediaTooLarge(MediaError):
    """The file is larger than the configured byte limit."""


class DecompressionBomb(MediaError):
    """The declared image size exceeds the pixel limit; refused before any pixel is decoded."""


class InvalidLimits(OpspoorError, ValueError):
    """A configured media limit (OPSPOOR_MAX_PIXELS, OPSPOOR_MAX_BYTES) is not a positive integer.

    A configuration mistake, not a property of any one file, so it is not a MediaError.
    """
