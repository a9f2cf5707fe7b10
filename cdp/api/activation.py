"""Activation endpoints (a FastAPI router over ``cdp.services.activation``): destinations (list,
add, test, remove), audience bindings (list, bind, sync, dry-run, unbind) and the delivery log
(list, replay).

Every route needs the ``admin`` scope: they send customer data out of the platform, and
destinations hold secrets (which no answer includes). The service holds every rule, so the answers
are the CLI's; its refusals become 404, 409 or 422 naming the field (``cdp.api.calls``). A body is
read, within ``MAX_BODY_BYTES``, only after the key was checked. A destination still bound to an
audience or named by an enabled trigger is kept (409 naming them).
"""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from cdp.api.auth import ReadAccess
from cdp.api.body import expect_object, parse_json, read_body
from cdp.api.calls import answered, request_caller
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.services.activation import ADMIN, MAX_LOG, ActivationService

MAX_BODY_BYTES = 256 * 1024  # a destination's templates
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


def activation_router(platform: Callable[[], Platform], access: ReadAccess) -> APIRouter:
    """E.g. ``app.include_router(activation_router(lambda: platform, access))``."""
    router = APIRouter(prefix="/v1", tags=["activation"])

    def route(method: str, path: str, body: bool = False, **docs: Any):
        extra = {"x-scope": ADMIN, **(_BODY if body else {})}
        return router.api_route(path, methods=[method], dependencies=[Depends(access.require(ADMIN))], openapi_extra=extra, **docs)

    def service(request: Request) -> ActivationService:
        return ActivationService(platform(), request_caller(request))

    @route("GET", "/destinations", summary="Configured destinations (secrets never shown)")
    def destinations(request: Request) -> list[dict[str, Any]]:
        with answered():
            return service(request).destinations()

    @route("POST", "/destinations", body=True, status_code=201, summary="Add a destination: {name, kind, settings, secret}")
    def add_destination(request: Request, body: dict[str, Any] = Depends(_body)) -> dict[str, Any]:
        with answered():
            settings = _field(body, "settings", dict, {})
            return service(request).add_destination(_field(body, "name", str), _field(body, "kind", str), settings, _field(body, "secret", str, None))

    @route("POST", "/destinations/{name}/test", summary="Send one test message now (not kept in the outbox)")
    def test_destination(name: str, request: Request, to: str | None = Query(None, max_length=320, description="For smtp: the address the test email goes to.")) -> dict[str, Any]:
        with answered():
            return service(request).test_destination(name, to)

    @route("DELETE", "/destinations/{name}", status_code=204, summary="Remove a destination (refused while an audience or an enabled trigger uses it)")
    def remove_destination(name: str, request: Request) -> Response:
        with answered():
            service(request).remove_destination(name)
            return Response(status_code=204)

    @route("GET", "/audiences", summary="Audience bindings and their last sync")
    def audiences(request: Request) -> list[dict[str, Any]]:
        with answered():
            return service(request).bindings()

    @route("POST", "/audiences", body=True, status_code=201, summary="Bind a saved segment to a destination: {name, segment, destination, purpose, fields, template, channel, every_minutes}")
    def bind(request: Request, body: dict[str, Any] = Depends(_body)) -> dict[str, Any]:
        with answered():
            return service(request).bind(
                _field(body, "name", str), _field(body, "segment", str), _field(body, "destination", str), _field(body, "purpose", str),
                _field(body, "fields", list, []), _field(body, "template", str, ""), _field(body, "channel", str, "audience"), _field(body, "every_minutes", int, 0),
            )  # fmt: skip

    @route("DELETE", "/audiences/{name}", status_code=204, summary="Unbind an audience (its actions already queued stay in the delivery log)")
    def unbind(name: str, request: Request) -> Response:
        with answered():
            service(request).unbind(name)
            return Response(status_code=204)

    @route("POST", "/audiences/{name}/sync", summary="Queue who entered and who left the segment since the last sync")
    def sync(name: str, request: Request) -> dict[str, Any]:
        with answered():
            return service(request).sync(name)

    @route("GET", "/audiences/{name}/dry-run", summary="What the next sync would send and who would be skipped now, without sending")
    def dry_run(name: str, request: Request) -> dict[str, Any]:
        with answered():
            return service(request).dry_run(name)

    @route("GET", "/deliveries", summary="The delivery log, newest first")
    def deliveries(
        request: Request,
        customer: str | None = Query(None, max_length=300, description="A customer id or any identifier of theirs."),
        status: str | None = Query(None, max_length=20, description="pending, sending, sent, delivered, skipped or dead."),
        limit: int = Query(100, ge=1, le=MAX_LOG),
    ) -> list[dict[str, Any]]:
        with answered():
            return service(request).deliveries(customer, status, limit)

    @route("POST", "/deliveries/replay", body=True, summary='Dead letters back to pending: {"action_ids": [...]} or {"all": true}')
    def replay(request: Request, body: dict[str, Any] = Depends(_body)) -> dict[str, Any]:
        with answered():
            ids, every = _field(body, "action_ids", list, None), _field(body, "all", bool, False)
            if (ids is None) == (not every):
                raise CdpError("body: give action_ids or all = true (not both)")
            return {"replayed": service(request).replay(None if every else [str(i) for i in ids])}

    return router


_MISSING = object()
_JSON_TYPES = {str: "a string", dict: "an object", list: "an array", int: "an integer", bool: "true or false"}


def _field(body: dict[str, Any], name: str, kind: type, default: Any = _MISSING) -> Any:
    """``body[name]`` of JSON type ``kind``; an error naming the field otherwise."""
    if name not in body or body[name] is None:
        if default is _MISSING:
            raise CdpError(f"{name}: required")
        return default
    value = body[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CdpError(f"{name}: expected {_JSON_TYPES[kind]}")
    return value


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object of the body, read only after the key was checked."""
    return expect_object(parse_json(await read_body(request, MAX_BODY_BYTES)))
