"""The hash-chained audit log: appends link up, any changed or removed row is found, by row number."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from opspoor import audit
from opspoor.audit.chain import AuditBroken, head
from opspoor.store.db import open_store, transaction


def _drop_guards(conn, dialect: str) -> None:  # type: ignore[no-untyped-def]
    """What an attacker with database access would do first: the triggers refuse changes."""
    if dialect == "postgresql":
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("DROP TRIGGER audit_log_no_delete"))


@pytest.fixture
def store(db_url: str):  # type: ignore[no-untyped-def]
    engine, factory = open_store(db_url)
    with transaction(factory) as session:
        for i in range(5):
            audit.log(session, f"t{i % 2}/abcd1234", "match", f"md5:{i:032x}", {"n": i, "lists": ["a", "b"]})
    yield engine, factory
    engine.dispose()


def test_chain_verifies_and_links(store) -> None:  # type: ignore[no-untyped-def]
    _, factory = store
    with factory() as session:
        assert audit.verify(session) == 5
        seq, digest = head(session)
        rows = audit.chain.entries(session)
    assert seq == 5 and digest == rows[-1].row_hash
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.row_hash for a, b in zip(rows, rows[1:], strict=False))
    assert rows[2].details == {"n": 2, "lists": ["a", "b"]}


def test_database_refuses_update_and_delete(store) -> None:  # type: ignore[no-untyped-def]
    engine, _ = store
    for statement in (
        "UPDATE audit_log SET actor = 'x' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 2",
    ):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


@pytest.mark.parametrize(
    ("statement", "broken"),
    [
        ("UPDATE audit_log SET details = '[99]' WHERE seq = 3", 3),
        ("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2", 2),
        ("DELETE FROM audit_log WHERE seq = 3", 3),
        ("DELETE FROM audit_log WHERE seq = 5", 5),
    ],
)
def test_changed_or_removed_row_is_found(store, statement: str, broken: int) -> None:  # type: ignore[no-untyped-def]
    engine, factory = store
    with engine.begin() as conn:
        _drop_guards(conn, engine.dialect.name)
        conn.execute(text(statement))
    with factory() as session, pytest.raises(AuditBroken) as info:
        audit.verify(session)
    assert info.value.seq == broken


def test_cli_verify_names_the_row(store, db_url: str) -> None:  # type: ignore[no-untyped-def]
    from opspoor.cli.app import app

    engine, _ = store
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert ok.exit_code == 0, ok.output
    assert "5 rows" in ok.output
    with engine.begin() as conn:
        _drop_guards(conn, engine.dialect.name)
        conn.execute(text("UPDATE audit_log SET subject = 'md5:' || 'f' WHERE seq = 4"))
    bad = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert bad.exit_code == 1
    assert "row 4" in bad.output


def test_concurrent_appends_from_two_engines_extend_one_chain(store, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """Two processes' worth of writers (separate engines, several threads) never fork the chain."""
    from concurrent.futures import ThreadPoolExecutor

    second_engine, second_factory = open_store(db_url)
    _, factory = store

    def append(i: int) -> None:
        with transaction(factory if i % 2 else second_factory) as session:
            audit.log(session, "t/abcd1234", "match", f"n{i}", {"i": i})

    try:
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(append, range(60)))
    finally:
        second_engine.dispose()
    with factory() as session:
        assert audit.verify(session) == 65


def test_group_commit_writer(store) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from opspoor.audit.writer import AuditWriter

    _, factory = store
    writer = AuditWriter(factory)

    async def many() -> None:
        await asyncio.gather(*(writer.log("t/abcd1234", "match", f"s{i}", {"i": i}) for i in range(200)))

    try:
        asyncio.run(many())
    finally:
        writer.close()
    with factory() as session:
        assert audit.verify(session) == 205
        subjects = [e.subject for e in audit.chain.entries(session, after=5, limit=1000)]
    assert sorted(subjects) == sorted(f"s{i}" for i in range(200))
