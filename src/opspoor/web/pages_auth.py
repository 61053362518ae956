"""Signing in and out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from opspoor import audit
from opspoor.hotline.users import authenticate, close_session, open_session
from opspoor.store.db import transaction
from opspoor.web.context import (
    FORM_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    current,
    form_token,
    hotline,
    login_required,
    page,
    secure_headers,
)
from opspoor.web.throttle import Throttle

router = APIRouter(include_in_schema=False)

# Failed sign-ins per user name: after 5 within 15 minutes the name is refused for the rest of the
# window (OWASP Authentication Cheat Sheet: throttle, rather than lock accounts permanently).
FAILED_LOGINS = Throttle(5, 15 * 60.0)


def _safe_next(target: str | None) -> str:
    # Only paths of this site: "//evil.example" or "https://..." would make the login an open redirect.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/queue" if current(request) else "/login", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the query name
    token = form_token(request)
    return page(request, "login.html", {"next": _safe_next(next), "form_csrf": token}, set_form_cookie=token)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    check_csrf(request.cookies.get(FORM_COOKIE), form)
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    hl = hotline(request)
    if FAILED_LOGINS.blocked(username.strip().lower()):
        again = form_token(request)
        context = {
            "next": "/queue",
            "form_csrf": again,
            "error": "Too many failed attempts; try again later.",
        }
        return page(request, "login.html", context, status=429, set_form_cookie=again)
    with transaction(hl.factory) as session:
        user = authenticate(session, username, password) if username and password else None
        audit.log(session, username[:64] or "-", "hotline.login", "web", {"ok": user is not None})
        if user is not None:
            token, _ = open_session(session, user, hl.now(), hl.settings.session_hours)
    if user is None:
        FAILED_LOGINS.count(username.strip().lower())
        again = form_token(request)
        return page(
            request,
            "login.html",
            {
                "next": _safe_next(str(form.get("next", ""))),
                "form_csrf": again,
                "error": "Wrong name or password.",
            },
            status=401,
            set_form_cookie=again,
        )
    response = RedirectResponse(_safe_next(str(form.get("next", ""))), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=hl.settings.secure_cookies,
        path="/",
        max_age=int(hl.settings.session_hours * 3600),
    )
    return secure_headers(response)


@router.post("/logout")
async def logout(request: Request) -> Response:
    _, csrf = login_required(request)
    check_csrf(csrf, await request.form())
    hl = hotline(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    with transaction(hl.factory) as session:
        close_session(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return secure_headers(response)
