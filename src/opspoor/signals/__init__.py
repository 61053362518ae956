"""Signal types: the hashes that lists hold and that media is turned into."""

from opspoor.signals.base import (
    BytesHasher,
    ImageHasher,
    InvalidSignalValue,
    SignalType,
    SignalValue,
)
from opspoor.signals.registry import all_signals, get_signal

__all__ = [
    "BytesHasher",
    "ImageHasher",
    "InvalidSignalValue",
    "SignalType",
    "SignalValue",
    "all_signals",
    "get_signal",
]
