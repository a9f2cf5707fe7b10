"""Trigger endpoints for the HTTP server (a FastAPI router): the configured rules (``triggers:read``)
and a dry-run of rules sent in the body (``admin``): who would have received what over a past
period, nothing sent. Each route calls one ``TriggerService`` method as the read key's holder;
refusals become 404, 403 or 422 with the CLI's message (``cdp.api.calls``). A body is read, within
``MAX_RULES_BYTES``, only after the key was checked."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from cdp.api.auth import ReadAccess
from cdp.api.body import expect_object, parse_json, read_body
from cdp.api.calls import answered, request_caller
from cdp.platform import Platform
from cdp.services.triggers import ADMIN, MAX_SAMPLE, READ, TriggerService

MAX_RULES_BYTES = 256 * 1024
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "description": "A [triggers] section as JSON: {\"rules\": {NAME: {when, where, then}}, ...}"}}}}}


def trigger_router(platform: Callable[[], Platform], access: ReadAccess) -> APIRouter:
    """E.g. ``app.include_router(trigger_router(lambda: platform, access))``."""
    router = APIRouter(prefix="/v1/triggers", tags=["triggers"])

    def route(method: str, path: str, scope: str, body: bool = False, **docs: Any):
        extra = {"x-scope": scope, **(_BODY if body else {})}
        return router.api_route(path, methods=[method], dependencies=[Depends(access.require(scope))], openapi_extra=extra, **docs)

    def service(request: Request) -> TriggerService:
        return TriggerService(platform(), request_caller(request))

    @route("GET", "", READ, summary="The configured trigger rules, and which are enabled since when")
    def list_triggers(request: Request) -> list[dict[str, Any]]:
        with answered():
            return service(request).list()

    @route("GET", "/{name}", READ, summary="One trigger rule as configured, with whether it is enabled")
    def get_trigger(name: str, request: Request) -> dict[str, Any]:
        with answered():
            return service(request).get(name)

    @route("POST", "/dry-run", ADMIN, body=True, summary="Who would have received what from these rules between since and until; nothing is sent")
    def dry_run(
        request: Request,
        since: datetime = Query(description="From this time (ISO 8601; UTC unless it says)."),
        until: datetime = Query(description="To this time."),
        sample: int = Query(10, ge=0, le=MAX_SAMPLE, description="Show this many of the actions (customer ids; no personal data)."),
        rules: dict[str, Any] = Depends(_rules),
    ) -> dict[str, Any]:
        with answered():
            return service(request).dry_run(rules, _utc(since), _utc(until), sample)

    return router


async def _rules(request: Request) -> dict[str, Any]:
    """The rules from the body, read only after the key was checked."""
    return expect_object(parse_json(await read_body(request, MAX_RULES_BYTES)))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
