"""Read endpoints for the HTTP server: profiles, timelines, analytics (a FastAPI router; segments
have their own, ``cdp.api.segments``).

Every endpoint declares the read-key scope it needs (``x-scope`` in OpenAPI); the server's
``ReadAccess`` lets a request through only with such a key. Personal data is masked for keys
without ``pii:read``. Every read is written to the audit log (who, what, which customer,
outcome). The warehouse backends run one statement at a time, so the server's runner
and these reads can share one.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from cdp import queries
from cdp.analytics import channels, funnel, lifecycle_flow, retention, revenue, satisfaction, sla
from cdp.analytics.window import Period, window
from cdp.api.auth import ReadAccess
from cdp.audit import AuditLog, identifier_digest
from cdp.errors import STORE_FAULTS, CdpError
from cdp.keys import ReadKey
from cdp.masking import mask_event, mask_profile
from cdp.warehouse import Warehouse

PII = "pii:read"


class _Outcome(Exception):
    """A refusal to answer (not found, invalid), audited with its outcome before it reaches the client."""

    def __init__(self, status: int, outcome: str, message: str):
        super().__init__(message)
        self.status, self.outcome = status, outcome


def read_router(warehouse: Callable[[], Warehouse], access: ReadAccess, audit: Callable[[], AuditLog]) -> APIRouter:
    """E.g. ``app.include_router(read_router(lambda: platform.warehouse, access, lambda: platform.audit))``."""
    router = APIRouter(prefix="/v1")

    def get(path: str, scope: str, **docs: Any):
        return router.get(path, dependencies=[Depends(access.require(scope))], openapi_extra={"x-scope": scope}, **docs)

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

    def customer(w: Warehouse, identifier: str, detail: dict[str, Any]) -> str:
        found = queries.find_customers(w, identifier)
        if not found:
            raise _Outcome(404, "not_found", f"no customer has the identifier {identifier[:200]!r}")
        detail["target"] = found[0]
        return found[0]

    def existing(profile_row: dict[str, Any] | None) -> dict[str, Any]:
        if profile_row is None:
            raise _Outcome(404, "not_found", "the customer has no profile yet (its events are not processed)")
        return profile_row

    def can_see_pii(request: Request) -> bool:
        return request.state.read_key.allows(PII)

    @get("/profiles/{identifier}", "profiles:read", tags=["profiles"], summary="A customer's unified profile, by any identifier (personal data needs pii:read)")
    def profile(identifier: str, request: Request) -> dict[str, Any]:
        pii = can_see_pii(request)
        detail = {"identifier": identifier_digest(identifier), "pii": pii}
        found = answer(request, "profile.read", identifier_digest(identifier), lambda w: existing(queries.profile(w, customer(w, identifier, detail))), detail)
        return found if pii else mask_profile(found)

    @get("/profiles/{identifier}/timeline", "profiles:read", tags=["profiles"], summary="A customer's events, newest first (personal data needs pii:read)")
    def timeline(
        identifier: str,
        request: Request,
        limit: int = Query(100, ge=1, le=1000),
        before: int | None = Query(None, ge=0, lt=2**63, description="Only events before this log position (paging)."),
    ) -> list[dict[str, Any]]:
        pii = can_see_pii(request)
        detail = {"identifier": identifier_digest(identifier), "pii": pii, "limit": limit}
        rows = answer(request, "profile.timeline", identifier_digest(identifier), lambda w: queries.timeline(w, customer(w, identifier, detail), limit, before), detail)
        return rows if pii else [mask_event(row) for row in rows]

    def analysis(request: Request, name: str, work: Callable[[Warehouse], Any]) -> Any:
        return answer(request, "analytics.read", name, work, {"query": {k[:64]: v[:200] for k, v in request.query_params.items()}})

    @get("/analytics/funnel", "analytics:read", tags=["analytics"])
    def funnel_(request: Request, steps: str = Query(..., description="Comma-separated event types, in order."), window_days: float = Query(7, gt=0, le=3660), start: date | None = None, end: date | None = None):
        return analysis(request, "funnel", lambda w: funnel.funnel(w, [s for s in steps.split(",") if s], window_days, window(start, end)))

    @get("/analytics/retention", "analytics:read", tags=["analytics"])
    def retention_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None):
        return analysis(request, "retention", lambda w: retention.retention(w, period, window(start, end)))

    @get("/analytics/lifecycle-flow", "analytics:read", tags=["analytics"])
    def lifecycle_flow_(request: Request, start: date | None = None, end: date | None = None):
        return analysis(request, "lifecycle-flow", lambda w: lifecycle_flow.lifecycle_flow(w, window(start, end)))

    @get("/analytics/satisfaction", "analytics:read", tags=["analytics"])
    def satisfaction_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None):
        return analysis(request, "satisfaction", lambda w: satisfaction.satisfaction_trend(w, period, window(start, end)))

    @get("/analytics/revenue", "analytics:read", tags=["analytics"])
    def revenue_(request: Request):
        return analysis(request, "revenue", revenue.revenue_by_stage_and_tier)

    @get("/analytics/channels", "analytics:read", tags=["analytics"])
    def channels_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None):
        return analysis(request, "channels", lambda w: channels.channel_mix(w, period, window(start, end)))

    @get("/analytics/sla", "analytics:read", tags=["analytics"])
    def sla_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None):
        return analysis(request, "sla", lambda w: sla.sla_compliance(w, period, window(start, end)))

    return router
