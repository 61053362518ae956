"""Checks: hashes (the privacy-preserving way), a file (hashed in memory, then forgotten), a URL.

A caller's matches are limited to the lists its tenant owns or that are shared to it; lists it may
not see do not exist for it (no match, no hint). Every match is written to the audit log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict

from fastapi import APIRouter, Depends, Query, Request, Response

from opspoor.api.auth import PERMISSIONS, require, service
from opspoor.api.errors import NotReady, Unprocessable, request_id
from opspoor.api.keys import KeyInfo
from opspoor.api.models import (
    CheckFileOut,
    CheckHashesIn,
    CheckHashesOut,
    CheckUrlIn,
    CheckUrlOut,
    ErrorBody,
    FileHashes,
    HashResult,
    MatchOut,
)
from opspoor.api.state import ServiceState
from opspoor.api.upload import read_upload
from opspoor.matching.engine import EXACT_SIGNALS, Matcher, parse_query
from opspoor.matching.engine import Query as MatchQuery
from opspoor.matching.results import Match, Verdict
from opspoor.signals.base import InvalidSignalValue
from opspoor.signals.compute import FileSignals, check_signals
from opspoor.signals.pdq import PDQ_MIN_QUALITY

router = APIRouter(prefix="/v1/check", tags=["check"])

_ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    413: {"model": ErrorBody},
    422: {"model": ErrorBody},
    429: {"model": ErrorBody},
}
# Fetched URLs must be media; the content is sniffed anyway, so generic binary types pass too.
_URL_TYPES = ("image/*", "video/*", "application/octet-stream", "binary/octet-stream")
# Batches larger than this are matched off the event loop, so one big call cannot stall the others.
_INLINE_QUERIES = 16


def _matcher(state: ServiceState) -> Matcher:
    if state.matcher is None:
        raise NotReady("the index is still loading")
    return state.matcher


def _reveals_values(caller: KeyInfo) -> bool:
    """Whether the caller may see the hashes in the lists (those who may export them). A checker
    gets verdicts and evidence but not the list's value: otherwise near-match probing with a wide
    threshold would read confidential list hashes out one by one."""
    return bool(caller.roles & PERMISSIONS["export"])


def _match_out(m: Match, reveal: bool) -> MatchOut:
    return MatchOut(
        list=m.list,
        classification=m.classification,
        signal=m.signal,
        value=m.value if reveal or m.signal in EXACT_SIGNALS else None,
        distance=m.distance,
        quality=m.quality,
        entry_id=m.entry_id,
        source_ref=m.source_ref,
        variant=m.variant,
    )


def _verdict(matches: Sequence[Match]) -> str:
    if any(m.signal in EXACT_SIGNALS for m in matches):
        return "known"
    return "near" if matches else "unknown"


def _audit_details(
    request: Request, caller: KeyInfo, kind: str, matches: Sequence[Match]
) -> dict[str, object]:
    return {
        "request_id": request_id(request),
        "tenant": caller.tenant,
        "kind": kind,
        "matches": [
            {"list": m.list, "entry_id": m.entry_id, "signal": m.signal, "distance": m.distance}
            for m in matches
        ],
    }


async def _audit_match(
    state: ServiceState, request: Request, caller: KeyInfo, kind: str, subject: str, matches: Sequence[Match]
) -> None:
    """Every match is in the audit log before its verdict is answered (group commit, audit/writer.py)."""
    if matches:
        await state.audit.log(caller.actor, "match", subject, _audit_details(request, caller, kind, matches))


def _parse(body: CheckHashesIn) -> list[MatchQuery]:
    queries = []
    for i, q in enumerate(body.hashes):
        try:
            parsed = parse_query(q.signal, q.value)
        except InvalidSignalValue as exc:
            raise Unprocessable(f"hashes[{i}]: {exc}") from None
        queries.append(MatchQuery(parsed.signal, parsed.value, q.quality))
    return queries


def _match_hashes(
    matcher: Matcher,
    body: CheckHashesIn,
    queries: list[MatchQuery],
    visible: frozenset[str],
    reveal: bool,
) -> tuple[list[HashResult], list[Match]]:
    """One result per query, and all matches (for the audit log)."""
    found: list[list[Match]] = [[] for _ in queries]
    notes: list[list[str]] = [[] for _ in queries]
    groups: dict[int | None, list[int]] = {}
    for i, (q, asked) in enumerate(zip(queries, body.hashes, strict=True)):
        if q.quality is not None and q.quality < PDQ_MIN_QUALITY and q.signal not in EXACT_SIGNALS:
            notes[i].append(
                f"quality {q.quality} < {PDQ_MIN_QUALITY}: too little detail to match perceptually"
            )
            continue
        groups.setdefault(asked.threshold if asked.threshold is not None else body.threshold, []).append(i)
    if visible:
        for threshold, positions in groups.items():
            results = matcher.match_values([queries[i] for i in positions], threshold, lists=visible)
            for i, matches in zip(positions, results, strict=True):
                found[i] = sorted(matches, key=lambda m: (m.distance, m.list, m.entry_id))
    results = [
        HashResult(
            signal=q.signal,
            value=q.value,
            verdict=_verdict(found[i]),  # type: ignore[arg-type]
            matches=[_match_out(m, reveal) for m in found[i]],
            notes=notes[i],
        )
        for i, q in enumerate(queries)
    ]
    return results, [m for group in found for m in group]


@router.post(
    "/hashes",
    response_model=CheckHashesOut,
    summary="Check hashes (any signal type); nothing but the hashes leaves the caller.",
    responses=_ERRORS,
)
async def check_hashes(
    body: CheckHashesIn, request: Request, caller: KeyInfo = Depends(require("check"))
) -> Response:
    return await answer_hashes(request, body, caller)


async def answer_hashes(request: Request, body: CheckHashesIn, caller: KeyInfo) -> Response:
    """The work of /v1/check/hashes, shared by the route above and the fast path (api/fastpath.py)."""
    state = service(request)
    if len(body.hashes) > state.settings.max_batch:
        raise Unprocessable(f"at most {state.settings.max_batch} hashes per call, got {len(body.hashes)}")
    queries = _parse(body)
    matcher = _matcher(state)
    visible = state.visible_lists(caller.tenant)
    reveal = _reveals_values(caller)
    if len(queries) <= _INLINE_QUERIES:
        results, matched = _match_hashes(matcher, body, queries, visible, reveal)
    else:
        results, matched = await asyncio.to_thread(_match_hashes, matcher, body, queries, visible, reveal)
    metrics = request.app.state.metrics
    for r in results:
        metrics.verdicts.labels("hashes", r.verdict).inc()
    if matched:
        subject = ",".join([f"{r.signal}:{r.value}" for r in results if r.matches][:20])
        await _audit_match(state, request, caller, "hashes", subject, matched)
    out = CheckHashesOut(results=results, request_id=request_id(request))
    # Serialised here in one step (pydantic-core); FastAPI's generic path would validate it again.
    return Response(out.model_dump_json(), media_type="application/json")


def _file_hashes(signals: FileSignals) -> FileHashes:
    fields = asdict(signals)
    return FileHashes(**{k: fields[k] for k in FileHashes.model_fields})


async def _check_bytes(
    state: ServiceState, request: Request, caller: KeyInfo, data: bytes, threshold: int | None, kind: str
) -> tuple[Verdict, FileSignals]:
    matcher = _matcher(state)
    # The signals of every check: dihedral variants, robust form, video segments.
    signals = await asyncio.to_thread(check_signals, data, robust=matcher.has_robust)
    visible = state.visible_lists(caller.tenant)
    if visible:
        verdict = await asyncio.to_thread(matcher.match_file, signals, threshold, visible)
    else:
        verdict = Verdict("unknown", [], [])
    request.app.state.metrics.verdicts.labels(kind, verdict.verdict).inc()
    await _audit_match(state, request, caller, kind, f"sha256:{signals.sha256}", verdict.matches)
    return verdict, signals


_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/file",
    response_model=CheckFileOut,
    summary="Check one file: hashed in memory and discarded, never written to disk.",
    openapi_extra=_FILE_BODY,
    responses=_ERRORS,
)
async def check_file(
    request: Request,
    threshold: int | None = Query(None, ge=0, le=64, description="PDQ match distance (default 31)."),
    caller: KeyInfo = Depends(require("check")),
) -> CheckFileOut:
    state = service(request)
    data = await read_upload(request, state.settings.max_file_bytes)
    verdict, signals = await _check_bytes(state, request, caller, data, threshold, "file")
    del data
    return CheckFileOut(
        verdict=verdict.verdict,  # type: ignore[arg-type]
        matches=[_match_out(m, _reveals_values(caller)) for m in verdict.matches],
        notes=verdict.notes,
        hashes=_file_hashes(signals),
        error=signals.error,
        request_id=request_id(request),
    )


@router.post(
    "/url",
    response_model=CheckUrlOut,
    summary="Fetch a public URL (size and time limits; never private, loopback or link-local) and check it.",
    responses={**_ERRORS, 415: {"model": ErrorBody}, 502: {"model": ErrorBody}, 504: {"model": ErrorBody}},
)
async def check_url(
    body: CheckUrlIn, request: Request, caller: KeyInfo = Depends(require("check"))
) -> CheckUrlOut:
    from opspoor.net.fetch import fetch

    state = service(request)
    settings = state.settings
    got = await fetch(
        body.url,
        max_bytes=settings.fetch_max_bytes,
        timeout=settings.fetch_timeout,
        allowed_content_types=_URL_TYPES,
        allow_private=settings.fetch_allow_private,
    )
    if not 200 <= got.status < 300:
        raise Unprocessable(f"the URL answered HTTP {got.status}, not a file")
    if not got.content:
        raise Unprocessable("the URL answered with an empty body")
    verdict, signals = await _check_bytes(state, request, caller, got.content, body.threshold, "url")
    return CheckUrlOut(
        verdict=verdict.verdict,  # type: ignore[arg-type]
        matches=[_match_out(m, _reveals_values(caller)) for m in verdict.matches],
        notes=verdict.notes,
        hashes=_file_hashes(signals),
        error=signals.error,
        url=body.url,
        final_url=got.final_url,
        status=got.status,
        content_type=got.headers.get("content-type"),
        request_id=request_id(request),
    )
