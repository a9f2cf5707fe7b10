"""Segment endpoints for the HTTP server (a FastAPI router): list, read with history, create,
update, delete, preview, count, members and export.

Each route parses the request, calls one ``SegmentService`` method as the read key's holder and
answers; the service holds every rule (validation, consent purposes, masking without
``pii:read``, scopes, the audit record), so the answers are the CLI's. Its refusals become 404 (no
such segment), 403 (a scope missing), 409 (the name is taken) or 422 (the request is wrong, with
the CLI's message naming the field or the path in the definition; ``cdp.api.calls``). Every route declares its scope
(``x-scope`` in OpenAPI); a body is read, within ``MAX_DEFINITION_BYTES``, only after the key
was checked.
"""

import tempfile
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response, StreamingResponse

from cdp.api.auth import ReadAccess
from cdp.api.body import expect_object, parse_json, read_body
from cdp.api.calls import answered, request_caller
from cdp.platform import Platform
from cdp.services.segments import MAX_PAGE, MAX_SAMPLE, READ, WRITE, SegmentService, columns_from

MAX_DEFINITION_BYTES = 256 * 1024
_SPOOLED = 16 * 1024 * 1024  # an export up to this size stays in memory, a larger one goes to a temporary file
_CHUNK = 64 * 1024
_MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}

Purpose = Query(None, max_length=100, description="Only customers with consent to this purpose in force and not suppressed for it (email_marketing, ...); "
                "required to list or export contact data with pii:read; none = internal analysis, no consent filter.")  # fmt: skip
HorizonDays = Query(90, description="Days ahead of the value model's as-of time (1 to 3650; the service checks).")
Columns = Query(None, max_length=2000, description="Comma-separated profile columns (default: customer_id, emails, phones, lifecycle_stage, orders, revenue, last_seen).")


def segment_router(platform: Callable[[], Platform], access: ReadAccess) -> APIRouter:
    """E.g. ``app.include_router(segment_router(lambda: platform, access))``."""
    router = APIRouter(prefix="/v1/segments", tags=["segments"])

    def route(method: str, path: str, scope: str, body: bool = False, **docs: Any):
        extra = {"x-scope": scope, **(_BODY if body else {})}
        return router.api_route(path, methods=[method], dependencies=[Depends(access.require(scope))], openapi_extra=extra, **docs)

    def service(request: Request) -> SegmentService:
        return SegmentService(platform(), request_caller(request))

    @route("GET", "", READ, summary="Saved segments")
    def list_segments(request: Request) -> list[dict[str, Any]]:
        with answered():
            return service(request).list()

    @route("POST", "", WRITE, body=True, status_code=201, summary="Save a new segment (body: its definition); answers its version and size now")
    def create(request: Request, definition: dict[str, Any] = Depends(_definition)) -> dict[str, Any]:
        with answered():
            return service(request).create(definition)

    @route("POST", "/preview", READ, body=True, summary="A definition's size and a sample of its members, not saved (personal data needs pii:read)")
    def preview(
        request: Request,
        definition: dict[str, Any] = Depends(_definition),
        purpose: str | None = Purpose,
        sample: int = Query(10, ge=0, le=MAX_SAMPLE),
        columns: str | None = Columns,
    ) -> dict[str, Any]:
        with answered():
            return service(request).preview(definition, purpose, sample, columns_from(columns))

    @route("POST", "/count", READ, body=True, summary="The size of a definition sent in the body (not saved)")
    def count_definition(request: Request, definition: dict[str, Any] = Depends(_definition), purpose: str | None = Purpose) -> dict[str, Any]:
        with answered():
            return service(request).count(definition, purpose)

    @route("POST", "/forecast", READ, body=True, summary="Expected purchases, revenue and active customers of a definition's members over the next N days (latest value model)")
    def forecast_definition(request: Request, definition: dict[str, Any] = Depends(_definition), horizon_days: int = HorizonDays) -> dict[str, Any]:
        from cdp.services.value import ValueService  # scipy: imported by the first prediction asked, not by every server start

        with answered():
            return ValueService(platform(), request_caller(request)).forecast(definition, horizon_days)

    @route("GET", "/{name}/forecast", READ, summary="Expected purchases, revenue and active customers of a saved segment's members over the next N days (latest value model)")
    def forecast(name: str, request: Request, horizon_days: int = HorizonDays) -> dict[str, Any]:
        from cdp.services.value import ValueService  # scipy: imported by the first prediction asked, not by every server start

        with answered():
            return ValueService(platform(), request_caller(request)).forecast(name, horizon_days)

    @route("GET", "/{name}", READ, summary="A saved segment: its definition now and every saved version")
    def read(name: str, request: Request) -> dict[str, Any]:
        with answered():
            return service(request).get(name)

    @route("PUT", "/{name}", WRITE, body=True, summary="Save a new version of a segment (body: its definition); earlier versions are kept")
    def update(name: str, request: Request, definition: dict[str, Any] = Depends(_definition)) -> dict[str, Any]:
        with answered():
            return service(request).update(name, definition)

    @route("DELETE", "/{name}", WRITE, status_code=204, response_class=Response, summary="Forget a segment and its history")
    def delete(name: str, request: Request) -> Response:
        with answered():
            service(request).delete(name)
        return Response(status_code=204)

    @route("GET", "/{name}/count", READ, summary="A saved segment's size now (with purpose: how many may be contacted for it)")
    def count(name: str, request: Request, purpose: str | None = Purpose) -> dict[str, Any]:
        with answered():
            return service(request).count(name, purpose)

    @route("GET", "/{name}/members", READ, summary="A saved segment's customers, by customer id (personal data needs pii:read)")
    def members(
        name: str,
        request: Request,
        purpose: str | None = Purpose,
        columns: str | None = Columns,
        limit: int = Query(100, ge=1, le=MAX_PAGE),
        offset: int = Query(0, ge=0, lt=2**63),
    ) -> list[dict[str, Any]]:
        with answered():
            return service(request).members(name, limit, offset, columns_from(columns), purpose)

    @route("GET", "/{name}/export", READ, response_class=StreamingResponse, summary="Every member as a CSV or Parquet file (personal data needs pii:read)")
    def export(name: str, request: Request, fmt: str = Query("csv", alias="format", max_length=20, description="csv or parquet"), purpose: str | None = Purpose, columns: str | None = Columns) -> Response:
        spooled = tempfile.SpooledTemporaryFile(_SPOOLED)
        try:
            with answered():
                service(request).export(name, spooled, fmt, purpose, columns_from(columns))
        except BaseException:
            spooled.close()
            raise
        spooled.seek(0)
        disposition = f'attachment; filename="{name}.{fmt}"'  # a saved name: lower-case letters, digits, '_' and '-'
        return StreamingResponse(_chunks(spooled), media_type=_MEDIA[fmt], headers={"Content-Disposition": disposition})

    return router


def _chunks(file: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := file.read(_CHUNK):
            yield chunk
    finally:
        file.close()


async def _definition(request: Request) -> dict[str, Any]:
    """A segment definition from the body, read only after the key was checked (a body FastAPI parses
    itself is read first, so a stranger's malformed body would get 400 instead of 401)."""
    return expect_object(parse_json(await read_body(request, MAX_DEFINITION_BYTES)))
