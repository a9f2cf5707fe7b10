"""The ASGI application: Segment's HTTP Tracking API, connector webhooks, health, OpenAPI.

FastAPI (on Starlette) gives the OpenAPI document and interactive docs for free and is widely
kept; handlers take the raw ``Request`` and decode bodies with orjson themselves, because
FastAPI's per-request pydantic body parsing would cost more than our whole validation path.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response

from cdp.api import docs
from cdp.api.collector import Collector
from cdp.api.refusals import Refused
from ingestion.segment import CALL_TYPES

import orjson


def create_app(collector: Collector) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        collector.writer.start()
        try:
            yield
        finally:
            collector.writer.stop()

    app = FastAPI(title="cdp collector", version="1", description=docs.DESCRIPTION, lifespan=lifespan)
    app.add_exception_handler(Refused, lambda _, refusal: refusal.response())
    app.add_exception_handler(HTTPException, lambda _, e: Refused(e.status_code, "http_error", str(e.detail)).response())
    app.add_exception_handler(RequestValidationError, lambda _, e: Refused(400, "invalid_request", str(e)).response())
    app.add_exception_handler(Exception, _unexpected)

    for call_type in CALL_TYPES:
        app.add_api_route(f"/v1/{call_type}", _segment_call(collector, call_type), methods=["POST"], **docs.segment_call(call_type))
    for path in ("/v1/batch", "/v1/import"):
        app.add_api_route(path, _segment_call(collector, None), methods=["POST"], **docs.batch(path))

    @app.post("/v1/webhooks/{source_name}", **docs.webhook())
    async def webhook(source_name: str, request: Request) -> Response:
        return _json(await collector.webhook(request, source_name))

    @app.get("/v1/webhooks/{source_name}", summary="A tool's subscription check (Meta's hub.challenge), answered in plain text", response_class=PlainTextResponse)
    async def webhook_challenge(source_name: str, request: Request) -> Response:
        return PlainTextResponse(collector.webhook_challenge(request, source_name))

    @app.get("/health", summary="Liveness, and how many events wait to be written")
    async def health() -> Response:
        return _json(collector.health())

    return app


def _segment_call(collector: Collector, call_type: str | None):
    async def handle(request: Request) -> Response:
        return _json(await collector.segment(request, call_type))

    handle.__name__ = call_type or "batch"
    return handle


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


async def _unexpected(_: Request, error: Exception) -> Response:
    """The last line of defence: a clear 500 without a traceback (tests make sure it never happens)."""
    return Refused(500, "internal_error", f"unexpected {type(error).__name__}; the request was not stored").response()
