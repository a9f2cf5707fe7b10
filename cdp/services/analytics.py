"""The marketer's analyses (funnel, retention, lifecycle flow, satisfaction, revenue, channels, SLA),
for every door: the ``analytics:read`` scope, the checks of their parameters (period, dates, funnel
steps and window), an audit record per analysis, and the chart file a CLI caller may ask for.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cdp.analytics import channels, charts, funnel, lifecycle_flow, retention, revenue, satisfaction, sla, topics
from cdp.analytics.chart_files import check_path, write_chart
from cdp.analytics.window import Window, window
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.services import Caller
from cdp.services.audited import audited
from cdp.warehouse import Warehouse

SCOPE = "analytics:read"
MAX_WINDOW_DAYS = 3660
MAX_TEXT = 200  # of a parameter kept in the audit log, and of one funnel step
Day = str | date | None  # a date, or its ISO text (``2025-10-01``); None: unbounded
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Analysis:
    rows: Rows
    chart: Path | None = None  # the file the rows were drawn to, if one was asked for


class AnalyticsService:
    """E.g. ``AnalyticsService(platform, caller).retention("week", "2025-10-01").rows``; with
    ``chart=Path("r.png")`` the rows are drawn to that file too (.html or .png, checked first)."""

    def __init__(self, platform: Platform, caller: Caller):
        self.platform, self.caller = platform, caller

    def funnel(self, steps: str, window_days: float = 7, start: Day = None, end: Day = None, chart: Path | None = None) -> Analysis:
        """``steps``: comma-separated event types, in order; each reached within ``window_days`` of the first."""
        names = [s.strip() for s in steps.split(",") if s.strip()]

        def work(w: Warehouse) -> Rows:
            if any(len(name) > MAX_TEXT for name in names):
                raise CdpError(f"steps: an event type has at most {MAX_TEXT} characters")
            if not 0 < window_days <= MAX_WINDOW_DAYS:
                raise CdpError(f"window_days: expected more than 0 and at most {MAX_WINDOW_DAYS}, got {window_days:g}")
            return funnel.funnel(w, names, window_days, window(start, end))

        return self._analyse("funnel", {"steps": steps, "window_days": window_days, "start": start, "end": end}, work, chart)

    def retention(self, period: str = "month", start: Day = None, end: Day = None, chart: Path | None = None) -> Analysis:
        """Cohorts by first-seen ``period`` (``start`` and ``end`` select the cohorts)."""
        return self._periodic("retention", retention.retention, period, start, end, chart)

    def lifecycle_flow(self, start: Day = None, end: Day = None, chart: Path | None = None) -> Analysis:
        return self._analyse("lifecycle-flow", {"start": start, "end": end}, lambda w: lifecycle_flow.lifecycle_flow(w, window(start, end)), chart)

    def satisfaction(self, period: str = "month", start: Day = None, end: Day = None, chart: Path | None = None) -> Analysis:
        return self._periodic("satisfaction", satisfaction.satisfaction_trend, period, start, end, chart)

    def topics(self, period: str = "month", start: Day = None, end: Day = None, chart: Path | None = None) -> Analysis:
        """Free-text feedback per topic (delivery, price, quality, ...) and period, with its sentiment."""
        return self._periodic("topics", topics.topic_trend, period, start, end, chart)

    def revenue(self, chart: Path | None = None) -> Analysis:
        return self._analyse("revenue", {}, revenue.revenue_by_stage_and_tier, chart)

    def channels(self, period: str = "month", start: Day = None, end: Day = None, chart: Path | None = None) -> Analysis:
        return self._periodic("channels", channels.channel_mix, period, start, end, chart)

    def sla(self, period: str = "month", start: Day = None, end: Day = None, chart: Path | None = None) -> Analysis:
        return self._periodic("sla", sla.sla_compliance, period, start, end, chart)

    def _periodic(self, name: str, analysis: Callable[[Warehouse, str, Window], Rows], period: str, start: Day, end: Day, chart: Path | None) -> Analysis:
        """An analysis by day, week or month (checked by ``cdp.analytics.window.truncate``)."""
        return self._analyse(name, {"period": period, "start": start, "end": end}, lambda w: analysis(w, period, window(start, end)), chart)

    def _analyse(self, name: str, params: dict[str, Any], work: Callable[[Warehouse], Rows], chart: Path | None) -> Analysis:
        """The scope and the chart file's name are checked before any query; ``work`` checks its
        parameters before its query; the whole is one audited read."""
        shown = {k: v if isinstance(v, int | float) else str(v)[:MAX_TEXT] for k, v in params.items() if v is not None}
        with audited(self.platform.audit, self.caller, "analytics.read", name, {"query": shown}):
            self.caller.require(SCOPE)
            if chart is not None:
                check_path(chart)
            rows = work(self.platform.warehouse)
            drawn = None if chart is None else write_chart(charts.BUILDERS[name](rows), chart)
        return Analysis(rows, drawn)
