"""What every console page shares: the signed-in visitor, rendering a template in their language,
CSRF checks on every POST, form bodies read within a limit, and service refusals as pages.

A page handler takes a ``Visit`` (``visit = Depends(console.visit)``), calls one service as
``visit.caller`` and returns ``console.page(visit, "name.html", ...)``. A service's ``Forbidden``
is a 403 page, ``NotFound`` a 404 page, another ``CdpError`` its message (it names the field).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import orjson
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cdp.console.i18n import LANG_COOKIE, Translator, chosen_language
from cdp.console.session import SESSION_COOKIE, Sealer, Session
from cdp.errors import CdpError
from cdp.keys import KeyRefused, ReadKey
from cdp.platform import Platform
from cdp.refusal_records import RefusalRecords
from cdp.refusals import english
from cdp.services import Caller

TEMPLATES = Path(__file__).parent / "templates"
MAX_FORM_BYTES = 64 * 1024
CSRF_FIELD, CSRF_HEADER = "csrf", "x-csrf-token"


class SignInNeeded(Exception):
    """No valid session: the visitor is sent to the sign-in page (an htmx request by ``HX-Redirect``)."""


class BadForm(CdpError):
    """A POST without its CSRF token, or a body past the limit: refused before anything is done (a
    refusal by code, cdp/refusals.py)."""

    def __init__(self, status: int, code: str, **params: Any):
        super().__init__(english(code, params))
        self.status, self.code, self.params = status, code, params


@dataclass(frozen=True)
class Visit:
    request: Request
    platform: Platform
    key: ReadKey
    session: Session
    t: Translator
    csrf: str

    @property
    def caller(self) -> Caller:
        return Caller(self.key.actor, frozenset(self.key.scopes))


class Console:
    """The console's shared machinery for one platform; its page routers take it."""

    def __init__(self, platform: Callable[[], Platform], sealer: Callable[[], Sealer], refusals: Callable[[], RefusalRecords]):
        self.platform = platform
        self._sealer = sealer
        self._refusals = refusals
        self.templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
        self.templates.filters["json_object"] = json_object
        self.templates.filters["pretty_json"] = pretty_json

    @property
    def sealer(self) -> Sealer:
        return self._sealer()

    @property
    def refusals(self) -> RefusalRecords:
        """The audit records of refused sign-ins, bounded per client address."""
        return self._refusals()

    def translator(self, request: Request) -> Translator:
        return Translator(chosen_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")))

    async def visit(self, request: Request) -> Visit:
        """The signed-in visitor (a route dependency); a POST must carry the session's CSRF token."""
        visit = self.visitor(request)
        if visit is None:
            raise SignInNeeded()
        if request.method == "POST":
            await self.check_csrf(request, visit.session.nonce)
        return visit

    def visitor(self, request: Request) -> Visit | None:
        """Who the session cookie names, if it is whole, not expired and its key still valid."""
        session = self.sealer.open(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None
        platform = self.platform()
        if platform.read_keys.session_ended(session.nonce):  # signed out
            return None
        try:
            key = platform.read_keys.authenticate(session.token)
        except KeyRefused:
            return None
        return Visit(request, platform, key, session, self.translator(request), self.sealer.csrf(session.nonce))

    async def check_csrf(self, request: Request, nonce: str | None) -> None:
        sent = request.headers.get(CSRF_HEADER) or (await form(request)).get(CSRF_FIELD)
        if not self.sealer.csrf_matches(nonce, sent):
            raise BadForm(403, "csrf_stale")

    def render(self, t: Translator, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.templates.get_template(template).render(t=t, **context)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def page(self, visit: Visit, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """A page for the signed-in visitor (the navigation shows what their key's scopes reach)."""
        url = visit.request.url
        here = url.path + (f"?{url.query}" if url.query else "")  # where the language switch comes back to
        return self.render(visit.t, template, status, visit=visit, key=visit.key, caller=visit.caller, csrf=visit.csrf, path=url.path, here=here, **context)


async def form(request: Request) -> dict[str, str]:
    """The urlencoded form of a POST (read once, kept on the request), within ``MAX_FORM_BYTES``;
    a repeated field keeps its last value (``form_lists`` has them all)."""
    return dict(await form_pairs(request))


async def form_lists(request: Request) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in await form_pairs(request):
        found.setdefault(name, []).append(value)
    return found


async def form_pairs(request: Request) -> list[tuple[str, str]]:
    if not hasattr(request.state, "form_pairs"):
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise BadForm(413, "form_too_large", limit=MAX_FORM_BYTES)
        request.state.form_pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=2000)
    return request.state.form_pairs


def json_object(text: Any) -> dict[str, Any]:
    """A JSON object column (a profile's traits) as a mapping; anything else as an empty one."""
    try:
        found = orjson.loads(text) if isinstance(text, str | bytes) else text
    except orjson.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def pretty_json(value: Any, indent: int | None = 2) -> str:
    """A value as JSON to read (escaped by the template like any text, never marked safe)."""
    return json.dumps(value, ensure_ascii=False, indent=indent)


def to_signin(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = "/signin" + ("" if target == "/" else f"?next={quote(target, safe='')}")
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never ``//elsewhere`` or a full URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def set_cookie(response: Response, name: str, value: str, secure: bool, max_age: int | None = None, http_only: bool = True) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=http_only, samesite="strict", secure=secure)


