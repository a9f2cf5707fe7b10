"""Signing in with a read key, signing out, and the language switch.

A sign-in is audited as the API audits a refused key: ``console.signin`` with its outcome and the
key's name (never its secret)."""

import secrets

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from cdp.console.i18n import LANG_COOKIE, LANGUAGES
from cdp.console.session import SESSION_COOKIE, SIGNIN_COOKIE
from cdp.console.web import BadForm, Console, Visit, form, safe_next, set_cookie
from cdp.keys import KeyRefused, key_id_of

SIGNIN_COOKIE_SECONDS = 3600
YEAR = 365 * 24 * 3600


def router(console: Console) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def secure() -> bool:
        return console.platform().settings.console.secure_cookies

    def signin_page(request: Request, status: int = 200, error: str = "") -> Response:
        nonce = request.cookies.get(SIGNIN_COOKIE) or secrets.token_hex(16)
        response = console.render(console.translator(request), "signin.html", status, csrf=console.sealer.csrf(nonce), error=error,
                                  next=safe_next(request.query_params.get("next")), path="/signin", here=request.url.path + (f"?{request.url.query}" if request.url.query else ""), visit=None)
        set_cookie(response, SIGNIN_COOKIE, nonce, secure(), SIGNIN_COOKIE_SECONDS)
        return response

    @routes.get("/signin")
    async def signin_form(request: Request) -> Response:
        return signin_page(request)

    @routes.post("/signin")
    async def signin(request: Request) -> Response:
        await console.check_csrf(request, request.cookies.get(SIGNIN_COOKIE))
        sent = await form(request)
        token = sent.get("key", "").strip()
        platform = console.platform()
        try:
            key = platform.read_keys.authenticate(token)
        except KeyRefused as refusal:
            actor = refusal.key.actor if refusal.key else (f"key-id:{key_id_of(token)}" if key_id_of(token) else "anonymous")
            console.refusals.record(actor, "console.signin", "console", "refused:401", {"reason": str(refusal)[:200], "client": request.client.host if request.client else ""})
            return signin_page(request, 401, console.translator(request)("signin.refused"))
        platform.audit.record(key.actor, "console.signin", "console", "ok", {"client": request.client.host if request.client else ""})
        cookie, _ = console.sealer.seal(token)
        response = RedirectResponse(safe_next(sent.get("next")), status_code=303)
        set_cookie(response, SESSION_COOKIE, cookie, secure(), int(console.sealer.lifetime))
        response.delete_cookie(SIGNIN_COOKIE, path="/")
        return response

    @routes.post("/signout")
    async def signout(visit: Visit = Depends(console.visit)) -> Response:
        visit.platform.audit.record(visit.key.actor, "console.signout", "console", "ok", {})
        visit.platform.read_keys.end_session(visit.session.nonce, visit.session.issued + console.sealer.lifetime)  # a copy of the cookie ends too
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @routes.post("/language")
    async def language(request: Request) -> Response:
        """The switch: a signed-in visitor's session token, or the sign-in form's, guards it."""
        session = console.sealer.open(request.cookies.get(SESSION_COOKIE))
        await console.check_csrf(request, session.nonce if session else request.cookies.get(SIGNIN_COOKIE))
        sent = await form(request)
        chosen = sent.get("language", "")
        if chosen not in LANGUAGES:
            raise BadForm(422, "language_unknown", known=list(LANGUAGES), given=chosen[:20])
        response = RedirectResponse(safe_next(sent.get("next")), status_code=303)
        set_cookie(response, LANG_COOKIE, chosen, secure(), YEAR)
        return response

    return routes
