"""The marketer's analyses over HTTP (a FastAPI router): funnel, retention, lifecycle flow,
satisfaction, revenue and its trend, channels, SLA, each with a ``segment`` (and where it applies a
``breakdown``) query parameter. Each endpoint needs a read key with ``analytics:read``
(``x-scope`` in OpenAPI) and calls ``cdp.services.analytics``, which checks the parameters and
audits the read."""

from collections.abc import Callable
from datetime import date

from fastapi import APIRouter, Depends, Query, Request

from cdp.analytics.window import Period
from cdp.api.auth import ReadAccess
from cdp.api.calls import answered, request_caller
from cdp.platform import Platform
from cdp.services.analytics import AnalyticsService


def analytics_router(platform: Callable[[], Platform], access: ReadAccess) -> APIRouter:
    """The marketer's analyses (``cdp.services.analytics``), behind read keys with ``analytics:read``,
    e.g. ``app.include_router(analytics_router(lambda: platform, access))``."""
    router = APIRouter(prefix="/v1", tags=["analytics"])
    scope = "analytics:read"

    def get(path: str):
        return router.get(path, dependencies=[Depends(access.require(scope))], openapi_extra={"x-scope": scope})

    def service(request: Request) -> AnalyticsService:
        return AnalyticsService(platform(), request_caller(request))

    segment_query = Query(None, description="Only the customers of this saved segment (as they are now).")
    breakdown_query = Query(None, description="channel (source kind), source (utm_source) or campaign (utm_campaign).")

    @get("/analytics/funnel")
    def funnel_(request: Request, steps: str = Query(..., description="Comma-separated event types, in order."), window_days: float = Query(7, gt=0, le=3660),
                start: date | None = None, end: date | None = None, segment: str | None = segment_query, breakdown: str | None = breakdown_query):
        with answered():
            return service(request).funnel(steps, window_days, start, end, segment=segment, breakdown=breakdown).rows

    @get("/analytics/retention")
    def retention_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None, segment: str | None = segment_query):
        with answered():
            return service(request).retention(period, start, end, segment=segment).rows

    @get("/analytics/lifecycle-flow")
    def lifecycle_flow_(request: Request, start: date | None = None, end: date | None = None, segment: str | None = segment_query):
        with answered():
            return service(request).lifecycle_flow(start, end, segment=segment).rows

    @get("/analytics/satisfaction")
    def satisfaction_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None, segment: str | None = segment_query):
        with answered():
            return service(request).satisfaction(period, start, end, segment=segment).rows

    @get("/analytics/topics")
    def topics_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None, segment: str | None = segment_query):
        with answered():
            return service(request).topics(period, start, end, segment=segment).rows

    @get("/analytics/revenue")
    def revenue_(request: Request, start: date | None = None, end: date | None = None, segment: str | None = segment_query):
        with answered():
            return service(request).revenue(start=start, end=end, segment=segment).rows

    @get("/analytics/revenue-trend")
    def revenue_trend_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None,
                       segment: str | None = segment_query, breakdown: str | None = breakdown_query):
        with answered():
            return service(request).revenue_trend(period, start, end, segment=segment, breakdown=breakdown).rows

    @get("/analytics/channels")
    def channels_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None,
                  segment: str | None = segment_query, breakdown: str | None = breakdown_query):
        with answered():
            return service(request).channels(period, start, end, segment=segment, breakdown=breakdown).rows

    @get("/analytics/sla")
    def sla_(request: Request, period: Period = "month", start: date | None = None, end: date | None = None, segment: str | None = segment_query):
        with answered():
            return service(request).sla(period, start, end, segment=segment).rows

    @get("/churn/backtest")
    def churn_backtest_(request: Request, start: date | None = None, end: date | None = None, within_days: int = Query(90, ge=1, le=3660),
                        level: str = Query("medium", description="medium (rises to medium and high) or high")):
        with answered():
            return service(request).churn_backtest(start, end, within_days, level).rows

    return router
