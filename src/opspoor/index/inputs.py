"""Checks of what callers hand the indexes, with messages that say what was expected."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from opspoor.index.errors import IndexInputError

HASH_BYTES = 32  # a PDQ hash: 256 bits


def check_hashes(hashes: Any, what: str) -> np.ndarray:
    array = np.asarray(hashes)
    if array.dtype != np.uint8 or array.ndim != 2 or array.shape[1] != HASH_BYTES:
        raise IndexInputError(
            f"{what} must be a (N, {HASH_BYTES}) uint8 array (see hex_to_array), got"
            f" {array.dtype} {array.shape}"
        )
    return np.ascontiguousarray(array)


def check_ids(ids: Any) -> np.ndarray:
    array = np.asarray(ids)
    if array.ndim != 1 or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        raise IndexInputError(f"ids must be a 1-D integer array, got {array.dtype} {array.shape}")
    if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
        raise IndexInputError("ids must fit in int64")
    return array.astype(np.int64)


def check_threshold(threshold: Any) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, Integral):
        raise IndexInputError(f"threshold must be an integer 0..256, got {threshold!r}")
    if not 0 <= int(threshold) <= 256:
        raise IndexInputError(f"threshold must be 0..256 bits, got {threshold}")
    return int(threshold)


def has_repeats(ids: np.ndarray) -> bool:
    """Whether any id occurs twice (by sorting: np.unique's hash table is ~30x slower on 1M ids)."""
    ordered = np.sort(ids)
    return bool((ordered[1:] == ordered[:-1]).any())
