"""Errors as clear HTTP answers: every error body is `ErrorBody`, and no client ever sees a traceback.

Typed errors from the rest of opspoor map to status codes here, in one table, so routes just raise.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from opspoor.api.models import ErrorBody, ErrorDetail
from opspoor.errors import OpspoorError

log = logging.getLogger("opspoor.api")


class ApiError(OpspoorError):
    """An error with its HTTP status and a short machine-readable code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class BodyTooLarge(ApiError):
    status, code = 413, "body_too_large"


class Unprocessable(ApiError):
    status, code = 422, "invalid_input"


class UnsupportedType(ApiError):
    status, code = 415, "unsupported_media_type"


class RateLimited(ApiError):
    status, code = 429, "rate_limited"


class NotReady(ApiError):
    status, code = 503, "not_ready"


def request_id(request: Request) -> str:
    return getattr(request.state, "request_id", "") or request.scope.get("opspoor.request_id", "")


def _body(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    rid = request_id(request)
    body = ErrorBody(error=code, message=message, details=details or [], request_id=rid)
    return JSONResponse(
        body.model_dump(), status_code=status, headers={**(headers or {}), "X-Request-ID": rid}
    )


def _typed_status(exc: OpspoorError) -> tuple[int, str]:
    """Status and code for the typed errors of the other parts of opspoor."""
    from opspoor.lists.errors import (
        AmbiguousValue,
        ConcurrentChange,
        EntryNotFound,
        ImportRejected,
        InvalidEntry,
        ListError,
        ListExists,
        ListNotFound,
    )
    from opspoor.net.fetch import (
        BadContentType,
        BadURL,
        BlockedAddress,
        FetchFailed,
        FetchTimeout,
        ResponseTooLarge,
    )
    from opspoor.signals.base import InvalidSignalValue

    table: list[tuple[type[OpspoorError], int, str]] = [
        (ListNotFound, 404, "not_found"),
        (EntryNotFound, 404, "not_found"),
        (ListExists, 409, "conflict"),
        (ConcurrentChange, 409, "conflict"),
        (AmbiguousValue, 422, "invalid_input"),
        (InvalidEntry, 422, "invalid_input"),
        (ImportRejected, 422, "invalid_input"),
        (InvalidSignalValue, 422, "invalid_input"),
        (BadURL, 422, "bad_url"),
        (BlockedAddress, 422, "blocked_address"),
        (ResponseTooLarge, 413, "body_too_large"),
        (BadContentType, 415, "unsupported_media_type"),
        (FetchTimeout, 504, "upstream_timeout"),
        (FetchFailed, 502, "upstream_failed"),
        (ListError, 422, "invalid_input"),
    ]
    for kind, status, code in table:
        if isinstance(exc, kind):
            return status, code
    return 400, "bad_request"


def _validation_errors(errors: Sequence[Any]) -> list[ErrorDetail]:
    return [
        ErrorDetail(
            location=".".join(str(p) for p in err.get("loc", ())) or "body",
            message=str(err.get("msg", "invalid")),
        )
        for err in errors
    ]


def error_response(request: Request, exc: Exception) -> JSONResponse:
    """The answer to any exception: a typed error's status and message, else a bare 500."""
    from opspoor.lists.errors import ImportRejected, ListNotFound

    if isinstance(exc, ApiError):
        return _body(request, exc.status, exc.code, str(exc), headers=exc.headers)
    if isinstance(exc, RequestValidationError):
        details = _validation_errors(exc.errors())
        summary = "; ".join(f"{d.location}: {d.message}" for d in details[:5]) or "invalid request"
        return _body(request, 422, "invalid_input", f"invalid request: {summary}", details)
    if isinstance(exc, StarletteHTTPException):
        return _body(
            request,
            exc.status_code,
            _HTTP_CODES.get(exc.status_code, "http_error"),
            str(exc.detail),
            headers=getattr(exc, "headers", None),
        )
    if isinstance(exc, OpspoorError):
        status, code = _typed_status(exc)
        if isinstance(exc, ListNotFound):  # its message names every list: other tenants' too
            return _body(request, status, code, "no such list")
        details = None
        if isinstance(exc, ImportRejected):
            details = [ErrorDetail(location=f"line {p.line}", message=p.message) for p in exc.problems]
        return _body(request, status, code, str(exc), details)
    # The trace goes to the server log only; the client gets the request id to quote.
    log.error("unhandled error in request %s", request_id(request), exc_info=exc)
    return _body(request, 500, "internal", "internal error; quote the request id when reporting it")


_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}


def install(app: FastAPI) -> None:
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        return error_response(request, exc)

    for kind in (ApiError, OpspoorError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, handler)
