"""The one table of list file formats: name -> (reader, writer)."""

from __future__ import annotations

from opspoor.lists.errors import ListError
from opspoor.lists.formats import hma, lines, opspoor_csv, threatexchange
from opspoor.lists.formats.records import Reader, Writer

FORMATS: dict[str, tuple[Reader, Writer]] = {
    "csv": (opspoor_csv.read, opspoor_csv.write),
    "lines": (lines.read, lines.write),
    "te-file": (threatexchange.read_file, threatexchange.write_file),
    "te-csv": (threatexchange.read_csv, threatexchange.write_csv),
    "te-json": (threatexchange.read_json, threatexchange.write_json),
    "hma-json": (hma.read, hma.write),
}


def get_format(name: str) -> tuple[Reader, Writer]:
    try:
        return FORMATS[name.strip().lower()]
    except KeyError:
        raise ListError(f"unknown list format {name!r}; known: {', '.join(FORMATS)}") from None
