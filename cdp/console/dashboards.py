"""Dashboards: one page per analysis of ``AnalyticsService`` (lifecycle flow, funnel, retention,
satisfaction, SLA, revenue, channel mix), each with its date range (and period, or steps), a saved
segment to narrow it to, its
chart, its numbers as a table and as a CSV download. The lifecycle page also shows how many
customers are in each stage now (the revenue analysis' customers, summed over the tiers).

The chart is ``cdp.analytics.charts``' description of the rows (the one the CLI draws to files),
its words translated, handed to the page as JSON in a ``<script type="application/json">`` block
that ``static/console.js`` draws with ECharts: labels are data, never markup. The CSV's cells go
through ``cdp.spreadsheet.csv_cell``, so a hostile label cannot run as a formula.
"""

import csv
import io
from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import RedirectResponse, Response

from cdp.analytics import charts
from cdp.analytics.window import Period
from cdp.console.i18n import Translator
from cdp.console.web import Console, Visit
from cdp.refusals import refusal
from cdp.services import Forbidden, NotFound
from cdp.services.analytics import Analysis, AnalyticsService
from cdp.services.segments import SegmentService
from cdp.spreadsheet import csv_cell
from projections.lifecycle import STAGES

DASHBOARDS = ("lifecycle-flow", "funnel", "retention", "satisfaction", "sla", "revenue", "channels")
PERIODIC = ("retention", "satisfaction", "sla", "channels")
DATED = (*PERIODIC, "lifecycle-flow", "funnel", "revenue")
FUNNEL_STEPS = "page_viewed,signed_up,order_placed"
NAMED = ("stage", "tier", "channel", "source_kind")  # catalogue sections a chart label may be a name of


def analysis(service: AnalyticsService, name: str, period: Period, start: date | None, end: date | None, steps: str, window_days: float, segment: str | None) -> Analysis:
    """``segment``: a saved segment's customers only (every analysis takes one; none: everyone)."""
    if name == "funnel":
        return service.funnel(steps, window_days, start, end, segment=segment)
    if name == "lifecycle-flow":
        return service.lifecycle_flow(start, end, segment=segment)
    if name == "revenue":
        return service.revenue(start=start, end=end, segment=segment)
    return getattr(service, name)(period, start, end, segment=segment)


def chart(t: Translator, name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The chart of the rows in the visitor's language (the rows' names translated where the catalogue knows them)."""
    drawn = asdict(charts.BUILDERS[name](rows))
    return drawn | {
        "title": t(f"dashboard.{name}.title"),
        "x": [label(t, x) for x in drawn["x"]],
        "series": [{"name": label(t, series), "data": values} for series, values in drawn["series"].items()],
        "x_title": t(f"dashboard.{name}.x"),
        "y_title": t(f"dashboard.{name}.y"),
    }


def distribution(t: Translator, revenue_rows: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Customers per lifecycle stage now (the revenue analysis' customers summed over the tiers), as a chart and its rows."""
    counts = {stage: 0 for stage in STAGES}
    for row in revenue_rows:
        counts[row["lifecycle_stage"]] = counts.get(row["lifecycle_stage"], 0) + row["customers"]
    rows = [{"lifecycle_stage": stage, "customers": n} for stage, n in counts.items()]
    drawn = {"title": t("dashboard.distribution.title"), "kind": "bars", "x": [label(t, r["lifecycle_stage"]) for r in rows],
             "series": [{"name": t("column.customers"), "data": [r["customers"] for r in rows]}], "x_title": t("dashboard.distribution.x"), "y_title": t("dashboard.distribution.y")}
    return drawn, rows


def label(t: Translator, text: str) -> str:
    if text == charts.FIRST_SEEN:
        return t("dashboard.first_seen")
    for kind in NAMED:
        if f"{kind}.{text}" in t.messages:
            return t.name(kind, text)
    return text


def rows_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.writer(out)
        writer.writerow(list(rows[0]))
        writer.writerows([csv_cell(value) for value in row.values()] for row in rows)
    return out.getvalue()


def router(console: Console) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def answered(visit: Visit, name: str, period: Period, start: date | None, end: date | None, steps: str, window_days: float, segment: str) -> list[dict[str, Any]]:
        if name not in DASHBOARDS:
            raise refusal(NotFound, "no_dashboard", given=name[:50], known=list(DASHBOARDS))
        return analysis(AnalyticsService(visit.platform, visit.caller), name, period, start, end, steps, window_days, segment or None).rows

    def segment_names(visit: Visit) -> list[str]:
        """The saved segments a dashboard may be narrowed to: none to choose for a key without segments:read."""
        try:
            return [s["name"] for s in SegmentService(visit.platform, visit.caller).list()]
        except Forbidden:
            return []

    @routes.get("/dashboards")
    def first() -> Response:
        return RedirectResponse(f"/dashboards/{DASHBOARDS[0]}", status_code=303)

    @routes.get("/dashboards/{name}.csv")
    def download(name: str, visit: Visit = Depends(console.visit), period: Period = "month", start: date | None = None, end: date | None = None,
                 steps: str = Query(FUNNEL_STEPS, max_length=2000), window_days: float = Query(7, gt=0, le=3660), segment: str = Query("", max_length=100)) -> Response:
        rows = answered(visit, name, period, start, end, steps, window_days, segment)
        return Response(rows_csv(rows), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})

    @routes.get("/dashboards/{name}")
    def dashboard(name: str, visit: Visit = Depends(console.visit), period: Period = "month", start: date | None = None, end: date | None = None,
                  steps: str = Query(FUNNEL_STEPS, max_length=2000), window_days: float = Query(7, gt=0, le=3660), segment: str = Query("", max_length=100)) -> Response:
        rows = answered(visit, name, period, start, end, steps, window_days, segment)
        query = visit.request.url.query
        now = distribution(visit.t, AnalyticsService(visit.platform, visit.caller).revenue(segment=segment or None).rows) if name == "lifecycle-flow" else None
        return console.page(visit, "dashboard.html", distribution=now, name=name, dashboards=DASHBOARDS, rows=rows, chart=chart(visit.t, name, rows),
                            params={"period": period, "start": start or "", "end": end or "", "steps": steps, "window_days": window_days, "segment": segment},
                            segments=segment_names(visit),
                            periodic=name in PERIODIC, dated=name in DATED, label=lambda text: label(visit.t, text), csv_url=f"/dashboards/{name}.csv" + (f"?{query}" if query else ""))

    return routes

