"""The ASGI application: Segment's HTTP Tracking API, connector webhooks, the read API, health, OpenAPI.

Every route declares who may call it as ``x-scope`` in OpenAPI: ``write key`` (a source's write
key), ``public``, or the read-key scope the read API checks. Refused credentials (401, 403) are
written to the audit log with the route (its template, so no identifier in the path is logged).

FastAPI (on Starlette) gives the OpenAPI document and interactive docs for free and is widely
kept; handlers take the raw ``Request`` and decode bodies with orjson themselves, because
FastAPI's per-request pydantic body parsing would cost more than our whole validation path.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from cdp.api import docs
from cdp.api.activation import activation_router
from cdp.api.analytics import analytics_router
from cdp.api.auth import ReadAccess
from cdp.api.collector import Collector
from cdp.api.forget import forget_router
from cdp.api.profiles import profiles_router
from cdp.api.reference import HEADERS as REFERENCE_HEADERS
from cdp.api.reference import reference_page
from cdp.api.refusals import Refused, internal_error, invalid_parameters
from cdp.api.segments import segment_router
from cdp.api.triggers import trigger_router
from cdp.api.tags import tags_router
from cdp.console.app import console_app
from cdp.keys import ADMIN
from cdp.platform import Platform
from cdp.refusal_records import RefusalRecords
from ingestion.segment import CALL_TYPES
import orjson

log = logging.getLogger("cdp.serve")
WRITE = "write key"
PUBLIC = "public"


def create_app(collector: Collector, platform: Platform, reads: bool = True, erasure: bool = True) -> FastAPI:
    """The collector's routes; with ``reads`` the read API behind read keys, with ``erasure`` (and ``reads``) the forget route."""
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        collector.writer.start()
        try:
            yield
        finally:
            collector.writer.stop()

    app = FastAPI(title="cdp collector", version="1", description=docs.DESCRIPTION, lifespan=lifespan, docs_url=None, redoc_url=None)
    refusals = RefusalRecords(platform.audit, platform.settings.collector.refusal_records_per_minute)
    app.add_exception_handler(Refused, lambda request, refusal: _refused(request, refusal, refusals))
    app.add_exception_handler(HTTPException, lambda _, e: Refused(e.status_code, "http_error", str(e.detail)).response())
    app.add_exception_handler(RequestValidationError, lambda _, e: invalid_parameters(e.errors()).response())
    app.add_exception_handler(ClientDisconnect, lambda _, e: Refused(400, "client_disconnected", "the request did not arrive whole").response())  # answered to no one
    app.add_exception_handler(Exception, _unexpected)

    for call_type in CALL_TYPES:
        app.add_api_route(f"/v1/{call_type}", _segment_call(collector, call_type), methods=["POST"], **_declared(WRITE, docs.segment_call(call_type)))
    for path in ("/v1/batch", "/v1/import"):
        app.add_api_route(path, _segment_call(collector, None), methods=["POST"], **_declared(WRITE, docs.batch(path)))

    @app.post("/v1/webhooks/{source_name}", **_declared(WRITE, docs.webhook()))
    async def webhook(source_name: str, request: Request) -> Response:
        answer = await collector.webhook(request, source_name)
        return PlainTextResponse(answer) if isinstance(answer, str) else _json(answer)  # a tool's own acknowledgement (WeChat's "success")

    @app.get("/v1/webhooks/{source_name}", summary="A tool's subscription check (Meta's hub.challenge, WeChat's echostr), answered in plain text", response_class=PlainTextResponse, openapi_extra={"x-scope": PUBLIC})
    async def webhook_challenge(source_name: str, request: Request) -> Response:
        return PlainTextResponse(collector.webhook_challenge(request, source_name))

    access = ReadAccess(lambda: platform.read_keys, lambda: platform.sources)

    async def reference(_: Request) -> HTMLResponse:
        return HTMLResponse(reference_page(app.openapi()), headers=REFERENCE_HEADERS)

    app.add_route("/docs", reference, methods=["GET"], include_in_schema=False)  # no scope: it shows what /openapi.json does

    @app.get("/health", summary="ok or degraded (events quarantined, runner stopped); the details with an admin read key", openapi_extra={"x-scope": PUBLIC})
    async def health(request: Request) -> Response:
        return _json(collector.health(_admin(access, request)))
    if reads:
        app.include_router(profiles_router(lambda: platform, access))
        app.include_router(segment_router(lambda: platform, access))
        app.include_router(analytics_router(lambda: platform, access))
        app.include_router(trigger_router(lambda: platform, access))
        app.include_router(activation_router(lambda: platform, access))
        app.include_router(tags_router(lambda: platform, access))
    if reads and erasure:
        app.include_router(forget_router(lambda: platform, access.require("admin")))
    if reads:  # the marketer console (docs/console.md), last: it answers every path the API does not
        app.mount("/", console_app(lambda: platform))

    return app


def _admin(access: ReadAccess, request: Request) -> bool:
    """Whether the request shows an admin read key (any other caller gets the public answer, never a refusal)."""
    try:
        return access.check(request.headers, ADMIN) is not None
    except Refused:
        return False


def _segment_call(collector: Collector, call_type: str | None):
    async def handle(request: Request) -> Response:
        return _json(await collector.segment(request, call_type))

    handle.__name__ = call_type or "batch"
    return handle


def _declared(scope: str, route_docs: dict[str, Any]) -> dict[str, Any]:
    return {**route_docs, "openapi_extra": {**route_docs.get("openapi_extra", {}), "x-scope": scope}}


def _refused(request: Request, refusal: Refused, records: RefusalRecords) -> Response:
    if refusal.status in (401, 403):
        route = request.scope.get("route")
        records.record(
            refusal.actor or "anonymous",
            "request.refused",
            f"{request.method} {getattr(route, 'path', '?')}",
            f"refused:{refusal.status}",
            {"reason": refusal.reason, "client": request.client.host if request.client else ""},
        )
    return refusal.response()


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


async def _unexpected(request: Request, error: Exception) -> Response:
    """The last line of defence: a 500 with an error id, its details only in the log (tests make sure it never happens)."""
    return internal_error(error, f"{request.method} {request.url.path}", log).response()
