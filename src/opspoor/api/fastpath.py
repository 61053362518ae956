"""POST /v1/check/hashes without FastAPI's per-request machinery.

The hash lookup is the service's hot path (hosting providers call it for every upload). FastAPI's
dependency solving and body handling cost several times more than the lookup itself, so the
middleware hands this one route to `check_hashes` below, which does the same steps with the same
functions: authorize (auth.authorize), read the body under the size cap, validate it with the same
pydantic model, answer with routes.check.answer_hashes, and map errors with errors.error_response.
The FastAPI route stays the documented (OpenAPI) one and answers when the fast path is off.
"""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from opspoor.api.auth import authorize, presented_key, service
from opspoor.api.errors import error_response
from opspoor.api.models import CheckHashesIn
from opspoor.api.routes.check import answer_hashes
from opspoor.api.upload import read_body

PATH = "/v1/check/hashes"


async def check_hashes(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    try:
        caller = authorize(request, presented_key(request), "check")
        raw = await read_body(request, service(request).settings.max_body_bytes)
        try:
            body = CheckHashesIn.model_validate_json(raw)
        except ValidationError as exc:
            errors = [{**err, "loc": ("body", *err.get("loc", ()))} for err in exc.errors()]
            raise RequestValidationError(errors) from None
        response = await answer_hashes(request, body, caller)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a clean error answer
        response = error_response(request, exc)
    await response(scope, receive, send)
