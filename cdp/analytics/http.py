"""Read endpoints for the HTTP server: profiles, timelines, segments, analytics (a FastAPI router).

The server that mounts it passes how to reach the warehouse and the saved segments; requests are
served one at a time on the warehouse (the embedded engine has one session). Read keys with
scopes are not here yet: mount the router behind the server's own authentication.
"""

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Body, HTTPException, Query

from cdp import queries
from cdp.analytics import channels, funnel, lifecycle_flow, retention, revenue, satisfaction, sla
from cdp.analytics.window import Period, window
from cdp.errors import CdpError
from cdp.segments import evaluate
from cdp.segments.model import parse_segment
from cdp.segments.store import SegmentStore
from cdp.warehouse import Warehouse


def read_router(warehouse: Callable[[], Warehouse], segments: Callable[[], SegmentStore]) -> APIRouter:
    """E.g. ``app.include_router(read_router(lambda: platform.warehouse, lambda: platform.segments))``."""
    router = APIRouter(prefix="/v1")
    lock = threading.Lock()

    def run(work: Callable[[Warehouse], Any]) -> Any:
        with lock:
            try:
                return work(warehouse())
            except CdpError as error:
                raise HTTPException(status_code=422, detail=str(error)) from None

    def customer(w: Warehouse, identifier: str) -> str:
        found = queries.find_customers(w, identifier)
        if not found:
            raise HTTPException(status_code=404, detail=f"no customer has the identifier {identifier!r}")
        return found[0]

    @router.get("/profiles/{identifier}", tags=["profiles"], summary="A customer's unified profile, by any identifier")
    def profile(identifier: str) -> dict[str, Any]:
        return run(lambda w: queries.profile(w, customer(w, identifier)))

    @router.get("/profiles/{identifier}/timeline", tags=["profiles"], summary="A customer's events, newest first")
    def timeline(identifier: str, limit: int = Query(100, ge=1, le=1000), before: int | None = Query(None, description="Only events before this log position (paging).")) -> list[dict[str, Any]]:
        return run(lambda w: queries.timeline(w, customer(w, identifier), limit, before))

    @router.get("/segments", tags=["segments"], summary="Saved segments")
    def segment_list() -> list[dict[str, Any]]:
        return run(lambda w: segments().list())

    @router.get("/segments/{name}/count", tags=["segments"], summary="A saved segment's size now")
    def segment_count(name: str) -> dict[str, Any]:
        return run(lambda w: {"segment": name, "customers": evaluate.count(w, _saved(name))})

    @router.post("/segments/count", tags=["segments"], summary="The size of a definition sent in the body (not saved)")
    def definition_count(definition: dict[str, Any] = Body(...)) -> dict[str, Any]:
        return run(lambda w: {"segment": definition.get("name"), "customers": evaluate.count(w, parse_segment(definition))})

    @router.get("/segments/{name}/members", tags=["segments"], summary="A saved segment's customers, by customer id")
    def segment_members(name: str, limit: int = Query(100, ge=1, le=10_000), offset: int = Query(0, ge=0)) -> list[dict[str, Any]]:
        return run(lambda w: evaluate.members(w, _saved(name), limit, offset))

    def _saved(name: str):
        try:
            return segments().get(name)
        except CdpError as error:
            raise HTTPException(status_code=404, detail=str(error)) from None

    @router.get("/analytics/funnel", tags=["analytics"])
    def funnel_(steps: str = Query(..., description="Comma-separated event types, in order."), window_days: float = Query(7, gt=0), start: date | None = None, end: date | None = None):
        return run(lambda w: funnel.funnel(w, [s for s in steps.split(",") if s], window_days, window(start, end)))

    @router.get("/analytics/retention", tags=["analytics"])
    def retention_(period: Period = "month", start: date | None = None, end: date | None = None):
        return run(lambda w: retention.retention(w, period, window(start, end)))

    @router.get("/analytics/lifecycle-flow", tags=["analytics"])
    def lifecycle_flow_(start: date | None = None, end: date | None = None):
        return run(lambda w: lifecycle_flow.lifecycle_flow(w, window(start, end)))

    @router.get("/analytics/satisfaction", tags=["analytics"])
    def satisfaction_(period: Period = "month", start: date | None = None, end: date | None = None):
        return run(lambda w: satisfaction.satisfaction_trend(w, period, window(start, end)))

    @router.get("/analytics/revenue", tags=["analytics"])
    def revenue_():
        return run(revenue.revenue_by_stage_and_tier)

    @router.get("/analytics/channels", tags=["analytics"])
    def channels_(period: Period = "month", start: date | None = None, end: date | None = None):
        return run(lambda w: channels.channel_mix(w, period, window(start, end)))

    @router.get("/analytics/sla", tags=["analytics"])
    def sla_(period: Period = "month", start: date | None = None, end: date | None = None):
        return run(lambda w: sla.sla_compliance(w, period, window(start, end)))

    return router

