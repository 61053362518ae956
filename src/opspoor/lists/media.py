"""Turn hashed media into list entries: every signal of one item, grouped by its SHA-256."""

from __future__ import annotations

from collections.abc import Callable

from opspoor.lists.rows import NewEntry
from opspoor.signals.compute import FileSignals
from opspoor.signals.pdq import PDQ_MIN_QUALITY

# Other signal families (video frames, opspoor's robust signals) contribute entries for the same item
# through hooks registered here, each returning NewEntry rows from FileSignals.extra.
EntryHook = Callable[[FileSignals, str | None, str | None], list[NewEntry]]
_HOOKS: list[EntryHook] = []


def register_entry_hook(hook: EntryHook) -> None:
    if hook not in _HOOKS:
        _HOOKS.append(hook)


def entries_for_media(
    signals: FileSignals, *, classification: str | None = None, source_ref: str | None = None
) -> tuple[list[NewEntry], list[str]]:
    """Entries for one file, and warnings (e.g. a PDQ too flat to be worth listing).

    The cryptographic hashes are always listed. A PDQ of quality < 50 is not: Meta's guidance is not
    to match such hashes, so listing one would only ever produce false matches."""
    key = signals.sha256
    rows = [
        NewEntry(name, value, classification, source_ref, key)
        for name in ("md5", "sha1", "sha256")
        if (value := getattr(signals, name))
    ]
    warnings: list[str] = []
    if signals.pdq is not None:
        quality = signals.pdq_quality or 0
        if quality >= PDQ_MIN_QUALITY:
            rows.append(NewEntry("pdq", signals.pdq, classification, source_ref, key, quality))
        else:
            warnings.append(f"pdq quality {quality} < {PDQ_MIN_QUALITY}: perceptual hash not listed")
    for hook in _HOOKS:
        rows.extend(hook(signals, classification, source_ref))
    return rows, warnings
