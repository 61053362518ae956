"""The public report form: anyone may report URLs; nothing is fetched while they wait (triage runs
as a scheduled job), and the answer does not say what was found."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from opspoor.hotline.errors import InvalidInput
from opspoor.web.context import FORM_COOKIE, check_csrf, form_token, hotline, page
from opspoor.web.throttle import Throttle

router = APIRouter(include_in_schema=False)
# Reports per client address and hour: generous for a person, a brake on a script flooding the queue.
REPORTS_PER_HOUR = Throttle(30, 3600.0)


@router.get("/report")
def report_form(request: Request) -> Response:
    token = form_token(request)
    return page(request, "report.html", {"form_csrf": token}, set_form_cookie=token)


@router.post("/report")
async def report(request: Request) -> Response:
    form = await request.form()
    check_csrf(request.cookies.get(FORM_COOKIE), form)
    client = request.client.host if request.client else "-"
    if REPORTS_PER_HOUR.blocked(client):
        context = {
            "form_csrf": form_token(request),
            "error": "Too many reports from your address; try later.",
        }
        return page(request, "report.html", context, status=429)
    REPORTS_PER_HOUR.count(client)
    urls = str(form.get("urls", "")).split()
    token = form_token(request)
    try:
        submitted = hotline(request).submit(
            urls,
            source="web",
            reporter=str(form.get("contact", "")).strip() or None,
            comment=str(form.get("comment", "")).strip() or None,
        )
    except InvalidInput as exc:
        context = {"form_csrf": token, "error": str(exc), "urls": str(form.get("urls", ""))}
        return page(request, "report.html", context, status=422, set_form_cookie=token)
    return page(
        request, "report_done.html", {"report_id": submitted.report_id, "count": len(submitted.item_ids)}
    )
