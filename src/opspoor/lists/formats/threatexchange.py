"""Formats of Meta's ThreatExchange tools, so lists move between opspoor and python-threatexchange/HMA.

- `te-file`: the file python-threatexchange's LocalFileSignalExchangeAPI ("file" collaboration) reads
  and appends to: one signal per line, `<signal_type> <signal_str>` (split at the first space), or
  just the signal when the collaboration fixes the type (our `--signal`).
  (facebook/ThreatExchange python-threatexchange/threatexchange/exchanges/impl/file_api.py)
- `te-csv`: what `threatexchange dataset --print-signals --csv` writes: header
  `collab,signal_type,signal_str,category,tags`; category is a SignalOpinionCategory name, tags are
  space-separated. (python-threatexchange/threatexchange/cli/dataset_cmd.py)
- `te-json`: ThreatDescriptor records of the ThreatExchange Graph API (`raw_indicator`, `type` such
  as HASH_PDQ, `status`, `tags`, `id`, `added_on`), as a /threat_descriptors response page
  `{"data": [...]}`, a JSON array, or one record per line.
  (python-threatexchange/threatexchange/exchanges/clients/fb_threatexchange/descriptor.py)

Signal names: python-threatexchange calls the MD5 of a video file's bytes `video_md5`; it is the
same value as opspoor's `md5`, so it is read as `md5`. Our own names are written as they are.
Rows of signal types opspoor cannot match (text, URLs, TMK, ...) are skipped and counted, since
ThreatExchange datasets mix them in; negative and "worth investigating" opinions, and descriptors
with status NON_MALICIOUS (a dispute, in ThreatExchange's terms), are skipped and counted too.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from opspoor.lists.classification import InvalidClassification, parse_classification
from opspoor.lists.errors import RowProblem
from opspoor.lists.formats.records import ExportRow, Item, Record, Skipped, is_comment
from opspoor.lists.rows import NewEntry
from opspoor.signals import InvalidSignalValue, get_signal

_TE_SIGNAL_NAMES = {"video_md5": "md5"}
# ThreatExchange IndicatorType values of the hashes opspoor holds.
_TE_INDICATOR_TYPES = {
    "HASH_PDQ": "pdq",
    "HASH_MD5": "md5",
    "HASH_SHA1": "sha1",
    "HASH_SHA256": "sha256",
    "HASH_VIDEO_MD5": "md5",
}
_INDICATOR_OF = {"pdq": "HASH_PDQ", "md5": "HASH_MD5", "sha1": "HASH_SHA1", "sha256": "HASH_SHA256"}
# SignalOpinionCategory names, old (TRUE_POSITIVE ...) and current (POSITIVE_CLASS ...).
_POSITIVE = {"", "TRUE_POSITIVE", "POSITIVE_CLASS"}
_TE_CSV_HEADER = ("collab", "signal_type", "signal_str", "category", "tags")


def _our_signal(name: str) -> str | None:
    name = _TE_SIGNAL_NAMES.get(name.strip().lower(), name.strip().lower())
    try:
        return get_signal(name).name
    except InvalidSignalValue:
        return None


def _classification_from_tags(tags: Iterable[str]) -> str | None:
    for tag in tags:
        try:
            return str(parse_classification(tag))
        except InvalidClassification:
            continue
    return None


def read_file(stream: TextIO, signal: str | None = None) -> Iterator[Item]:
    for line, text in enumerate(stream, start=1):
        if is_comment(text):
            continue
        text = text.strip()
        if signal:
            yield Record(line, NewEntry(signal_type=signal, value=text))
            continue
        name, _, value = text.partition(" ")
        if not value.strip():
            yield RowProblem(line, f"expected '<signal_type> <signal>', got {text[:80]!r}")
            continue
        ours = _our_signal(name)
        if ours is None:
            yield Skipped(line, f"signal type {name}")
            continue
        yield Record(line, NewEntry(signal_type=ours, value=value))


def write_file(rows: Iterable[ExportRow], out: TextIO, list_name: str, with_state: bool) -> int:
    del list_name, with_state
    count = 0
    for r in rows:
        out.write(f"{r.signal_type} {r.value}\n")
        count += 1
    return count


def read_csv(stream: TextIO, signal: str | None = None) -> Iterator[Item]:
    del signal
    reader = csv.reader(stream, strict=True)
    header: list[str] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield RowProblem(reader.line_num, f"malformed CSV: {exc}")
            return
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if header is None:
            header = [c.strip().lower().lstrip("\ufeff") for c in row]
            if not {"signal_type", "signal_str"} <= set(header):
                yield RowProblem(line, f"expected the header {','.join(_TE_CSV_HEADER)}; got {row[:8]}")
                return
            continue
        if len(row) != len(header):
            yield RowProblem(line, f"expected {len(header)} fields, got {len(row)}")
            continue
        cells = dict(zip(header, row, strict=True))
        category = cells.get("category", "").strip().upper()
        if category not in _POSITIVE:
            yield Skipped(line, f"opinion {category}")
            continue
        ours = _our_signal(cells["signal_type"])
        if ours is None:
            yield Skipped(line, f"signal type {cells['signal_type'].strip()}")
            continue
        tags = cells.get("tags", "").split()
        collab = cells.get("collab", "").strip()
        yield Record(
            line,
            NewEntry(
                signal_type=ours,
                value=cells["signal_str"],
                classification=_classification_from_tags(tags),
                source_ref=f"threatexchange:{collab}" if collab else None,
            ),
        )
    if header is None:
        yield RowProblem(1, f"empty file: expected the header {','.join(_TE_CSV_HEADER)}")


def write_csv(rows: Iterable[ExportRow], out: TextIO, list_name: str, with_state: bool) -> int:
    del with_state  # the format has no state: only active entries make sense in it
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_TE_CSV_HEADER)
    count = 0
    for r in rows:
        writer.writerow([list_name, r.signal_type, r.value, "POSITIVE_CLASS", r.classification or ""])
        count += 1
    return count


def _json_records(stream: TextIO) -> Iterator[tuple[int, Any] | RowProblem]:
    text = stream.read()
    stripped = text.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            if not stripped.startswith("{"):
                yield RowProblem(exc.lineno, f"invalid JSON: {exc.msg}")
                return
            doc = None  # maybe JSON Lines
        if isinstance(doc, dict) and isinstance(doc.get("data"), list):
            yield from enumerate(doc["data"], start=1)
            return
        if isinstance(doc, list):
            yield from enumerate(doc, start=1)
            return
        if isinstance(doc, dict):
            yield 1, doc
            return
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield line, json.loads(raw)
        except json.JSONDecodeError as exc:
            yield RowProblem(line, f"invalid JSON: {exc.msg}")


def read_json(stream: TextIO, signal: str | None = None) -> Iterator[Item]:
    """Records are numbered by position in a `data` array or JSON array, else by line."""
    del signal
    for item in _json_records(stream):
        if isinstance(item, RowProblem):
            yield item
            continue
        number, record = item
        if not isinstance(record, dict):
            yield RowProblem(number, "expected a JSON object (a ThreatDescriptor)")
            continue
        indicator, kind = record.get("raw_indicator", record.get("indicator")), record.get("type")
        if not isinstance(indicator, str) or not isinstance(kind, str):
            yield RowProblem(number, "a ThreatDescriptor needs text fields raw_indicator and type")
            continue
        if record.get("should_delete") or str(record.get("status", "")).upper() == "NON_MALICIOUS":
            yield Skipped(number, "deleted or NON_MALICIOUS descriptor")
            continue
        ours = _TE_INDICATOR_TYPES.get(kind.upper())
        if ours is None:
            yield Skipped(number, f"indicator type {kind}")
            continue
        tags = record.get("tags") or []
        if isinstance(tags, dict):  # the Graph API's {"data": [{"text": ...}]} shape
            tags = [t.get("text", "") for t in tags.get("data", []) if isinstance(t, dict)]
        ref = f"threatexchange:{record['id']}" if record.get("id") else None
        yield Record(
            number,
            NewEntry(
                signal_type=ours,
                value=indicator,
                classification=_classification_from_tags(str(t) for t in tags),
                source_ref=ref,
            ),
        )


def write_json(rows: Iterable[ExportRow], out: TextIO, list_name: str, with_state: bool) -> int:
    """A /threat_descriptors-shaped page; signal types without a ThreatExchange type are left out."""
    del with_state
    out.write('{"data": [')
    count = 0
    for r in rows:
        kind = _INDICATOR_OF.get(r.signal_type)
        if kind is None:
            continue
        record = {
            "raw_indicator": r.value,
            "type": kind,
            "status": "MALICIOUS",
            "tags": [r.classification] if r.classification else [],
            "added_on": r.added_at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "description": f"opspoor list {list_name}",
        }
        out.write(("," if count else "") + "\n" + json.dumps(record, sort_keys=True))
        count += 1
    out.write("\n]}\n")
    return count
