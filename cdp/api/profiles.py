"""Profile endpoints of the read API: the 360° profile and the timeline (a FastAPI router).

Each route parses, calls ``cdp.services.profiles.ProfileService`` as the read key's caller and
answers (``cdp.api.calls``); the service resolves the customer, masks without ``pii:read`` and
audits every read. Each answers at ``/v1/profiles/{identifier}...`` and at
``/v1/profile...?identifier=``: an identifier holding a ``/`` (which no path segment can carry, not
even as ``%2F``, which the server decodes before routing) is asked for in the query.
"""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from cdp.api.auth import ReadAccess
from cdp.api.calls import answered, request_caller
from cdp.platform import Platform
from cdp.services.profiles import MAX_TIMELINE, ProfileService

SCOPE = "profiles:read"


def profiles_router(platform: Callable[[], Platform], access: ReadAccess) -> APIRouter:
    """E.g. ``app.include_router(profiles_router(lambda: platform, access))``."""
    router = APIRouter(prefix="/v1", tags=["profiles"], dependencies=[Depends(access.require(SCOPE))])

    @router.get("/profiles/{identifier}", openapi_extra={"x-scope": SCOPE}, summary="A customer's 360° profile, by any identifier (personal data needs pii:read)")
    @router.get("/profile", openapi_extra={"x-scope": SCOPE}, summary="The same, the identifier in the query (?identifier=): for one that holds a '/'")
    def profile(identifier: str, request: Request) -> dict[str, Any]:
        with answered():
            return ProfileService(platform(), request_caller(request)).profile(identifier)

    @router.get("/profiles/{identifier}/prediction", openapi_extra={"x-scope": SCOPE}, summary="A customer's predicted value with its inputs and model (`cdp value explain`)")
    @router.get("/profile/prediction", openapi_extra={"x-scope": SCOPE}, summary="The same, the identifier in the query (?identifier=): for one that holds a '/'")
    def prediction(identifier: str, request: Request) -> dict[str, Any]:
        from cdp.services.value import ValueService  # scipy: imported by the first prediction asked, not by every server start

        with answered():
            return ValueService(platform(), request_caller(request)).explain(identifier)

    @router.get("/profiles/{identifier}/timeline", openapi_extra={"x-scope": SCOPE}, summary="A customer's events, newest first (personal data needs pii:read)")
    @router.get("/profile/timeline", openapi_extra={"x-scope": SCOPE}, summary="The same, the identifier in the query (?identifier=): for one that holds a '/'")
    def timeline(
        identifier: str,
        request: Request,
        limit: int = Query(100, ge=1, le=MAX_TIMELINE),
        before: int | None = Query(None, ge=0, lt=2**63, description="Only events before this log position (paging)."),
    ) -> list[dict[str, Any]]:
        with answered():
            return ProfileService(platform(), request_caller(request)).timeline(identifier, limit, before)

    return router
