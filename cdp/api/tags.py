"""Tag endpoints for the HTTP server (a FastAPI router): the rules in force, one tag, the
definition history, a dry run of new definitions and applying them.

Each route calls one ``TagService`` method as the read key's holder; the service holds every rule
(validation naming the field, scopes: ``profiles:read`` to read and dry-run, ``admin`` to apply;
masking of the dry run's sample without ``pii:read``; the audit record), so the answers are the
CLI's. The collection's own paths start with ``_``, which no tag name can (``TagRule.tag``), so a
tag of any name is ``/v1/tags/{tag}``. A body is read, within ``MAX_DEFINITIONS_BYTES``, only
after the key was checked.
"""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from cdp.api.auth import ReadAccess
from cdp.api.body import expect_object, parse_json, read_body
from cdp.api.calls import answered, request_caller
from cdp.platform import Platform
from cdp.services.tags import MAX_SAMPLE, READ, WRITE, TagService

MAX_DEFINITIONS_BYTES = 256 * 1024
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


def tags_router(platform: Callable[[], Platform], access: ReadAccess) -> APIRouter:
    """E.g. ``app.include_router(tags_router(lambda: platform, access))``."""
    router = APIRouter(prefix="/v1/tags", tags=["tags"])

    def route(method: str, path: str, scope: str, body: bool = False, **docs: Any):
        extra = {"x-scope": scope, **(_BODY if body else {})}
        return router.api_route(path, methods=[method], dependencies=[Depends(access.require(scope))], openapi_extra=extra, **docs)

    def service(request: Request) -> TagService:
        return TagService(platform(), request_caller(request))

    @route("GET", "", READ, summary="Every tag rule in force, in evaluation order, with where it comes from")
    def list_tags(request: Request) -> list[dict[str, Any]]:
        with answered():
            return service(request).list()

    @route("GET", "/_history", READ, summary="Every applied version of the tag definitions, oldest first")
    def history(request: Request) -> list[dict[str, Any]]:
        with answered():
            return service(request).history()

    @route("POST", "/_dry-run", READ, body=True, summary="Who would gain and lose each tag the definitions change, now and per month; nothing written (sample masked without pii:read)")
    def dry_run(request: Request, definitions: dict[str, Any] = Depends(_definitions), sample: int = Query(10, ge=0, le=MAX_SAMPLE)) -> dict[str, Any]:
        with answered():
            return service(request).dry_run(definitions, sample)

    @route("POST", "/_apply", WRITE, body=True, summary="Apply the definitions as the next version; recomputes the tag projection alone")
    def apply(request: Request, definitions: dict[str, Any] = Depends(_definitions)) -> dict[str, Any]:
        with answered():
            return service(request).apply(definitions)

    @route("GET", "/{tag}", READ, summary="One tag: its rule in force, its holders now and the versions that defined it")
    def show(tag: str, request: Request) -> dict[str, Any]:
        with answered():
            return service(request).show(tag)

    return router


async def _definitions(request: Request) -> dict[str, Any]:
    """Tag definitions from the body, read only after the key was checked."""
    return expect_object(parse_json(await read_body(request, MAX_DEFINITIONS_BYTES)))
