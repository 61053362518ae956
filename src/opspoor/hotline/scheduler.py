"""The hotline's job table: triage, notices, re-checks and media purges, due at a time.

All scheduler state is in the database (hotline_jobs), so a restart loses nothing: a job is claimed
by moving it to `running` with a lease; a job whose runner died is taken again after the lease ends.
Several scheduler processes may run: the claim is a conditional UPDATE, so each job runs once.
A failing job is retried with a growing delay, then marked `failed` with its error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from opspoor.store.hotline import JOB_KINDS, Job

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    item_id: int | None
    attempts: int


def schedule(session: Session, kind: str, item_id: int | None, due_at: datetime, now: datetime) -> Job:
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, item_id=item_id, due_at=due_at, state="pending", attempts=0, updated_at=now)
    session.add(job)
    session.flush()
    return job


def cancel(session: Session, item_id: int, kinds: tuple[str, ...], now: datetime) -> None:
    session.execute(
        update(Job)
        .where(Job.item_id == item_id, Job.kind.in_(kinds), Job.state == "pending")
        .values(state="done", last_error="cancelled", updated_at=now)
    )


def due(session: Session, now: datetime, limit: int) -> list[int]:
    """Ids of jobs to run now: pending and due, or running with an expired lease."""
    return list(
        session.scalars(
            select(Job.id)
            .where(
                or_(
                    and_(Job.state == "pending", Job.due_at <= now),
                    and_(Job.state == "running", Job.lease_until < now),
                )
            )
            .order_by(Job.due_at, Job.id)
            .limit(limit)
        )
    )


def claim(session: Session, job_id: int, now: datetime) -> Claimed | None:
    """Take the job for this runner, or None if another runner took it first."""
    taken = session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            or_(Job.state == "pending", and_(Job.state == "running", Job.lease_until < now)),
        )
        .values(state="running", lease_until=now + LEASE, attempts=Job.attempts + 1, updated_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    job = session.get(Job, job_id)
    assert job is not None
    session.refresh(job)
    return Claimed(job.id, job.kind, job.item_id, job.attempts)


def finish(session: Session, job_id: int, now: datetime, error: str | None = None) -> None:
    job = session.get(Job, job_id)
    if job is None:
        return
    job.updated_at, job.lease_until = now, None
    if error is None:
        job.state = "done"
        return
    job.last_error = error[:1000]
    if job.attempts >= MAX_ATTEMPTS:
        job.state = "failed"
    else:
        job.state = "pending"
        job.due_at = now + RETRY_BASE * (2 ** (job.attempts - 1))


def jobs_for(session: Session, item_id: int) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.item_id == item_id).order_by(Job.due_at, Job.id)))


def pending_count(session: Session) -> int:
    return len(list(session.scalars(select(Job.id).where(Job.state == "pending"))))
