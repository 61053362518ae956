"""Cryptographic hashes of the file bytes: what most national lists (and NCMEC's) hold."""

from __future__ import annotations

import hashlib
import re
from typing import ClassVar

from opspoor.signals.base import BytesHasher, InvalidSignalValue, SignalValue


class _Digest(BytesHasher):
    algorithm: ClassVar[str]
    hex_len: ClassVar[int]
    content_types = frozenset({"photo", "video"})
    exact = True

    def parse(self, text: str) -> str:
        value = text.strip().lower()
        if len(value) != self.hex_len or not re.fullmatch(r"[0-9a-f]+", value):
            raise InvalidSignalValue(
                f"{self.name} must be {self.hex_len} hex digits, got {text.strip()[:80]!r}"
            )
        return value

    def distance(self, a: str, b: str) -> int:
        return 0 if a == b else 1

    def from_bytes(self, data: bytes) -> SignalValue:
        return SignalValue(self.name, hashlib.new(self.algorithm, data).hexdigest())


class MD5(_Digest):
    name = "md5"
    algorithm = "md5"
    hex_len = 32


class SHA1(_Digest):
    name = "sha1"
    algorithm = "sha1"
    hex_len = 40


class SHA256(_Digest):
    name = "sha256"
    algorithm = "sha256"
    hex_len = 64
