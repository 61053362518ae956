"""The review queue, the item view with safe viewing, classifying, and the media endpoint.

Media is shown blurred and in greyscale until the analyst clicks it (strength per user), video muted;
the media response forbids caching (`no-store`) and every fetch of it is written to the audit log
with who saw which item.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from opspoor import audit
from opspoor.hotline import review, scheduler
from opspoor.hotline.errors import HotlineError, MediaGone
from opspoor.hotline.notices import label, notices_for
from opspoor.store.db import transaction
from opspoor.store.hotline import Item, Recheck, Report
from opspoor.web.context import check_csrf, hotline, page, reviewer, secure_headers

router = APIRouter(include_in_schema=False)
SHOWABLE = ("image/", "video/")


@router.get("/queue")
def queue_page(request: Request) -> Response:
    user, csrf = reviewer(request)
    hl = hotline(request)
    with hl.factory() as session:
        items = review.queue(session, user)
        mine = {
            a.item_id
            for item in items
            for a in review.assessments(session, item.id)
            if a.analyst == user.username
        }
    return page(request, "queue.html", {"items": items, "mine": mine, "now": hl.now()}, user=user, csrf=csrf)


@router.get("/items/{item_id}")
def item_page(request: Request, item_id: int, error: str | None = None) -> Response:
    user, csrf = reviewer(request)
    hl = hotline(request)
    with hl.factory() as session:
        item = session.get(Item, item_id)
        if item is None:
            raise HTTPException(404, f"no item {item_id}")
        report = session.get(Report, item.report_id)
        context = {
            "item": item,
            "report": report,
            "label": label,
            "assessments": review.assessments(session, item_id),
            "notices": notices_for(session, item_id),
            "rechecks": list(
                session.scalars(select(Recheck).where(Recheck.item_id == item_id).order_by(Recheck.id))
            ),
            "jobs": scheduler.jobs_for(session, item_id),
            "has_media": hl.vault.has_media(session, item_id),
            "choices": [(c, label(c)) for c in review.CHOICES],
            "can_assess": item.state == "review" or (item.state == "escalated" and user.is_senior),
            "error": error,
        }
    return page(request, "item.html", context, user=user, csrf=csrf)


@router.post("/items/{item_id}/classify")
async def classify(request: Request, item_id: int) -> Response:
    user, csrf = reviewer(request)
    form = await request.form()
    check_csrf(csrf, form)
    hl = hotline(request)
    try:
        review.assess(
            hl, item_id, user, str(form.get("classification", "")), str(form.get("note", "")) or None
        )
    except HotlineError as exc:
        return item_page(request, item_id, error=str(exc))
    return secure_headers(RedirectResponse("/queue", status_code=303))


@router.get("/media/{item_id}")
def media(request: Request, item_id: int) -> Response:
    user, _ = reviewer(request)
    hl = hotline(request)
    with transaction(hl.factory) as session:
        try:
            data, content_type = hl.vault.get(session, item_id)
        except MediaGone as exc:
            raise HTTPException(404, str(exc)) from None
        audit.log(session, user.username, "hotline.media.view", f"item:{item_id}", {"bytes": len(data)})
    if not content_type or not content_type.startswith(SHOWABLE):
        content_type = "application/octet-stream"
    headers = {
        "Cache-Control": "no-store, private",
        "Pragma": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "inline",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return Response(data, media_type=content_type.split(";")[0], headers=headers)
