"""Glue between robust matching and hash lists: entries from media, an index from entries.

`install()` registers the robust signal types and a lists entry hook (opspoor.lists.media), so a
file added to a list whose FileSignals.extra carries the robust values (see `add_robust_extras`)
gets an `opspoor_pdq_views` entry under the same item_key as its `pdq`; its ORB features (about
6 KB, too long for an entry value) are kept once per item by opspoor.store.robust.
`index_from_entries` builds a RobustIndex from the active entries the matcher reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from opspoor.media.image import DecodedImage
from opspoor.robust.search import RobustIndex
from opspoor.robust.signals import (
    ORB_FEATURES,
    PDQ_VIEWS,
    register_robust_signals,
    robust_signals_for_reference,
)
from opspoor.signals.compute import FileSignals

if TYPE_CHECKING:
    from opspoor.lists.rows import EntryRow, NewEntry


def add_robust_extras(signals: FileSignals, image: DecodedImage) -> None:
    """Compute the robust reference signals of `image` into `signals.extra` (for list additions)."""
    for value in robust_signals_for_reference(image)[1:]:
        signals.extra[value.signal] = value.value


def robust_entry_hook(
    signals: FileSignals, classification: str | None, source_ref: str | None
) -> list[NewEntry]:
    """The views entry for the robust values in `signals.extra`, only where the item's PDQ is listed."""
    from opspoor.lists.rows import NewEntry
    from opspoor.signals.pdq import PDQ_MIN_QUALITY

    if signals.pdq is None or (signals.pdq_quality or 0) < PDQ_MIN_QUALITY:
        return []
    return [
        NewEntry(name, signals.extra[name], classification, source_ref, signals.sha256)
        for name in (PDQ_VIEWS,)
        if isinstance(signals.extra.get(name), str) and isinstance(signals.extra.get(ORB_FEATURES), str)
    ]


def install() -> None:
    """Register the signal types and the lists entry hook (idempotent)."""
    from opspoor.lists.media import register_entry_hook

    register_robust_signals()
    register_entry_hook(robust_entry_hook)


def robust_item_keys(rows: Iterable[EntryRow]) -> set[str]:
    """Items that take part in robust matching: those with an active views entry."""
    return {row.item_key for row in rows if row.item_key and row.signal_type == PDQ_VIEWS}


def index_from_entries(rows: Iterable[EntryRow], features: Mapping[str, str]) -> RobustIndex:
    """A RobustIndex over items that have pdq and views entries in one list under one item_key, and
    stored ORB `features` (item_key -> opspoor_orb text).

    The item id is the `pdq` entry's id, so a robust match reports the same entry (list, source,
    classification) as a plain PDQ match would. Items lacking any of the three are left to plain PDQ.
    """
    groups: dict[tuple[int, str], dict[str, EntryRow]] = {}
    for row in rows:
        if row.item_key and row.signal_type in ("pdq", PDQ_VIEWS):
            groups.setdefault((row.list_id, row.item_key), {})[row.signal_type] = row
    index = RobustIndex()
    for (_, item_key), group in groups.items():
        orb = features.get(item_key)
        if len(group) == 2 and orb is not None:
            pdq = group["pdq"]
            index.add_entry(pdq.entry_id, pdq.value, group[PDQ_VIEWS].value, orb)
    return index
