"""Reports over the JSON API: platforms and partner systems send media URLs with an API key.

Kept out of the OpenAPI document for now (docs/openapi.json is generated from the service's own
routes); described in docs/hotline.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from opspoor.api.auth import require
from opspoor.api.errors import Unprocessable
from opspoor.api.keys import KeyInfo
from opspoor.hotline.errors import InvalidInput
from opspoor.web.context import hotline

router = APIRouter(prefix="/v1/hotline", include_in_schema=False)


class ReportIn(BaseModel):
    urls: list[str] = Field(min_length=1, max_length=100, description="Media URLs (http/https).")
    comment: str | None = Field(None, max_length=4000)


class ReportOut(BaseModel):
    report_id: int
    item_ids: list[int]


@router.post("/reports", status_code=202, response_model=ReportOut)
def post_report(request: Request, body: ReportIn, caller: KeyInfo = Depends(require("check"))) -> ReportOut:
    try:
        sub = hotline(request).submit(
            body.urls, source="api", reporter=f"key:{caller.key_id}", comment=body.comment
        )
    except InvalidInput as exc:
        raise Unprocessable(str(exc)) from None
    return ReportOut(report_id=sub.report_id, item_ids=sub.item_ids)
