"""Typed errors of the indexes, so callers can tell bad input and bad files apart from bugs."""

from __future__ import annotations

from opspoor.errors import OpspoorError


class IndexInputError(OpspoorError, ValueError):
    """Arguments an index cannot take: wrong shape or type, bad hex, out-of-range threshold."""


class DuplicateIdError(IndexInputError):
    """An id that is already live in the index (remove it first to replace its hash)."""


class IndexFormatError(OpspoorError):
    """A saved index that cannot be read: missing or damaged files, or an unknown format version."""
