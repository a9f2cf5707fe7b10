"""Profile endpoints of the read API: the 360° profile and the timeline (a FastAPI router).

Each route parses, calls ``cdp.services.profiles.ProfileService`` as the read key's caller, and
answers; the service resolves the customer, masks without ``pii:read`` and audits every read.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from cdp.api.auth import ReadAccess
from cdp.errors import STORE_FAULTS, CdpError
from cdp.keys import ReadKey
from cdp.platform import Platform
from cdp.services import Caller, Forbidden, NotFound
from cdp.services.profiles import MAX_TIMELINE, ProfileService

SCOPE = "profiles:read"


def profiles_router(platform: Callable[[], Platform], access: ReadAccess) -> APIRouter:
    """E.g. ``app.include_router(profiles_router(lambda: platform, access))``."""
    router = APIRouter(prefix="/v1", tags=["profiles"], dependencies=[Depends(access.require(SCOPE))])

    def service(request: Request) -> ProfileService:
        key: ReadKey = request.state.read_key  # set by the scope check
        return ProfileService(platform(), Caller(key.actor, frozenset(key.scopes)))

    @router.get("/profiles/{identifier}", openapi_extra={"x-scope": SCOPE}, summary="A customer's 360° profile, by any identifier (personal data needs pii:read)")
    def profile(identifier: str, request: Request) -> dict[str, Any]:
        with _answered():
            return service(request).profile(identifier)

    @router.get("/profiles/{identifier}/timeline", openapi_extra={"x-scope": SCOPE}, summary="A customer's events, newest first (personal data needs pii:read)")
    def timeline(
        identifier: str,
        request: Request,
        limit: int = Query(100, ge=1, le=MAX_TIMELINE),
        before: int | None = Query(None, ge=0, lt=2**63, description="Only events before this log position (paging)."),
    ) -> list[dict[str, Any]]:
        with _answered():
            return service(request).timeline(identifier, limit, before)

    return router


@contextmanager
def _answered() -> Iterator[None]:
    """A service's refusal as the HTTP answer: 404 not found, 403 forbidden, 422 invalid; a store's
    failure stays a failure of the server (500 with an error id)."""
    try:
        yield
    except NotFound as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    except Forbidden as error:
        raise HTTPException(status_code=403, detail=str(error)) from None
    except STORE_FAULTS:
        raise
    except CdpError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
