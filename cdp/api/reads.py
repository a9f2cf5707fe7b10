"""Read endpoints for the HTTP server: segments and analytics (FastAPI routers; profiles: ``cdp.api.profiles``).

Every endpoint declares the read-key scope it needs (``x-scope`` in OpenAPI); the server's
``ReadAccess`` lets a request through only with such a key. Personal data is masked for keys
without ``pii:read``. Every read is written to the audit log (who, what, which customer or
segment, outcome). The warehouse backends run one statement at a time, so the server's runner
and these reads can share one.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from cdp.analytics.window import Period
from cdp.api.auth import ReadAccess
from cdp.api.calls import answered, request_caller
from cdp.api.body import expect_object, parse_json, read_body
from cdp.audit import AuditLog
from cdp.errors import STORE_FAULTS, CdpError
from cdp.keys import ReadKey
from cdp.masking import mask_profile
from cdp.platform import Platform
from cdp.segments import evaluate
from cdp.segments.model import parse_segment
from cdp.segments.store import SegmentStore
from cdp.segments.values import KnownValues, check_values
from cdp.services.analytics import AnalyticsService
from cdp.warehouse import Warehouse

PII = "pii:read"
MAX_DEFINITION_BYTES = 256 * 1024


class _Outcome(Exception):
    """A refusal to answer (not found, invalid), audited with its outcome before it reaches the client."""

    def __init__(self, status: int, outcome: str, message: str):
        super().__init__(message)
        self.status, self.outcome = status, outcome


def read_router(
    warehouse: Callable[[], Warehouse], segments: Callable[[], SegmentStore], access: ReadAccess, audit: Callable[[], AuditLog], known: Callable[[], KnownValues] | None = None
) -> APIRouter:
    """E.g. ``app.include_router(read_router(lambda: platform.warehouse, lambda: platform.segments, access, lambda: platform.audit, lambda: known_values(settings)))``;
    ``known``: the values segment conditions are checked against (``cdp.segments.values``)."""
    router = APIRouter(prefix="/v1")

    def get(path: str, scope: str, **docs: Any):
        return router.get(path, dependencies=[Depends(access.require(scope))], openapi_extra={"x-scope": scope}, **docs)

    def post(path: str, scope: str, **docs: Any):
        body = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}
        return router.post(path, dependencies=[Depends(access.require(scope))], openapi_extra={"x-scope": scope, **body}, **docs)

    def answer(request: Request, action: str, target: str, work: Callable[[Warehouse], Any], detail: dict[str, Any] | None = None) -> Any:
        """Runs ``work`` on the warehouse and audits it; ``work`` may name the target it found in ``detail['target']``."""
        key: ReadKey = request.state.read_key  # set by the scope check
        detail = {} if detail is None else detail
        outcome = "error"  # until it answers: an unexpected failure is audited as such
        try:
            result = work(warehouse())
            outcome = "ok"
            return result
        except _Outcome as refusal:
            outcome = refusal.outcome
            raise HTTPException(status_code=refusal.status, detail=str(refusal)) from None
        except STORE_FAULTS:
            raise
        except CdpError as error:
            outcome = "invalid"
            raise HTTPException(status_code=422, detail=str(error)) from None
        finally:
            audit().record(key.actor, action, detail.pop("target", target), outcome, detail)

    def can_see_pii(request: Request) -> bool:
        return request.state.read_key.allows(PII)

    @get("/segments", "segments:read", tags=["segments"], summary="Saved segments")
    def segment_list(request: Request) -> list[dict[str, Any]]:
        return answer(request, "segment.list", "*", lambda w: segments().list())

    @get("/segments/{name}/count", "segments:read", tags=["segments"], summary="A saved segment's size now")
    def segment_count(name: str, request: Request) -> dict[str, Any]:
        return answer(request, "segment.count", name[:200], lambda w: {"segment": name, "customers": evaluate.count(w, saved(name))})

    @post("/segments/count", "segments:read", tags=["segments"], summary="The size of a definition sent in the body (not saved)")
    def definition_count(request: Request, definition: dict[str, Any] = Depends(_definition)) -> dict[str, Any]:
        return answer(request, "segment.count", "(definition)", lambda w: {"segment": definition.get("name"), "customers": evaluate.count(w, checked(parse_segment(definition)))})

    @get("/segments/{name}/members", "segments:read", tags=["segments"], summary="A saved segment's customers, by customer id (personal data needs pii:read)")
    def segment_members(name: str, request: Request, limit: int = Query(100, ge=1, le=10_000), offset: int = Query(0, ge=0, lt=2**63)) -> list[dict[str, Any]]:
        pii = can_see_pii(request)
        rows = answer(request, "segment.members", name[:200], lambda w: evaluate.members(w, saved(name), limit, offset), {"pii": pii, "limit": limit, "offset": offset})
        return rows if pii else [mask_profile(row) for row in rows]

    def saved(name: str):
        try:
            segment = segments().get(name)
        except CdpError as error:
            raise _Outcome(404, "not_found", str(error)) from None
        return checked(segment)

    def checked(segment):
        """The segment, if its condition values are known ones (a refusal is answered 422)."""
        return segment if known is None else check_values(segment, known())

    return router


def analytics_router(platform: Callable[[], Platform], access: ReadAccess) -> APIRouter:
    """The marketer's analyses (``cdp.services.analytics``), behind read keys with ``analytics:read``,
    e.g. ``app.include_router(analytics_router(lambda: platform, access))``."""
    router = APIRouter(prefix="/v1", tags=["analytics"])
    scope = "analytics:read"

    def get(path: str):
        return router.get(path, dependencies=[Depends(access.require(scope))], openapi_extra={"x-scope": scope})

    def service(request: Request) -> AnalyticsService:
        return AnalyticsService(platform(), request_caller(request))

    @get("/analytics/funnel")
    def funnel_(request: Request, steps: str = Query(..., description="Comma-separated event types, in order."), window_days: float = Query(7, gt=0, le=3660), start: date | None = None, end: date | None = None):
        with answered():
            return service(request).funnel(steps, window_days, start, end).rows

    @get("/analytics/retention")
    def retention_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None):
        with answered():
            return service(request).retention(period, start, end).rows

    @get("/analytics/lifecycle-flow")
    def lifecycle_flow_(request: Request, start: date | None = None, end: date | None = None):
        with answered():
            return service(request).lifecycle_flow(start, end).rows

    @get("/analytics/satisfaction")
    def satisfaction_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None):
        with answered():
            return service(request).satisfaction(period, start, end).rows

    @get("/analytics/revenue")
    def revenue_(request: Request):
        with answered():
            return service(request).revenue().rows

    @get("/analytics/channels")
    def channels_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None):
        with answered():
            return service(request).channels(period, start, end).rows

    @get("/analytics/sla")
    def sla_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None):
        with answered():
            return service(request).sla(period, start, end).rows

    return router


async def _definition(request: Request) -> dict[str, Any]:
    """A segment definition from the body, read only after the key was checked (a body FastAPI parses
    itself is read first, so a stranger's malformed body would get 400 instead of 401)."""
    return expect_object(parse_json(await read_body(request, MAX_DEFINITION_BYTES)))
