"""What every page handler needs: the hotline, the signed-in user, CSRF checks and page rendering.

Sessions: a random token in an HttpOnly, SameSite=Strict cookie (Secure behind TLS); the store keeps
its hash and a per-session CSRF token that every form posts back. Forms used before signing in
(/login, the public /report) use a double-submit token: a random cookie repeated in the form.
Every page is sent with `Cache-Control: no-store` and a Content-Security-Policy that allows only
this origin's own scripts, styles and media.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from opspoor.hotline.service import Hotline
from opspoor.hotline.settings import HotlineSettings
from opspoor.hotline.users import User, session_user

SESSION_COOKIE = "opspoor_session"
FORM_COOKIE = "opspoor_form"
BLUR_STEPS = (0, 4, 8, 16, 24, 32, 48)  # CSS classes blur-<n>: the CSP forbids inline styles
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
_lock = threading.Lock()


def hotline(request: Request) -> Hotline:
    return hotline_of(request.app)


def hotline_of(app: Any) -> Hotline:
    """The app's hotline: set by whoever built the app (tests), else made on first use from the
    service's store and OPSPOOR_HOTLINE_* settings."""
    found: Hotline | None = getattr(app.state, "hotline", None)
    if found is not None:
        return found
    with _lock:
        found = getattr(app.state, "hotline", None)
        if found is None:
            found = Hotline(app.state.service.factory, HotlineSettings.from_env())
            app.state.hotline = found
        return found


def current(request: Request) -> tuple[User, str] | None:
    """(user, CSRF token) of the signed-in browser, or None."""
    cached = getattr(request.state, "web_user", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    hl = hotline(request)
    with hl.factory() as session:
        found = session_user(session, token, hl.now())
    request.state.web_user = found
    return found


def login_required(request: Request) -> tuple[User, str]:
    found = current(request)
    if found is None:
        target = quote(request.url.path, safe="/")
        raise HTTPException(303, "sign in first", headers={"Location": f"/login?next={target}"})
    return found


def reviewer(request: Request) -> tuple[User, str]:
    user, csrf = login_required(request)
    if not user.can_review:
        raise HTTPException(403, "this page needs the analyst, senior or admin role")
    return user, csrf


def senior(request: Request) -> tuple[User, str]:
    user, csrf = login_required(request)
    if not user.is_senior:
        raise HTTPException(403, "this page needs the senior or admin role")
    return user, csrf


def check_csrf(expected: str | None, form: Any) -> None:
    sent = form.get("csrf") if form is not None else None
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")


def form_token(request: Request) -> str:
    """The double-submit token for a form shown before sign-in (reuses the browser's cookie)."""
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)


def blur_class(user: User | None) -> str:
    blur = user.blur if user else 24
    step = min(BLUR_STEPS, key=lambda s: abs(s - blur))
    return f"blur-{step}"


def page(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    user: User | None = None,
    csrf: str | None = None,
    status: int = 200,
    set_form_cookie: str | None = None,
) -> HTMLResponse:
    hl = hotline(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            **context,
            "user": user,
            "csrf": csrf,
            "blur_class": blur_class(user),
            "hotline_name": hl.settings.hotline_name,
        },
        status_code=status,
    )
    secure_headers(response)
    if set_form_cookie:
        response.set_cookie(
            FORM_COOKIE,
            set_form_cookie,
            httponly=True,
            samesite="strict",
            secure=hl.settings.secure_cookies,
            path="/",
        )
    return response


def secure_headers(response: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        response.headers[key] = value
    return response
