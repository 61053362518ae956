"""Append to and verify the hash-chained audit log.

Each row's hash is SHA-256 over the previous row's hash and the row's canonical content (sequence
number, time, actor, action, subject, details as sorted compact JSON). Changing any stored field
changes that row's hash; removing a row breaks the link of the row after it; removing rows at the
end disagrees with `audit_head`. `verify` reports the first row where the chain breaks.

Appends first write to `audit_head` (a row lock on PostgreSQL, the write lock on SQLite), so several
server processes extend one chain instead of forking it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from opspoor.errors import OpspoorError
from opspoor.store.service import GENESIS_HASH, AuditHead, AuditRow


class AuditBroken(OpspoorError):
    """The audit chain does not verify."""

    def __init__(self, seq: int, problem: str) -> None:
        super().__init__(f"audit row {seq}: {problem}")
        self.seq = seq
        self.problem = problem


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    row_hash: str


def _canonical_details(details: Mapping[str, Any] | None) -> str:
    return json.dumps(
        dict(details or {}), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def row_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, subject: str, details: str) -> str:
    content = json.dumps(
        [seq, at, actor, action, subject, details], separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def log(
    session: Session,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one row in the caller's transaction (so it commits with the change it records)."""
    return log_many(session, [(actor, action, subject, details)])[0]


def log_many(
    session: Session, rows: Sequence[tuple[str, str, str, Mapping[str, Any] | None]]
) -> list[AuditEntry]:
    """Append rows (actor, action, subject, details) in order, in the caller's transaction."""
    # Write to the head first: that takes SQLite's write lock (reads alone take none, so two writers
    # could both read the same head) and PostgreSQL's row lock, before the head is read.
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one()
    prev, seq = head.row_hash, head.seq
    out: list[AuditEntry] = []
    for actor, action, subject, details in rows:
        seq += 1
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        text = _canonical_details(details)
        digest = row_hash(prev, seq, at, actor, action, subject, text)
        session.add(
            AuditRow(
                seq=seq, at=at, actor=actor, action=action, subject=subject, details=text,
                prev_hash=prev, row_hash=digest,
            )
        )  # fmt: skip
        out.append(AuditEntry(seq, at, actor, action, subject, json.loads(text), prev, digest))
        prev = digest
    head.seq, head.row_hash = seq, prev
    session.flush()
    return out


def _entry(row: AuditRow) -> AuditEntry:
    try:
        details = json.loads(row.details)
    except ValueError:
        details = {"unparsable": row.details}
    return AuditEntry(
        row.seq, row.at, row.actor, row.action, row.subject, details, row.prev_hash, row.row_hash
    )


def entries(session: Session, after: int = 0, limit: int = 100) -> list[AuditEntry]:
    rows = session.execute(
        select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(limit)
    ).scalars()
    return [_entry(r) for r in rows]


def verify(session: Session, batch: int = 5000) -> int:
    """Check the whole chain; returns the number of rows, or raises AuditBroken naming the row."""
    prev, expected_seq, count = GENESIS_HASH, 1, 0
    while True:
        rows = (
            session.execute(
                select(AuditRow).where(AuditRow.seq >= expected_seq).order_by(AuditRow.seq).limit(batch)
            )
            .scalars()
            .all()
        )
        for row in rows:
            if row.seq != expected_seq:
                raise AuditBroken(expected_seq, f"missing (the next row present is {row.seq})")
            if row.prev_hash != prev:
                raise AuditBroken(
                    row.seq, "does not link to the row before it (a row was removed or changed)"
                )
            digest = row_hash(prev, row.seq, row.at, row.actor, row.action, row.subject, row.details)
            if digest != row.row_hash:
                raise AuditBroken(row.seq, "content does not match its hash (the row was changed)")
            prev, expected_seq, count = row.row_hash, row.seq + 1, count + 1
        if len(rows) < batch:
            break
    top = session.get(AuditHead, 1)
    if top is not None and (top.seq != count or top.row_hash != prev):
        raise AuditBroken(
            count + 1 if top.seq > count else top.seq,
            f"the log ends at row {count} but the head records row {top.seq} "
            "(rows were removed from the end, or the head was changed)",
        )
    return count


def head(session: Session) -> tuple[int, str]:
    """(newest sequence number, its hash): write it down elsewhere to anchor the chain."""
    row = session.get(AuditHead, 1)
    return (row.seq, row.row_hash) if row else (0, GENESIS_HASH)
