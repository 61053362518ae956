"""List curation: create, import, add, disable with a reason, export, share to other tenants.

A tenant sees the lists it owns and those shared to it; any other list answers 404 exactly like a
list that does not exist, so names of other tenants' lists do not leak. Only the owner changes a
list. Every call that changes something, and every export, is written to the audit log in the same
transaction as the change.
"""

from __future__ import annotations

import asyncio
import io

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from opspoor import audit
from opspoor.api.auth import require, service
from opspoor.api.errors import Forbidden, NotFound, Unprocessable, request_id
from opspoor.api.keys import KeyInfo, share_list, shared_with, unshare_list
from opspoor.api.models import (
    AddedOut,
    DisableIn,
    EntriesIn,
    EntryStateOut,
    ErrorBody,
    ImportOut,
    ListIn,
    ListOut,
    ListsOut,
    ShareIn,
    SharesOut,
)
from opspoor.api.state import ServiceState
from opspoor.api.upload import read_body
from opspoor.store.db import transaction
from opspoor.store.lists import HashList
from opspoor.store.service import ListShare, Tenant

router = APIRouter(prefix="/v1/lists", tags=["lists"])

_ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
    429: {"model": ErrorBody},
}
_FORMATS = ("csv", "lines", "te-file", "te-csv", "te-json", "hma-json")
_MEDIA = {
    "te-json": "application/json",
    "hma-json": "application/json",
    "csv": "text/csv",
    "te-csv": "text/csv",
}


def _find(session: Session, name: str, tenant: str) -> tuple[HashList, bool]:
    """The list and whether `tenant` owns it; NotFound if it does not exist *for this tenant*."""
    hash_list = session.scalar(select(HashList).where(HashList.name == name))
    if hash_list is not None and hash_list.owner_tenant == tenant:
        return hash_list, True
    if hash_list is not None:
        shared = session.scalar(
            select(ListShare.list_name)
            .join(Tenant, Tenant.id == ListShare.tenant_id)
            .where(ListShare.list_name == name, Tenant.name == tenant)
        )
        if shared is not None:
            return hash_list, False
    raise NotFound(f"no list named {name!r}")


def _owned(session: Session, name: str, caller: KeyInfo) -> HashList:
    hash_list, owned = _find(session, name, caller.tenant)
    if not owned:
        raise Forbidden(f"list {name!r} is shared to your tenant; only its owner can change it")
    return hash_list


def _out(session: Session, hash_list: HashList, owned: bool, rid: str) -> ListOut:
    return ListOut(
        name=hash_list.name,
        description=hash_list.description,
        source=hash_list.source,
        supplier=hash_list.supplier,
        terms=hash_list.terms,
        enabled=hash_list.enabled,
        owned=owned,
        shared_with=shared_with(session, hash_list.name) if owned else None,
        created_at=hash_list.created_at,
        request_id=rid,
    )


def _after_change(state: ServiceState) -> None:
    """Visibility follows at once; this process's index within moments (others within ~1 s)."""
    state.reload_visibility()
    state.wake_refresh()


@router.get(
    "",
    response_model=ListsOut,
    summary="The lists this tenant owns or that are shared to it.",
    responses=_ERRORS,
)
def get_lists(request: Request, caller: KeyInfo = Depends(require("read_lists"))) -> ListsOut:
    state = service(request)
    rid = request_id(request)
    with state.factory() as session:
        owned = session.scalars(select(HashList).where(HashList.owner_tenant == caller.tenant)).all()
        shared = session.scalars(
            select(HashList)
            .join(ListShare, ListShare.list_name == HashList.name)
            .join(Tenant, Tenant.id == ListShare.tenant_id)
            .where(Tenant.name == caller.tenant, HashList.owner_tenant.is_distinct_from(caller.tenant))
        ).all()
        lists = [_out(session, h, True, rid) for h in owned] + [_out(session, h, False, rid) for h in shared]
    return ListsOut(lists=sorted(lists, key=lambda x: x.name), request_id=rid)


@router.post(
    "",
    response_model=ListOut,
    status_code=201,
    summary="Create a list owned by this tenant.",
    responses=_ERRORS,
)
def create(body: ListIn, request: Request, caller: KeyInfo = Depends(require("curate"))) -> ListOut:
    from opspoor.lists.service import create_list

    state = service(request)
    with transaction(state.factory) as session:
        hash_list = create_list(
            session,
            body.name,
            source=body.source,
            supplier=body.supplier,
            terms=body.terms,
            description=body.description,
            owner_tenant=caller.tenant,
            actor=caller.actor,
        )
        audit.log(
            session,
            caller.actor,
            "list.create",
            body.name,
            {"request_id": request_id(request), **body.model_dump(exclude_none=True)},
        )
        out = _out(session, hash_list, True, request_id(request))
    _after_change(state)
    return out


@router.get("/{name}", response_model=ListOut, summary="One list's metadata.", responses=_ERRORS)
def get_one(name: str, request: Request, caller: KeyInfo = Depends(require("read_lists"))) -> ListOut:
    with service(request).factory() as session:
        hash_list, owned = _find(session, name, caller.tenant)
        return _out(session, hash_list, owned, request_id(request))


@router.post(
    "/{name}/entries",
    response_model=AddedOut,
    summary="Add hashes to a list this tenant owns.",
    responses=_ERRORS,
)
def add(
    name: str, body: EntriesIn, request: Request, caller: KeyInfo = Depends(require("curate"))
) -> AddedOut:
    from opspoor.lists.service import add_entries

    state = service(request)
    rows = [
        {
            "signal_type": e.signal,
            "value": e.value,
            "classification": e.classification,
            "source_ref": e.source_ref,
            "item_key": e.item_key,
            "quality": e.quality,
        }
        for e in body.entries
    ]
    with transaction(state.factory) as session:
        _owned(session, name, caller)
        result = add_entries(session, name, rows, actor=caller.actor, reason=body.reason)
        counts = {"added": result.added, "existing": result.existing, "duplicates": result.duplicates}
        audit.log(
            session,
            caller.actor,
            "list.add",
            name,
            {"request_id": request_id(request), "reason": body.reason, **counts},
        )
    _after_change(state)
    return AddedOut(**counts, request_id=request_id(request))


@router.post(
    "/{name}/import",
    response_model=ImportOut,
    summary="Import a list file (all or nothing) into a list this tenant owns.",
    responses={**_ERRORS, 413: {"model": ErrorBody}},
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/plain": {"schema": {"type": "string"}}}}
    },
)
async def import_file(
    name: str,
    request: Request,
    format: str = Query("csv", description=f"One of: {', '.join(_FORMATS)}."),  # noqa: A002
    signal: str | None = Query(None, max_length=32, description="Signal type for formats without one."),
    classification: str | None = Query(None, max_length=64, description="For rows that carry none."),
    caller: KeyInfo = Depends(require("curate")),
) -> ImportOut:
    from opspoor.lists.importing import import_stream

    if format not in _FORMATS:
        raise Unprocessable(f"unknown format {format!r}; known: {', '.join(_FORMATS)}")
    state = service(request)
    raw = await read_body(request, state.settings.max_import_bytes)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unprocessable(f"the file is not UTF-8 text (byte {exc.start})") from None
    rid = request_id(request)

    def run() -> ImportOut:
        with transaction(state.factory) as session:
            _owned(session, name, caller)
            report = import_stream(
                session,
                name,
                io.StringIO(text),
                format,
                signal=signal,
                classification=classification,
                actor=caller.actor,
                source=f"api:{rid}",
            )
            detail = report.as_detail()
            audit.log(session, caller.actor, "list.import", name, {"request_id": rid, **detail})
        _after_change(state)
        r = report.result
        return ImportOut(
            rows=report.rows,
            added=r.added,
            existing=r.existing,
            duplicates=r.duplicates,
            skipped=dict(report.skipped),
            request_id=rid,
        )

    return await asyncio.to_thread(run)


@router.post(
    "/{name}/disable",
    response_model=EntryStateOut,
    summary="Take a hash out of matching, with a reason (history is kept).",
    responses=_ERRORS,
)
def disable(
    name: str, body: DisableIn, request: Request, caller: KeyInfo = Depends(require("curate"))
) -> EntryStateOut:
    from opspoor.lists.service import disable_entry

    state = service(request)
    with transaction(state.factory) as session:
        _owned(session, name, caller)
        entry = disable_entry(
            session, name, body.value, body.reason, actor=caller.actor, signal_type=body.signal
        )
        audit.log(
            session,
            caller.actor,
            "entry.disable",
            name,
            {
                "request_id": request_id(request),
                "signal": entry.signal_type,
                "value": entry.value,
                "reason": body.reason,
            },
        )
        out = EntryStateOut(
            list=name,
            signal=entry.signal_type,
            value=entry.value,
            state=entry.state,
            reason=entry.reason,
            request_id=request_id(request),
        )
    _after_change(state)
    return out


@router.get(
    "/{name}/export",
    summary="The list's entries as a list file.",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export(
    name: str,
    request: Request,
    format: str = Query("csv", description=f"One of: {', '.join(_FORMATS)}."),  # noqa: A002
    include_all: bool = Query(False, description="Also disabled and disputed entries, with their state."),
    caller: KeyInfo = Depends(require("export")),
) -> Response:
    from opspoor.lists.importing import export_stream

    if format not in _FORMATS:
        raise Unprocessable(f"unknown format {format!r}; known: {', '.join(_FORMATS)}")
    out = io.StringIO()
    with transaction(service(request).factory) as session:
        _find(session, name, caller.tenant)
        count = export_stream(session, name, out, format, include_all=include_all)
        audit.log(
            session,
            caller.actor,
            "list.export",
            name,
            {"request_id": request_id(request), "format": format, "entries": count},
        )
    return Response(out.getvalue(), media_type=_MEDIA.get(format, "text/plain"))


def _shares(request: Request, name: str, caller: KeyInfo, tenant: str | None, add: bool | None) -> SharesOut:
    state = service(request)
    with transaction(state.factory) as session:
        _owned(session, name, caller)
        if tenant is not None and add:
            share_list(session, name, tenant)
        elif tenant is not None and not unshare_list(session, name, tenant):
            raise NotFound(f"list {name!r} is not shared to {tenant!r}")
        if tenant is not None:
            audit.log(
                session,
                caller.actor,
                "list.share" if add else "list.unshare",
                name,
                {"request_id": request_id(request), "tenant": tenant},
            )
        out = SharesOut(list=name, shared_with=shared_with(session, name), request_id=request_id(request))
    if tenant is not None:
        _after_change(state)
    return out


@router.get(
    "/{name}/shares", response_model=SharesOut, summary="Tenants a list is shared to.", responses=_ERRORS
)
def get_shares(name: str, request: Request, caller: KeyInfo = Depends(require("curate"))) -> SharesOut:
    return _shares(request, name, caller, None, None)


@router.post(
    "/{name}/shares", response_model=SharesOut, summary="Share a list to another tenant.", responses=_ERRORS
)
def add_share(
    name: str, body: ShareIn, request: Request, caller: KeyInfo = Depends(require("curate"))
) -> SharesOut:
    return _shares(request, name, caller, body.tenant, True)


@router.delete(
    "/{name}/shares/{tenant}",
    response_model=SharesOut,
    summary="Stop sharing a list to a tenant.",
    responses=_ERRORS,
)
def remove_share(
    name: str, tenant: str, request: Request, caller: KeyInfo = Depends(require("curate"))
) -> SharesOut:
    return _shares(request, name, caller, tenant, False)
