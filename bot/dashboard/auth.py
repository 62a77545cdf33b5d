"""Sign-in by one-time link, the session cookie, CSRF checks and roles.

The link's GET only shows a "Sign in" button; the POST redeems the token. Chat apps fetch links to build
previews, and a GET that redeemed would burn the one-time link before the person ever clicked it.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.dashboard import words
from bot.dashboard.html import esc, page, security_headers
from routing.model import Role
from routing.store.dashboard_access import SESSION_TTL, DashboardSession, DashboardSessions, SignInLinks

COOKIE = "pb_dashboard"
SESSION_KEY = web.RequestKey("dashboard_session", DashboardSession)
PUBLIC_PREFIXES = ("/dashboard/signin", "/dashboard/static/")
EDITORS = frozenset({Role.COORDINATOR})
ACKNOWLEDGERS = frozenset({Role.COORDINATOR, Role.SUPERVISOR, Role.PROFESSIONAL})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def not_signed_in() -> str:
    return f"<p>{words.markup(words.NOT_SIGNED_IN, command='<code>/dashboard</code>')}</p>"


def session_of(request: web.Request) -> DashboardSession:
    return request[SESSION_KEY]


def may(session: DashboardSession, roles: frozenset[Role]) -> bool:
    return bool(session.identity.roles & roles)


def check_csrf(request: web.Request, form: dict[str, str]) -> None:
    """Raise 403 unless the form carries this session's CSRF token."""
    given = form.get("csrf", "") or request.headers.get("X-CSRF-Token", "")
    if not hmac.compare_digest(given.encode(), session_of(request).csrf.encode()):
        raise web.HTTPForbidden(text=words.t(words.FORM_EXPIRED))


async def permitted_form(request: web.Request, roles: frozenset[Role], refusal: str) -> dict[str, str]:
    """A posted form, after its CSRF check, from someone with one of `roles` (else 403 saying `refusal`)."""
    form = {k: str(v) for k, v in (await request.post()).items()}
    check_csrf(request, form)
    if not may(session_of(request), roles):
        raise web.HTTPForbidden(text=refusal)
    return form


def session_middleware(sessions: DashboardSessions) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not path.startswith("/dashboard") or path.startswith(PUBLIC_PREFIXES):
            return await handler(request)
        session = await sessions.get(request.cookies.get(COOKIE, ""))
        if session is None:
            if path.startswith("/dashboard/api/"):
                return web.json_response({"error": "not signed in"}, status=401, headers=security_headers())
            response = page(words.t(words.SIGN_IN), not_signed_in(), signed_in=False)
            response.set_status(401)
            return response
        request[SESSION_KEY] = session
        return await handler(request)

    return middleware


def _secure(request: web.Request) -> bool:
    """Behind TLS (directly or at a proxy that says so), the cookie is marked Secure."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def signin_routes(links: SignInLinks, sessions: DashboardSessions) -> list[web.RouteDef]:
    async def show(request: web.Request) -> web.Response:
        token = request.query.get("token", "")
        sign_in = esc(words.t(words.SIGN_IN))
        body = (
            f'<p>{esc(words.t(words.SIGN_IN_HERE))}</p><form method="post" action="/dashboard/signin">'
            f'<input type="hidden" name="token" value="{esc(token)}">'
            f'<button type="submit" id="signin">{sign_in}</button></form>'
        )
        return page(words.t(words.SIGN_IN), body, signed_in=False)

    async def redeem(request: web.Request) -> web.Response:
        form = await request.post()
        identity = await links.redeem(str(form.get("token", "")))
        if identity is None:
            body = f"<p>{esc(words.t(words.LINK_USED))}</p>{not_signed_in()}"
            response = page(words.t(words.LINK_EXPIRED), body, signed_in=False)
            response.set_status(403)
            return response
        session = await sessions.create(identity)
        response = web.HTTPSeeOther("/dashboard/", headers=security_headers())
        response.set_cookie(
            COOKIE, session.token, max_age=SESSION_TTL, path="/dashboard", httponly=True, samesite="Strict",
            secure=_secure(request),
        )  # fmt: skip
        raise response

    async def signout(request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        check_csrf(request, form)
        await sessions.end(session_of(request).token)
        response = page(words.t(words.SIGNED_OUT), f"<p>{esc(words.t(words.YOU_ARE_SIGNED_OUT))}</p>", signed_in=False)
        response.del_cookie(COOKIE, path="/dashboard")
        return response

    return [
        web.get("/dashboard/signin", show),
        web.post("/dashboard/signin", redeem),
        web.post("/dashboard/signout", signout),
    ]
