"""`hma-json`: one JSON object per line per media item, `{"<signal_type>": "<signal_str>", ...}`.

Each line is exactly the body HMA (OpenMediaMatch) takes at `POST /c/bank/<bank>/signal` to bank one
content item by its signals (facebook/ThreatExchange hasher-matcher-actioner/src/OpenMediaMatch/
blueprints/curation.py, bank_add_as_signals), so an export can be replayed into an HMA bank line by
line, and signals HMA hands back in that shape can be imported. The signals of one line share an
item_key (the line's sha256 if it has one, else its first signal), as one HMA content item.
Signal names are written as opspoor names them; HMA must have a signal type of that name enabled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TextIO

from opspoor.lists.errors import RowProblem
from opspoor.lists.formats.records import ExportRow, Item, Record, Skipped
from opspoor.lists.rows import NewEntry
from opspoor.signals import InvalidSignalValue, get_signal

_HMA_NAMES = {"video_md5": "md5"}


def read(stream: TextIO, signal: str | None = None) -> Iterator[Item]:
    del signal
    for line, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield RowProblem(line, f"invalid JSON: {exc.msg}")
            continue
        if not isinstance(obj, dict) or not obj:
            yield RowProblem(line, 'expected an object like {"pdq": "<64 hex>"}')
            continue
        pairs: list[tuple[str, str]] = []
        for name, value in obj.items():
            if not isinstance(value, str):
                yield RowProblem(line, f"signal {name!r} must be a string")
                pairs = []
                break
            ours = _HMA_NAMES.get(name.lower(), name.lower())
            try:
                ours = get_signal(ours).name
            except InvalidSignalValue:
                yield Skipped(line, f"signal type {name}")
                continue
            pairs.append((ours, value))
        if not pairs:
            continue
        key = next((v for n, v in pairs if n == "sha256"), None) or f"{pairs[0][0]}:{pairs[0][1]}"
        for name, value in pairs:
            yield Record(line, NewEntry(signal_type=name, value=value, item_key=key.strip().lower()))


def write(rows: Iterable[ExportRow], out: TextIO, list_name: str, with_state: bool) -> int:
    """Entries grouped by item_key (rows come in id order, so one item's signals are adjacent
    only by chance: collect them). An item with two values of one type (video frames) gets more lines."""
    del list_name, with_state
    items: dict[str, list[dict[str, str]]] = {}
    loose: list[dict[str, str]] = []
    count = 0
    for r in rows:
        count += 1
        if r.item_key is None:
            loose.append({r.signal_type: r.value})
            continue
        objs = items.setdefault(r.item_key, [])
        for obj in objs:
            if r.signal_type not in obj:
                obj[r.signal_type] = r.value
                break
        else:
            objs.append({r.signal_type: r.value})
    for objs in items.values():
        for obj in objs:
            out.write(json.dumps(obj, sort_keys=True) + "\n")
    for obj in loose:
        out.write(json.dumps(obj) + "\n")
    return count
