"""The audit log over HTTP: a tenant's own rows, and a check of the whole chain."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from opspoor.api.auth import require, service
from opspoor.api.errors import request_id
from opspoor.api.keys import KeyInfo
from opspoor.api.models import AuditEntryOut, AuditOut, AuditVerifyOut, ErrorBody
from opspoor.audit.chain import AuditBroken, head, verify
from opspoor.store.service import AuditRow

router = APIRouter(prefix="/v1/audit", tags=["audit"])

_ERRORS = {401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 429: {"model": ErrorBody}}


@router.get("", response_model=AuditOut, summary="This tenant's audit rows, oldest first.", responses=_ERRORS)
def rows(
    request: Request,
    after: int = Query(0, ge=0, le=2**62, description="Only rows with a larger sequence number."),
    limit: int = Query(100, ge=1, le=1000),
    caller: KeyInfo = Depends(require("audit")),
) -> AuditOut:
    import json

    prefix = f"{caller.tenant}/"
    with service(request).factory() as session:
        found = session.scalars(
            select(AuditRow)
            .where(AuditRow.seq > after, AuditRow.actor.startswith(prefix, autoescape=True))
            .order_by(AuditRow.seq)
            .limit(limit)
        ).all()
        entries = [
            AuditEntryOut(
                seq=r.seq,
                at=r.at,
                actor=r.actor,
                action=r.action,
                subject=r.subject,
                details=json.loads(r.details),
                row_hash=r.row_hash,
            )
            for r in found
        ]
    return AuditOut(entries=entries, request_id=request_id(request))


@router.get(
    "/verify", response_model=AuditVerifyOut, summary="Check the whole hash chain.", responses=_ERRORS
)
def verify_chain(request: Request, _caller: KeyInfo = Depends(require("audit"))) -> AuditVerifyOut:
    with service(request).factory() as session:
        _, digest = head(session)
        try:
            count = verify(session)
        except AuditBroken as exc:
            return AuditVerifyOut(
                ok=False,
                rows=0,
                problem=str(exc),
                broken_row=exc.seq,
                head_hash=digest,
                request_id=request_id(request),
            )
    return AuditVerifyOut(ok=True, rows=count, head_hash=digest, request_id=request_id(request))
