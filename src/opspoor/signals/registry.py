"""The one table of signal types: a new hash is a module plus a row here."""

from __future__ import annotations

from opspoor.signals.base import InvalidSignalValue, SignalType
from opspoor.signals.crypto import MD5, SHA1, SHA256
from opspoor.signals.pdq import PDQ
from opspoor.signals.vpdq import VPDQSignal, VPDQTrimSignal

_SIGNALS: dict[str, SignalType] = {
    s.name: s for s in (MD5(), SHA1(), SHA256(), PDQ(), VPDQSignal(), VPDQTrimSignal())
}


def register(signal: SignalType) -> None:
    """Add a signal type (video and opspoor's own robust signals register themselves here)."""
    _SIGNALS[signal.name] = signal


# opspoor's robust signals need OpenCV and FAISS: loaded on first use, not with every command.
_LAZY = {"opspoor_pdq_views": "opspoor.robust.signals", "opspoor_orb": "opspoor.robust.signals"}


def get_signal(name: str) -> SignalType:
    key = name.strip().lower()
    if key not in _SIGNALS and key in _LAZY:
        import importlib

        importlib.import_module(_LAZY[key]).register_robust_signals()
    try:
        return _SIGNALS[key]
    except KeyError:
        known = ", ".join(sorted(_SIGNALS))
        raise InvalidSignalValue(f"unknown signal type {name!r}; known: {known}") from None


def all_signals() -> list[SignalType]:
    return list(_SIGNALS.values())
