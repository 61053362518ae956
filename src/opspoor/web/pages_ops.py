"""Dashboards, notices, lists, the audit log and per-user viewing settings."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from opspoor.audit.chain import entries, head
from opspoor.hotline.contacts import list_contacts, list_partners
from opspoor.hotline.notices import notices_for
from opspoor.hotline.stats import compute
from opspoor.hotline.users import set_blur
from opspoor.store.db import transaction
from opspoor.store.lists import Entry, HashList
from opspoor.web.charts import bars, columns
from opspoor.web.context import BLUR_STEPS, check_csrf, hotline, login_required, page, secure_headers, senior

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard(request: Request) -> Response:
    user, csrf = login_required(request)
    hl = hotline(request)
    with hl.factory() as session:
        stats = compute(session, hl.now())
    charts = [
        columns("Reports per day (14 days)", [(d, float(n)) for d, n in stats.reports_per_day]),
        bars(
            "Items by state", sorted(((k, float(v)) for k, v in stats.by_state.items()), key=lambda x: -x[1])
        ),
        bars(
            "Median hours to removal, by host",
            [(r.key, r.median_hours) for r in stats.removal_by_host[:10]],
            " h",
        ),
        bars(
            "Median hours to removal, by country",
            [(r.key, r.median_hours) for r in stats.removal_by_country[:10]],
            " h",
        ),
        bars(
            "Median hours to removal, by category",
            [(r.key, r.median_hours) for r in stats.removal_by_category[:10]],
            " h",
        ),
    ]
    return page(request, "dashboard.html", {"stats": stats, "charts": charts}, user=user, csrf=csrf)


@router.get("/notices")
def notices_page(request: Request) -> Response:
    user, csrf = login_required(request)
    hl = hotline(request)
    with hl.factory() as session:
        rows = notices_for(session, limit=300)
        partners, contacts = list_partners(session), list_contacts(session)
    context = {"notices": rows, "partners": partners, "contacts": contacts}
    return page(request, "notices.html", context, user=user, csrf=csrf)


@router.get("/lists")
def lists_page(request: Request) -> Response:
    user, csrf = login_required(request)
    hl = hotline(request)
    with hl.factory() as session:
        counts = dict(
            session.execute(
                select(Entry.list_id, func.count()).where(Entry.state == "active").group_by(Entry.list_id)
            ).all()
        )
        lists = [
            (hl_, counts.get(hl_.id, 0)) for hl_ in session.scalars(select(HashList).order_by(HashList.name))
        ]
    return page(request, "lists.html", {"lists": lists}, user=user, csrf=csrf)


@router.get("/audit")
def audit_page(request: Request, before: int | None = None) -> Response:
    user, csrf = senior(request)
    hl = hotline(request)
    with hl.factory() as session:
        top, _ = head(session)
        end = min(before or top + 1, top + 1)
        rows = list(reversed(entries(session, after=max(0, end - 101), limit=100)))
        rows = [r for r in rows if r.seq < end]
    older = rows[-1].seq if rows and rows[-1].seq > 1 else None
    return page(request, "audit.html", {"rows": rows, "older": older}, user=user, csrf=csrf)


@router.get("/settings")
def settings_page(request: Request) -> Response:
    user, csrf = login_required(request)
    return page(request, "settings.html", {"steps": BLUR_STEPS}, user=user, csrf=csrf)


@router.post("/settings")
async def save_settings(request: Request) -> Response:
    user, csrf = login_required(request)
    form = await request.form()
    check_csrf(csrf, form)
    try:
        blur = int(str(form.get("blur", "")))
    except ValueError:
        raise HTTPException(422, "blur is a number of pixels") from None
    hl = hotline(request)
    with transaction(hl.factory) as session:
        set_blur(session, user.id, blur)
    return secure_headers(RedirectResponse("/settings", status_code=303))
