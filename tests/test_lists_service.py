from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from opspoor.lists import service
from opspoor.lists.errors import (
    AmbiguousValue,
    EntryNotFound,
    InvalidEntry,
    ListError,
    ListExists,
    ListNotFound,
)
from opspoor.lists.feed import ChangeFeed, list_changes_since
from opspoor.lists.history import entry_history, list_history, summaries
from opspoor.lists.rows import NewEntry
from opspoor.store.db import make_engine, migrate, session_factory, transaction
from opspoor.store.lists import Entry, EntryEvent

MD5 = "0123456789abcdef0123456789abcdef"
HEX64 = "f" * 64


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def _md5(i: int) -> str:
    return f"{i:032x}"


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_create_and_find_lists_with_provenance(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        service.create_list(session, "national", source="police", supplier="NPU", terms="no resharing")
        service.create_list(session, "ncii", owner_tenant="t1")
    with factory() as session:
        found = service.get_list(session, "national")
        assert (found.source, found.supplier, found.terms, found.enabled) == (
            "police",
            "NPU",
            "no resharing",
            True,
        )
        assert [h.name for h in service.list_lists(session)] == ["national", "ncii"]
        assert [h.name for h in service.list_lists(session, owner_tenant="t1")] == ["ncii"]
        with pytest.raises(ListNotFound, match="national, ncii"):
            service.get_list(session, "nope")
        assert [e.action for e in list_history(session, "national")] == ["created"]
    with pytest.raises(ListExists), transaction(factory) as session:
        service.create_list(session, "national")
    with pytest.raises(ListError), transaction(factory) as session:
        service.create_list(session, "bad\nname")


def test_add_canonicalises_counts_repeats_and_never_revives(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        service.create_list(session, "l")
        result = service.add_entries(
            session,
            "l",
            [
                {"signal_type": "MD5", "value": MD5.upper(), "classification": "IWF:a+ai"},
                NewEntry("md5", MD5),
                NewEntry("pdq", HEX64, quality=80, item_key=" K1 "),
            ],
            actor="alice",
        )
        assert (result.added, result.existing, result.duplicates) == (2, 0, 1)
        service.disable_entry(session, "l", MD5, "false positive")
    with transaction(factory) as session:
        again = service.add_entries(session, "l", [NewEntry("md5", MD5), NewEntry("sha1", "a" * 40)])
        assert (again.added, again.existing) == (1, 1)
    with factory() as session:
        entry = service.find_entry(session, "l", MD5)
        assert (entry.state, entry.classification, entry.ai_generated) == ("disabled", "iwf:A", True)
        active = {(r.signal_type, r.value, r.item_key, r.quality) for r in service.active_entries(session)}
        assert active == {("pdq", HEX64, "K1", 80), ("sha1", "a" * 40, None, None)}


BAD_ROWS = [
    ({"signal_type": "md5", "value": "xyz"}, "md5 must be 32 hex"),
    ({"signal_type": "nohash", "value": MD5}, "unknown signal type"),
    ({"signal_type": "md5", "value": MD5, "classification": "iwf:Z"}, "unknown iwf category"),
    ({"signal_type": "pdq", "value": HEX64, "quality": 101}, "quality"),
    ({"signal_type": "md5", "value": MD5, "colour": "red"}, "unknown field"),
    ({"signal_type": "md5", "value": MD5, "source_ref": "x" * 600}, "source_ref longer"),
]


def test_a_bad_row_is_named_and_nothing_is_written(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        service.create_list(session, "l")
    for row, fragment in BAD_ROWS:
        with pytest.raises(InvalidEntry, match=f"row 1: .*{fragment}"), transaction(factory) as session:
            service.add_entries(session, "l", [NewEntry("md5", _md5(1)), row])
        with factory() as session:
            assert _count(session, Entry) == 0 and _count(session, EntryEvent) == 0


def test_disable_dispute_enable_keep_the_entry_and_its_history(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        service.create_list(session, "l")
        service.add_entries(session, "l", [NewEntry("md5", MD5, "ncmec:A1")])
    with transaction(factory) as session:
        service.dispute_entry(session, "l", MD5.upper(), "hoster complaint", actor="bob")
        service.disable_entry(session, "l", MD5, "stock photo, confirmed", actor="carol")
        service.disable_entry(session, "l", MD5, "again")  # no change, no event
        service.reclassify_entry(session, "l", MD5, "ncmec:B1", "re-assessed", actor="carol")
        service.enable_entry(session, "l", MD5, "complaint withdrawn", actor="dave")
    with pytest.raises(ListError, match="reason"), transaction(factory) as session:
        service.disable_entry(session, "l", MD5, "  ")
    with pytest.raises(EntryNotFound), transaction(factory) as session:
        service.disable_entry(session, "l", _md5(9), "x")
    with factory() as session:
        history = entry_history(session, "l", MD5)
        actions = [(h.action, h.reason, h.actor) for h in reversed(history)]
        assert actions == [
            ("added", None, None),
            ("disputed", "hoster complaint", "bob"),
            ("disabled", "stock photo, confirmed", "carol"),
            ("reclassified", "re-assessed", "carol"),
            ("enabled", "complaint withdrawn", "dave"),
        ]
        assert history[1].detail == "ncmec:A1 -> ncmec:B1"
        entry = service.find_entry(session, "l", MD5)
        assert (entry.state, entry.reason, entry.classification) == (
            "active",
            "complaint withdrawn",
            "ncmec:B1",
        )
        assert _count(session, Entry) == 1


def test_a_value_in_two_signal_types_needs_the_type(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        service.create_list(session, "l")
        service.add_entries(session, "l", [NewEntry("sha256", HEX64), NewEntry("pdq", HEX64)])
    with pytest.raises(AmbiguousValue, match="pdq, sha256"), transaction(factory) as session:
        service.disable_entry(session, "l", HEX64, "x")
    with transaction(factory) as session:
        assert service.disable_entry(session, "l", HEX64, "x", signal_type="pdq").signal_type == "pdq"


def test_disabled_lists_are_not_active_and_their_switch_is_an_event(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        service.create_list(session, "a")
        service.create_list(session, "b")
        service.add_entries(session, "a", [NewEntry("md5", _md5(1))])
        service.add_entries(session, "b", [NewEntry("md5", _md5(2))])
    with factory() as session:
        mark = max(c.event_id for c in list_changes_since(session, 0))
    with transaction(factory) as session:
        service.set_list_enabled(session, "b", False, reason="terms expired", actor="admin")
        service.add_entries(session, "b", [NewEntry("md5", _md5(3))])
    with factory() as session:
        assert [r.value for r in service.active_entries(session)] == [_md5(1)]
        assert [r.value for r in service.active_entries(session, ["b"])] == []
        assert [c.entry.value for c in service.changes_since(session, 0)] == [_md5(1)]
        assert [(c.list_name, c.action) for c in list_changes_since(session, mark)] == [("b", "disabled")]
        by_name = {s.name: s for s in summaries(session)}
        assert by_name["b"].counts == {("md5", "active"): 2} and not by_name["b"].enabled


def test_changes_since_gives_ordered_actions_with_current_rows(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        service.create_list(session, "a")
        service.create_list(session, "b")
        service.add_entries(session, "a", [NewEntry("md5", _md5(i), "iwf:C") for i in range(3)])
        service.add_entries(session, "b", [NewEntry("pdq", HEX64, quality=90)])
    with factory() as session:
        start = service.latest_event_id(session)
        assert start == 4
    with transaction(factory) as session:
        service.disable_entry(session, "a", _md5(1), "wrong")
        service.reclassify_entry(session, "a", _md5(2), "iwf:A", "worse than thought")
        service.add_entries(session, "a", [NewEntry("sha1", "b" * 40)])
    with factory() as session:
        changes = service.changes_since(session, start)
        assert [(c.entry.value, c.action) for c in changes] == [
            (_md5(1), "disabled"),
            (_md5(2), "reclassified"),
            ("b" * 40, "added"),
        ]
        assert changes[1].entry.classification == "iwf:A"
        assert [c.event_id for c in changes] == sorted(c.event_id for c in changes)
        assert len(service.changes_since(session, 0, limit=2)) == 2
        only_b = service.changes_since(session, 0, ["b"])
        assert [(c.entry.list_name, c.entry.quality) for c in only_b] == [("b", 90)]


def test_change_feed_delivers_each_change_once_and_waits_for_late_commits(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    factory = session_factory(engine)
    try:
        with transaction(factory) as session:
            service.create_list(session, "l")
        now = [0.0]
        with factory() as session:
            feed = ChangeFeed.starting_now(session, gap_timeout=60.0, clock=lambda: now[0])
        if engine.dialect.name != "postgresql":
            with transaction(factory) as session:
                service.add_entries(session, "l", [NewEntry("md5", _md5(1))])
            with factory() as session:
                assert [c.entry.value for c in feed.poll(session)] == [_md5(1)]
                assert feed.poll(session) == []
            return
        # PostgreSQL: a slow transaction takes ids first and commits last.
        slow = factory()
        slow.begin()
        service.add_entries(slow, "l", [NewEntry("md5", _md5(i)) for i in range(1, 4)])
        slow.flush()
        with transaction(factory) as session:
            service.add_entries(session, "l", [NewEntry("md5", _md5(9))])
        with factory() as session:
            assert [c.entry.value for c in feed.poll(session)] == [_md5(9)]
        slow.commit()
        slow.close()
        with factory() as session:
            late = [c.entry.value for c in feed.poll(session)]
            assert late == [_md5(1), _md5(2), _md5(3)]
            assert feed.poll(session) == []
        # A rolled-back transaction leaves a gap that is given up after gap_timeout.
        doomed = factory()
        doomed.begin()
        service.add_entries(doomed, "l", [NewEntry("md5", _md5(20))])
        doomed.flush()
        doomed.rollback()
        doomed.close()
        with transaction(factory) as session:
            service.add_entries(session, "l", [NewEntry("md5", _md5(21))])
        with factory() as session:
            assert [c.entry.value for c in feed.poll(session)] == [_md5(21)]
            stuck = feed.low_water
            now[0] = 61.0
            feed.poll(session)
            assert feed.low_water > stuck
            assert feed.low_water == service.latest_event_id(session)
    finally:
        engine.dispose()


def test_migration_matches_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from opspoor.store.db import Base

    engine = make_engine(db_url)
    try:
        migrate(engine)
        mine = {"hash_lists", "list_entries", "list_entry_events", "list_events"}
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_name": lambda name, kind, parent: kind != "table" or name in mine}
            )
            diff = [d for d in compare_metadata(context, Base.metadata) if mine & set(map(str, _tables(d)))]
        assert diff == []
    finally:
        engine.dispose()


def _tables(diff: object) -> list[str]:
    """Table names a compare_metadata item is about (items are tuples, or lists of tuples)."""
    items = diff if isinstance(diff, list) else [diff]
    names = []
    for item in items:
        for part in item:
            name = getattr(part, "name", None) if not isinstance(part, str) else None
            table = getattr(part, "table", None)
            if table is not None:
                names.append(table.name)
            elif name:
                names.append(name)
            elif isinstance(part, str):
                names.append(part)
    return names


def test_update_list_keeps_old_provenance_in_the_history(factory: sessionmaker[Session]) -> None:
    import json

    with transaction(factory) as session:
        service.create_list(session, "l", terms="share with police only")
        service.update_list(session, "l", terms="no sharing", supplier="NPU", actor="admin")
        service.update_list(session, "l", terms="no sharing")  # unchanged: no event
    with pytest.raises(ListError, match="cannot update enabled"), transaction(factory) as session:
        service.update_list(session, "l", enabled=False)
    with factory() as session:
        assert service.get_list(session, "l").terms == "no sharing"
        events = list_history(session, "l")
        assert [e.action for e in events] == ["updated", "created"]
        assert json.loads(events[0].detail or "{}")["terms"] == {
            "old": "share with police only",
            "new": "no sharing",
        }
