"""How the PDQ index cuts 256 bits into parts, and how far each part is searched for a threshold.

Multi-index hashing works best with parts of about log2(N) bits (Norouzi et al., CVPR 2012). The
default is 11 parts of 23-24 bits, right for lists of millions of hashes: the top 16 bits of a part
address a bucket directly and its remaining 7-8 bits are kept inline in the table, so a bucket is
filtered without touching the hashes.

Radii follow the generalised pigeonhole principle (Qin, Xiao et al., "GPH: similarity search in Hamming
space", ICDE 2018): if part i differs by more than r_i bits for every i, the hashes differ by at least
sum(r_i + 1) bits, so any radii with sum(r_i + 1) >= T + 1 find every hash within T. A radius of -1
skips a part. For PDQ's threshold 31 the default parts get radius 2 (ten parts) and 1 (one part).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb

import numpy as np

from opspoor.index.errors import IndexInputError
from opspoor.index.kernels import HI_BITS, N_BUCKETS

HASH_BITS = 256
DEFAULT_PART_BITS: tuple[int, ...] = (24, 24, 24, 23, 23, 23, 23, 23, 23, 23, 23)
# Beyond radius 3 a part's probe count (C(16, <=4) = 2,517 buckets) costs more than it saves.
MAX_PART_RADIUS = 3


@dataclass(frozen=True)
class Layout:
    part_bits: tuple[int, ...]
    starts: np.ndarray = field(init=False, repr=False, compare=False)
    lengths: np.ndarray = field(init=False, repr=False, compare=False)
    masks: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        bits = tuple(int(b) for b in self.part_bits)
        if sum(bits) != HASH_BITS or any(not HI_BITS <= b <= HI_BITS + 8 for b in bits):
            raise IndexInputError(
                f"part sizes must add up to {HASH_BITS} bits, each {HI_BITS}..{HI_BITS + 8}; got {bits}"
            )
        starts = np.concatenate([[0], np.cumsum(bits)[:-1]]).astype(np.int64)
        masks = np.zeros((len(bits), 4), np.uint64)
        for p, (start, length) in enumerate(zip(starts, bits, strict=True)):
            for bit in range(int(start), int(start) + length):
                masks[p, bit >> 6] |= np.uint64(1) << np.uint64(bit & 63)
        object.__setattr__(self, "part_bits", bits)
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "lengths", np.array(bits, np.int64))
        object.__setattr__(self, "masks", masks)

    def radii(self, threshold: int) -> np.ndarray | None:
        """Per-part search radii that guarantee every hash within `threshold` is found; None when the
        threshold is too large for the tables to help (the index then compares every hash)."""
        budget = threshold + 1
        base, extra = divmod(budget, len(self.part_bits))
        if base + (1 if extra else 0) - 1 > MAX_PART_RADIUS:
            return None
        radii = np.full(len(self.part_bits), base - 1, np.int64)
        # Longer parts are more selective at the same radius, so they get the extra bit of budget.
        longest_first = np.argsort(-self.lengths, kind="stable")
        radii[longest_first[:extra]] += 1
        return radii

    def probes(self, radii: np.ndarray) -> int:
        """How many buckets one query visits with these radii (a measure of its fixed cost)."""
        return sum(sum(comb(HI_BITS, a) for a in range(int(r) + 1)) for r in radii if r >= 0)


def _bucket_flips() -> tuple[np.ndarray, np.ndarray]:
    """All 16-bit flip masks ordered by how many bits they flip, and where each count starts."""
    values = np.arange(N_BUCKETS, dtype=np.int64)
    counts = np.unpackbits(values.astype(">u2").view(np.uint8).reshape(-1, 2), axis=1).sum(axis=1)
    order = np.argsort(counts, kind="stable")
    offsets = np.searchsorted(counts[order], np.arange(HI_BITS + 2)).astype(np.int64)
    return values[order], offsets


FLIPS, FLIP_OFFSETS = _bucket_flips()
