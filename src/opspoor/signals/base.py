"""The plug-in protocol every signal type implements.

A signal type has a stored name (an explicit constant: it is written into lists and databases, so it
must never be derived from a class name), the content types it applies to, a parser that validates
and normalises its string form, and a distance. Computing it is a capability: from the file's bytes
(cryptographic hashes) or from decoded pixels (perceptual hashes).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from opspoor.errors import OpspoorError
from opspoor.media.image import DecodedImage


class InvalidSignalValue(OpspoorError, ValueError):
    """A hash string that is not a valid value of its signal type."""


@dataclass(frozen=True)
class SignalValue:
    signal: str
    value: str
    quality: int | None = None  # perceptual hashes only: 0..100, how much detail was hashed


class SignalType(ABC):
    name: ClassVar[str]
    content_types: ClassVar[frozenset[str]]  # "photo", "video"
    # Exact signals match only on equality; others match within a distance threshold.
    exact: ClassVar[bool]
    default_threshold: ClassVar[int] = 0
    # A valid value in canonical form, for documentation and for the shared contract test
    # (tests/test_signals_contract.py) of types that cannot be computed from bytes or one image.
    example: ClassVar[str | None] = None

    @abstractmethod
    def parse(self, text: str) -> str:
        """Return the canonical form of `text`, or raise InvalidSignalValue saying why not."""

    @abstractmethod
    def distance(self, a: str, b: str) -> int:
        """Distance between two canonical values; 0 means identical."""


class BytesHasher(SignalType):
    """A signal computed from the file's bytes, whatever they contain."""

    @abstractmethod
    def from_bytes(self, data: bytes) -> SignalValue: ...


class ImageHasher(SignalType):
    """A signal computed from decoded pixels."""

    @abstractmethod
    def from_image(self, image: DecodedImage) -> SignalValue: ...
