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
