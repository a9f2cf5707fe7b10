"""The console as an ASGI application, mounted by the server app at ``/`` after the API's routes
(``cdp.api.app``): sign-in and sign-out, the language switch, the pages, the static files.

Every answer carries a strict Content-Security-Policy: scripts and styles only from this origin
(no inline script or style, no ``eval``), nothing from any other host, no framing; the browser
may be offline. Customer data reaches the page escaped (Jinja2 autoescaping) or as JSON in a
``<script type="application/json">`` block that a static script reads.
"""

import logging
import secrets
from collections.abc import Callable
from functools import cache
from pathlib import Path

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cdp.console import audiences, customers, dashboards, deliveries, destinations, operations, segments, shell, tags, triggers
from cdp.console.session import Sealer, data_dir_secret
from cdp.console.web import BadForm, Console, SignInNeeded, to_signin
from cdp.errors import STORE_FAULTS, CdpError
from cdp.refusal_records import RefusalRecords
from cdp.platform import Platform
from cdp.refusals import refusal
from cdp.segments.model import problem_of
from cdp.services import Forbidden, NotFound

log = logging.getLogger("cdp.console")
STATIC = Path(__file__).parent / "static"
API = "/v1/"  # the HTTP API's paths (cdp.api), before the console in the server app
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def console_app(platform: Callable[[], Platform]) -> ASGIApp:
    """E.g. ``app.mount("/", console_app(lambda: platform))``."""

    @cache
    def sealer() -> Sealer:
        settings = platform().settings
        return Sealer(data_dir_secret(settings.data_dir), settings.console.session_hours * 3600)

    @cache
    def refusals() -> RefusalRecords:
        return RefusalRecords(platform().audit, platform().settings.collector.refusal_records_per_minute)

    console = Console(platform, sealer, refusals)
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (shell, customers, segments, tags, dashboards, operations, destinations, audiences, triggers, deliveries):
        app.include_router(module.router(console))

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/customers", status_code=303)

    def refused(request: Request, status: int, error: CdpError | None) -> Response:
        """The refusal as a page in the visitor's language (its title says the status; ``error``, when
        there is more to say, the why); a signed-in visitor keeps the navigation."""
        visit = console.visitor(request)
        t = console.translator(request) if visit is None else visit.t
        message = "" if error is None else t.refusal(error)
        if visit is None:
            return console.render(t, "error.html", status, status_code=status, message=message)
        return console.page(visit, "error.html", status, status_code=status, message=message)

    def invalid(request: Request, error: RequestValidationError) -> Response:
        """Parameters FastAPI refused, each named: ``query.period: takes one of 'day', 'week', 'month'``."""
        return refused(request, 422, ParametersInvalid(error))

    def http_error(request: Request, error: HTTPException) -> Response:
        """Starlette's own (no such page, method not allowed): the page's title says it all."""
        return _api_miss(error) if request.url.path.startswith(API) else refused(request, error.status_code, None)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(SignInNeeded, lambda request, _: to_signin(request))
    app.add_exception_handler(BadForm, lambda request, e: refused(request, e.status, e))
    app.add_exception_handler(Forbidden, lambda request, e: refused(request, 403, e))
    app.add_exception_handler(NotFound, lambda request, e: refused(request, 404, e))
    app.add_exception_handler(HTTPException, http_error)

    def unavailable(request: Request, error: Exception) -> Response:
        """A store failed: the server's fault, its text only in the log (under an error id)."""
        error_id = secrets.token_hex(6)
        log.error("console error %s on %s %s: %s: %s", error_id, request.method, request.url.path, type(error).__name__, error)
        return refused(request, 503, refusal(CdpError, "store_unavailable", error_id=error_id))

    def failed(request: Request, error: Exception) -> Response:
        """Anything else: a page with an error id (the traceback in the log), not a bare "Internal Server Error"."""
        error_id = secrets.token_hex(6)
        log.exception("console error %s on %s %s", error_id, request.method, request.url.path, exc_info=error)
        return refused(request, 500, refusal(CdpError, "internal_error", error_id=error_id))

    app.add_exception_handler(CdpError, lambda request, e: refused(request, 422, e))
    for fault in STORE_FAULTS:
        app.add_exception_handler(fault, unavailable)
    app.add_exception_handler(Exception, failed)
    return _Secured(app)


class ParametersInvalid(CdpError):
    """A page's parameters FastAPI refused, as problems by pydantic's type, so the page words each."""

    def __init__(self, error: RequestValidationError):
        self.problems = tuple(problem_of(e) for e in error.errors())
        super().__init__("; ".join(f"{p.path}: {p.text}" for p in self.problems))


def _api_miss(error: HTTPException) -> Response:
    """A path under /v1/ the API does not have: answered in the API's shape (docs/architecture.md), not as a page."""
    return Response(orjson.dumps({"success": False, "code": "http_error", "message": str(error.detail)}), error.status_code, media_type="application/json")


class _Secured:
    """Adds the security headers to every answer of the console."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, secured)
