"""What each analysis looks like as a picture: a small chart description built from its rows.

A ``Chart`` is plain data (categories along x, named series of values); ``chart_files`` draws it
to HTML or PNG. Every builder takes the rows its analysis returns.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["bars", "stacked", "lines", "heatmap"]
FIRST_SEEN = "(first seen)"


@dataclass(frozen=True)
class Chart:
    title: str
    kind: Kind  # heatmap: each series is one row of cells, top to bottom
    x: list[str]
    series: dict[str, list[float | None]] = field(default_factory=dict)  # one value per x; None = no value
    x_title: str = ""
    y_title: str = ""


def funnel(rows: list[dict[str, Any]]) -> Chart:
    named = [r | {"label": f"{r['step']}. {r['event_type']}", "group": r.get("breakdown", "customers") or "(none)"} for r in rows]
    return _pivot("Funnel: customers reaching each step", "bars", named, "label", "group", "customers", "step", "customers")


def retention(rows: list[dict[str, Any]]) -> Chart:
    offsets = sorted({r["offset"] for r in rows})
    return Chart("Retention: % of each cohort active N periods later", "heatmap", [str(o) for o in offsets],
                 _matrix(rows, "cohort", "offset", "pct", offsets), "periods after the first", "cohort")


def lifecycle_flow(rows: list[dict[str, Any]]) -> Chart:
    targets = sorted({r["to_stage"] for r in rows})
    named = [r | {"from_stage": r["from_stage"] or FIRST_SEEN} for r in rows]
    return Chart("Lifecycle flow: customers moving from a stage (row) to a stage (column)", "heatmap", targets,
                 _matrix(named, "from_stage", "to_stage", "customers", targets), "to stage", "from stage")


def satisfaction(rows: list[dict[str, Any]]) -> Chart:
    return Chart("Satisfaction trend", "lines", [str(r["period"]) for r in rows],
                 {"NPS": [r["nps"] for r in rows], "CSAT % satisfied": [r["csat_pct"] for r in rows], "CSI (average)": [r["csi"] for r in rows]},
                 "period", "score")


def revenue(rows: list[dict[str, Any]]) -> Chart:
    return _pivot("Revenue by lifecycle stage and value tier", "bars", rows, "lifecycle_stage", "tier", "revenue", "lifecycle stage", "revenue")


def revenue_trend(rows: list[dict[str, Any]]) -> Chart:
    named = [r | {"series": " · ".join(str(r[k]) or "(none)" for k in ("breakdown", "currency") if k in r)} for r in rows]
    return _pivot("Revenue over time (per currency, as sent)", "lines", named, "period", "series", "revenue", "period", "revenue")


def channels(rows: list[dict[str, Any]]) -> Chart:
    named = [r | {"series": " · ".join(str(r[k]) or "(none)" for k in ("source_kind", "breakdown") if k in r)} for r in rows]
    return _pivot("Channel mix: events per source kind", "stacked", named, "period", "series", "events", "period", "events")


def sla(rows: list[dict[str, Any]]) -> Chart:
    response = _pivot("", "lines", rows, "period", "channel", "response_in_time_pct", "", "")
    resolved = _pivot("", "lines", rows, "period", "channel", "resolved_in_time_pct", "", "")
    return Chart("SLA compliance per channel", "lines", response.x,
                 {**{f"{c}: responded in time %": v for c, v in response.series.items()},
                  **{f"{c}: resolved in time %": v for c, v in resolved.series.items()}}, "period", "% of decided tickets")


def topics(rows: list[dict[str, Any]]) -> Chart:
    return _pivot("Feedback topics: free texts per topic", "stacked", rows, "period", "topic", "texts", "period", "texts")


def churn_backtest(rows: list[dict[str, Any]]) -> Chart:
    return Chart("Churn warnings backtest: precision and recall per sign", "bars", [r["reason"] for r in rows],
                 {"precision %": [r["precision_pct"] for r in rows], "recall %": [r["recall_pct"] for r in rows],
                  "base rate %": [r["base_rate_pct"] for r in rows]}, "warning sign", "%")


BUILDERS: dict[str, Callable[[list[dict[str, Any]]], Chart]] = {
    "funnel": funnel, "retention": retention, "lifecycle-flow": lifecycle_flow, "satisfaction": satisfaction,
    "revenue": revenue, "revenue-trend": revenue_trend, "channels": channels, "sla": sla, "topics": topics, "churn-backtest": churn_backtest,
}


def _pivot(title: str, kind: Kind, rows: list[dict[str, Any]], x: str, name: str, value: str, x_title: str, y_title: str) -> Chart:
    xs = list(dict.fromkeys(str(r[x]) for r in rows))
    return Chart(title, kind, xs, _matrix([r | {x: str(r[x])} for r in rows], name, x, value, xs), x_title, y_title)


def _matrix(rows: list[dict[str, Any]], row_key: str, column_key: str, value: str, columns: list) -> dict[str, list[float | None]]:
    cells = {(str(r[row_key]), r[column_key]): r[value] for r in rows}
    names = list(dict.fromkeys(str(r[row_key]) for r in rows))
    return {n: [cells.get((n, c)) for c in columns] for n in names}
