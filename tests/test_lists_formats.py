from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from opspoor.lists import service
from opspoor.lists.errors import ImportRejected, InvalidEntry, ListError, RowProblem
from opspoor.lists.formats import opspoor_csv
from opspoor.lists.formats.records import Record, Skipped
from opspoor.lists.formats.registry import FORMATS
from opspoor.lists.history import entry_history, list_history
from opspoor.lists.importing import MAX_PROBLEMS, export_stream, import_stream
from opspoor.lists.rows import NewEntry, normalise
from opspoor.store.db import make_engine, migrate, session_factory, transaction
from opspoor.store.lists import Entry, EntryEvent, ListEvent

PDQ = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
MD5 = "098f6bcd4621d373cade4e832627b4f6"
SHA1 = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def _seed(factory: sessionmaker[Session], name: str = "src") -> None:
    with transaction(factory) as session:
        service.create_list(session, name)
        service.add_entries(
            session,
            name,
            [
                NewEntry("md5", MD5, "ncmec:A1", "case-1", SHA256),
                NewEntry("sha1", SHA1, "ncmec:A1", "case-1", SHA256),
                NewEntry("sha256", SHA256, "ncmec:A1", "case-1", SHA256),
                NewEntry("pdq", PDQ, "ncmec:A1+ai", "case-1", SHA256, 93),
                NewEntry("md5", "1" * 32, "iwf:B"),
            ],
        )


def _active(session: Session, name: str) -> set[tuple[object, ...]]:
    rows = service.active_entries(session, [name])
    return {(r.signal_type, r.value, r.classification, r.ai_generated, r.item_key, r.quality) for r in rows}


def _counts(session: Session) -> tuple[int, int, int]:
    return tuple(
        int(session.scalar(select(func.count()).select_from(m)) or 0) for m in (Entry, EntryEvent, ListEvent)
    )  # type: ignore[return-value]


def _roundtrip(factory: sessionmaker[Session], fmt: str, signal: str | None = None) -> str:
    out = io.StringIO()
    with factory() as session:
        export_stream(session, "src", out, fmt, signal=signal)
    with transaction(factory) as session:
        service.create_list(session, f"copy-{fmt}")
        import_stream(session, f"copy-{fmt}", io.StringIO(out.getvalue()), fmt, signal=signal)
    return out.getvalue()


def test_csv_round_trip_keeps_every_field(factory: sessionmaker[Session]) -> None:
    _seed(factory)
    text = _roundtrip(factory, "csv")
    assert text.splitlines()[0] == "signal_type,value,classification,source_ref,item_key,quality"
    with factory() as session:
        assert _active(session, "copy-csv") == _active(session, "src")
        assert {r.source_ref for r in service.active_entries(session, ["copy-csv"])} == {"case-1", None}
        detail = json.loads(list_history(session, "copy-csv")[0].detail or "{}")
        assert detail["added"] == 5 and detail["format"] == "csv"


def test_threatexchange_and_hma_round_trips_keep_the_hashes(factory: sessionmaker[Session]) -> None:
    _seed(factory)
    for fmt in ("te-file", "te-csv", "te-json", "hma-json"):
        _roundtrip(factory, fmt)
        with factory() as session:
            source = {(r.signal_type, r.value) for r in service.active_entries(session, ["src"])}
            copied = list(service.active_entries(session, [f"copy-{fmt}"]))
            assert {(r.signal_type, r.value) for r in copied} == source, fmt
            if fmt in ("te-csv", "te-json"):  # classification travels as a tag
                assert {r.classification for r in copied} == {"ncmec:A1", "iwf:B"}
            if fmt == "hma-json":  # one line per media item, linked again by sha256
                assert {r.item_key for r in copied if r.value != "1" * 32} == {SHA256}


def test_lines_round_trip_per_signal_type(factory: sessionmaker[Session]) -> None:
    _seed(factory)
    text = _roundtrip(factory, "lines", signal="md5")
    assert text.split() == [MD5, "1" * 32]
    with pytest.raises(ListError, match="--signal"), transaction(factory) as session:
        import_stream(session, "src", io.StringIO(MD5 + "\n"), "lines")


def test_export_all_carries_states_into_the_copy(factory: sessionmaker[Session]) -> None:
    _seed(factory)
    with transaction(factory) as session:
        service.dispute_entry(session, "src", PDQ, "looks like a stock photo", signal_type="pdq")
    out = io.StringIO()
    with factory() as session:
        export_stream(session, "src", out, "csv", include_all=True)
        active_only = io.StringIO()
        assert export_stream(session, "src", active_only, "csv") == 4
    assert "disputed,looks like a stock photo" in out.getvalue()
    with transaction(factory) as session:
        service.create_list(session, "copy")
        import_stream(session, "copy", io.StringIO(out.getvalue()), "csv", actor="importer")
    with factory() as session:
        entry = service.find_entry(session, "copy", PDQ, signal_type="pdq")
        assert (entry.state, entry.reason) == ("disputed", "looks like a stock photo")
        assert [h.action for h in reversed(entry_history(session, "copy", PDQ, signal_type="pdq"))] == [
            "added",
            "disputed",
        ]
        assert PDQ not in {r.value for r in service.active_entries(session, ["copy"])}


BAD_CSV = (
    "signal_type,value,classification\n"
    f"md5,{MD5},iwf:A\n"
    "md5,nothex,\n"  # line 3
    "\n"
    "# a comment\n"
    f"sha1,{SHA1},iwf:Q\n"  # line 6
    f"pdq,{PDQ}\n"  # line 7: two fields
    f"banana,{MD5},\n"  # line 8
    f"sha256,{SHA256},\n"
)


def test_bad_rows_are_reported_by_line_and_nothing_is_written(factory: sessionmaker[Session]) -> None:
    _seed(factory)
    with factory() as session:
        before = _counts(session)
    with pytest.raises(ImportRejected) as caught, transaction(factory) as session:
        import_stream(session, "src", io.StringIO(BAD_CSV), "csv", source="bad.csv", batch=1)
    problems = caught.value.problems
    assert [p.line for p in problems] == [3, 6, 7, 8]
    assert "md5 must be 32 hex" in problems[0].message
    assert "unknown iwf category" in problems[1].message
    assert "expected 3 fields, got 2" in problems[2].message
    assert "unknown signal type" in problems[3].message
    assert "bad.csv: 4 bad row(s); nothing was imported" in str(caught.value)
    with factory() as session:
        assert _counts(session) == before


def test_problems_are_capped(factory: sessionmaker[Session]) -> None:
    _seed(factory)
    text = "signal_type,value\n" + "md5,zz\n" * (MAX_PROBLEMS + 50)
    with pytest.raises(ImportRejected) as caught, transaction(factory) as session:
        import_stream(session, "src", io.StringIO(text), "csv")
    assert len(caught.value.problems) == MAX_PROBLEMS and caught.value.capped


def test_many_rows_in_many_batches_with_repeats(factory: sessionmaker[Session]) -> None:
    _seed(factory)
    values = [f"{i:032x}" for i in range(3000)]
    text = "signal_type,value\n" + "".join(f"md5,{v}\n" for v in values + values[:500] + [MD5])
    with transaction(factory) as session:
        report = import_stream(session, "src", io.StringIO(text), "csv", batch=700)
    r = report.result
    assert (report.rows, r.added, r.existing, r.duplicates) == (3501, 3000, 501, 0)
    with factory() as session:
        assert sum(1 for _ in service.active_entries(session, ["src"])) == 3005
        assert _counts(session)[1] == 5 + 3000


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty file"),
        ("value,signal\n", "header must"),
        (f"signal_type,value,clasification\nmd5,{MD5},iwf:A\n", "unknown column(s) 'clasification'"),
        (f"signal_type,value,value\nmd5,{MD5},x\n", "named twice"),
        (f'signal_type,value\nmd5,"{MD5}\n', "malformed CSV"),
        (f"signal_type,value,quality\npdq,{PDQ},high\n", "quality must be an integer"),
        (f"signal_type,value,state\nmd5,{MD5},disabled\n", "needs a reason"),
        (f"signal_type,value,ai_generated\nmd5,{MD5},maybe\n", "ai_generated"),
    ],
)
def test_csv_structure_errors(text: str, fragment: str) -> None:
    problems = [i for i in opspoor_csv.read(io.StringIO(text)) if isinstance(i, RowProblem)]
    assert problems and fragment in problems[0].message


def test_threatexchange_csv_skips_other_opinions_and_signal_types() -> None:
    reader, _ = FORMATS["te-csv"]
    text = (
        "collab,signal_type,signal_str,category,tags\n"
        f"Sample,pdq,{PDQ},POSITIVE_CLASS,ncmec:A1 media_type_photo\n"
        f"Sample,video_md5,{MD5},TRUE_POSITIVE,\n"
        f"Sample,pdq,{'0' * 64},NEGATIVE_CLASS,\n"
        "Sample,raw_text,hello world,POSITIVE_CLASS,\n"
    )
    items = list(reader(io.StringIO(text), None))
    records = [i for i in items if isinstance(i, Record)]
    assert [(r.line, r.entry.signal_type, r.entry.classification) for r in records] == [
        (2, "pdq", "ncmec:A1"),
        (3, "md5", None),
    ]
    assert records[0].entry.source_ref == "threatexchange:Sample"
    assert sorted(i.why for i in items if isinstance(i, Skipped)) == [
        "opinion NEGATIVE_CLASS",
        "signal type raw_text",
    ]


def test_threatexchange_descriptor_json_shapes() -> None:
    reader, _ = FORMATS["te-json"]
    page = {
        "data": [
            {
                "id": "31",
                "raw_indicator": PDQ,
                "type": "HASH_PDQ",
                "status": "MALICIOUS",
                "tags": {"data": [{"text": "iwf:A"}]},
            },
            {"id": "32", "raw_indicator": MD5, "type": "HASH_MD5", "status": "NON_MALICIOUS"},
            {"id": "33", "raw_indicator": "x", "type": "HASH_TMK", "status": "MALICIOUS"},
            {"id": "34", "type": "HASH_MD5"},
            [1, 2],
        ]
    }
    items = list(reader(io.StringIO(json.dumps(page)), None))
    record = items[0]
    assert isinstance(record, Record)
    assert (record.entry.signal_type, record.entry.classification, record.entry.source_ref) == (
        "pdq",
        "iwf:A",
        "threatexchange:31",
    )
    assert [type(i).__name__ for i in items] == ["Record", "Skipped", "Skipped", "RowProblem", "RowProblem"]
    assert [i.line for i in items if isinstance(i, RowProblem)] == [4, 5]
    lines = "\n".join(json.dumps(d) for d in page["data"][:2]) + "\n{broken\n"
    shaped = list(reader(io.StringIO(lines), None))
    assert isinstance(shaped[0], Record) and isinstance(shaped[2], RowProblem) and shaped[2].line == 3


def test_hma_lines_group_an_item_and_report_bad_lines() -> None:
    reader, _ = FORMATS["hma-json"]
    text = (
        json.dumps({"pdq": PDQ, "sha256": SHA256, "tmk": "x"})
        + "\n[1]\nnot json\n"
        + json.dumps({"md5": MD5})
        + "\n"
    )
    items = list(reader(io.StringIO(text), None))
    records = [i for i in items if isinstance(i, Record)]
    assert [(r.entry.signal_type, r.entry.item_key) for r in records] == [
        ("pdq", SHA256),
        ("sha256", SHA256),
        ("md5", f"md5:{MD5}"),
    ]
    assert [i.line for i in items if isinstance(i, RowProblem)] == [2, 3]
    assert [i.why for i in items if isinstance(i, Skipped)] == ["signal type tmk"]


def test_te_file_lines() -> None:
    reader, _ = FORMATS["te-file"]
    text = f"pdq {PDQ}\n\nvideo_md5 {MD5}\nraw_text some words here\njustone\n"
    items = list(reader(io.StringIO(text), None))
    assert [type(i).__name__ for i in items] == ["Record", "Record", "Skipped", "RowProblem"]
    assert items[-1].line == 5  # type: ignore[union-attr]
    typed = list(reader(io.StringIO(f"{PDQ}\n"), "pdq"))
    assert isinstance(typed[0], Record) and typed[0].entry.signal_type == "pdq"


_cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=70)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_cell, min_size=0, max_size=5), max_size=6))
def test_malformed_csv_gives_row_problems_never_crashes(rows: list[list[str]]) -> None:
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["signal_type", "value", "classification", "quality"])
    for row in rows:
        writer.writerow(row)
    for item in opspoor_csv.read(io.StringIO(buf.getvalue())):
        assert isinstance(item, Record | RowProblem)
        if isinstance(item, Record):
            try:
                clean = normalise(item.entry)
            except InvalidEntry:
                continue
            assert normalise(clean) == clean  # canonical forms are fixed points


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["md5", "sha1", "sha256", "pdq"]), st.text(max_size=80))
def test_hash_values_are_canonical_or_rejected(signal: str, value: str) -> None:
    try:
        clean = normalise(NewEntry(signal, value))
    except InvalidEntry:
        return
    assert clean.value == clean.value.strip().lower()
    assert all(c in "0123456789abcdef" for c in clean.value)
    assert len(clean.value) == {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}[signal]
