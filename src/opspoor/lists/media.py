"""Turn hashed media into list entries: every signal of one item, grouped by its SHA-256.

`add_media` is the one way media goes into a list (CLI, demo, service, hotline): it adds the
cryptographic hashes, the PDQ, a video's vPDQ entries and frames, and whatever registered entry hooks
contribute (opspoor's robust signals, see opspoor.robust.entries).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from opspoor.lists.rows import NewEntry
from opspoor.signals.compute import FileSignals
from opspoor.signals.pdq import PDQ_MIN_QUALITY

# Other signal families contribute entries for the same item through hooks registered here, each
# returning NewEntry rows from FileSignals.extra.
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
    if signals.kind == "video":
        from opspoor.store.video import video_entry_rows

        video_rows = video_entry_rows(signals, classification, source_ref)
        if not video_rows and "vpdq" in signals.extra:
            warnings.append("no video frame of quality >= 50: video listed by its file hashes only")
        rows.extend(video_rows)
    if "opspoor_pdq_views" in signals.extra:
        from opspoor.robust.entries import install

        install()  # registers the robust entry hook
    for hook in _HOOKS:
        rows.extend(hook(signals, classification, source_ref))
    return rows, warnings


def add_media(
    session: Session,
    list_name: str,
    items: Sequence[FileSignals],
    *,
    classification: str | None = None,
    source_ref: str | None = None,
    actor: str | None = None,
    reason: str | None = None,
) -> tuple[Any, list[str]]:
    """Add hashed media to a list in the caller's transaction; returns (AddResult, warnings)."""
    from opspoor.lists.service import add_entries

    rows: list[NewEntry] = []
    warnings: list[str] = []
    for signals in items:
        entries, notes = entries_for_media(signals, classification=classification, source_ref=source_ref)
        rows.extend(entries)
        warnings.extend(notes)
        if signals.kind == "video":
            from opspoor.store.video import save_video_frames

            save_video_frames(session, signals)
        orb = signals.extra.get("opspoor_orb")
        if isinstance(orb, str) and signals.sha256 and any(
            e.signal_type == "opspoor_pdq_views" for e in entries
        ):
            from opspoor.store.robust import save_features

            save_features(session, signals.sha256, orb)
    return add_entries(session, list_name, rows, actor=actor, reason=reason), warnings
