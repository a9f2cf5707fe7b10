"""The marketer's analyses (funnel, retention, lifecycle flow, satisfaction, revenue and its trend,
channels, SLA), for every door: the ``analytics:read`` scope, the checks of their parameters (period,
dates, segment, breakdown, funnel steps and window), an audit record per analysis, and the chart file
a CLI caller may ask for.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cdp.analytics import channels, charts, churn_backtest, funnel, lifecycle_flow, retention, revenue, satisfaction, sla, topics
from cdp.analytics.chart_files import check_path, write_chart
from cdp.analytics.filters import PERSONAL_BREAKDOWNS, Members
from cdp.analytics.window import window
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.refusals import refusal
from cdp.segments import evaluate
from cdp.segments.store import NoSuchSegment
from cdp.services import Caller, NotFound
from cdp.services.audited import audited
from cdp.warehouse import Warehouse
from projections.churn import LEVELS

SCOPE = "analytics:read"
MAX_WINDOW_DAYS = 3660
BACKTEST_DAYS = 90  # the default period of a churn backtest
MAX_TEXT = 200  # of a parameter kept in the audit log, and of one funnel step
Day = str | date | None  # a date, or its ISO text (``2025-10-01``); None: unbounded
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Analysis:
    rows: Rows
    chart: Path | None = None  # the file the rows were drawn to, if one was asked for


class AnalyticsService:
    """E.g. ``AnalyticsService(platform, caller).retention("week", "2025-10-01").rows``; with
    ``chart=Path("r.png")`` the rows are drawn to that file too (.html or .png, checked first).

    Every analysis also takes ``segment`` (a saved segment's name: only its customers now count) and,
    where events carry one, ``breakdown`` (``channel``, ``source`` or ``campaign``, see
    ``cdp.analytics.filters``), keyword arguments after the ones above."""

    def __init__(self, platform: Platform, caller: Caller):
        self.platform, self.caller = platform, caller

    def funnel(self, steps: str, window_days: float = 7, start: Day = None, end: Day = None, chart: Path | None = None, *,
               segment: str | None = None, breakdown: str | None = None) -> Analysis:
        """``steps``: comma-separated event types, in order; each reached within ``window_days`` of the first.
        ``breakdown``: by the value on the customer's first step-1 event."""
        names = [s.strip() for s in steps.split(",") if s.strip()]

        def work(w: Warehouse) -> Rows:
            if any(len(name) > MAX_TEXT for name in names):
                raise refusal(CdpError, "step_too_long", most=MAX_TEXT)
            if not 0 < window_days <= MAX_WINDOW_DAYS:
                raise refusal(CdpError, "window_days_range", most=MAX_WINDOW_DAYS, given=f"{window_days:g}")
            return funnel.funnel(w, names, window_days, window(start, end), self._members(w, segment), breakdown)

        params = {"steps": steps, "window_days": window_days, "start": start, "end": end, "segment": segment, "breakdown": breakdown}
        return self._analyse("funnel", params, work, chart)

    def retention(self, period: str = "month", start: Day = None, end: Day = None, chart: Path | None = None, *, segment: str | None = None) -> Analysis:
        """Cohorts by first-seen ``period`` (``start`` and ``end`` select the cohorts)."""
        return self._periodic("retention", retention.retention, period, start, end, chart, segment)

    def lifecycle_flow(self, start: Day = None, end: Day = None, chart: Path | None = None, *, segment: str | None = None) -> Analysis:
        return self._analyse("lifecycle-flow", {"start": start, "end": end, "segment": segment},
                             lambda w: lifecycle_flow.lifecycle_flow(w, window(start, end), self._members(w, segment)), chart)

    def satisfaction(self, period: str = "month", start: Day = None, end: Day = None, chart: Path | None = None, *, segment: str | None = None) -> Analysis:
        return self._periodic("satisfaction", satisfaction.satisfaction_trend, period, start, end, chart, segment)

    def topics(self, period: str = "month", start: Day = None, end: Day = None, chart: Path | None = None, *, segment: str | None = None) -> Analysis:
        """Free-text feedback per topic (delivery, price, quality, ...) and period, with its sentiment."""
        return self._periodic("topics", topics.topic_trend, period, start, end, chart, segment)

    def revenue(self, chart: Path | None = None, *, start: Day = None, end: Day = None, segment: str | None = None) -> Analysis:
        """By lifecycle stage and value tier now: all revenue, or with ``start``/``end`` that of the purchases between them."""
        def work(w: Warehouse) -> Rows:
            dates = None if start is None and end is None else window(start, end)
            return revenue.revenue_by_stage_and_tier(w, dates, self._members(w, segment))

        return self._analyse("revenue", {"start": start, "end": end, "segment": segment}, work, chart)

    def revenue_trend(self, period: str = "month", start: Day = None, end: Day = None, chart: Path | None = None, *,
                      segment: str | None = None, breakdown: str | None = None) -> Analysis:
        """Purchases, revenue and refunds per ``period`` and currency."""
        return self._periodic("revenue-trend", revenue.revenue_trend, period, start, end, chart, segment, breakdown)

    def channels(self, period: str = "month", start: Day = None, end: Day = None, chart: Path | None = None, *,
                 segment: str | None = None, breakdown: str | None = None) -> Analysis:
        """``breakdown``: ``source`` or ``campaign`` (the channel is the mix's own dimension)."""
        return self._periodic("channels", channels.channel_mix, period, start, end, chart, segment, breakdown)

    def sla(self, period: str = "month", start: Day = None, end: Day = None, chart: Path | None = None, *, segment: str | None = None) -> Analysis:
        """Per the ticket's channel already (phone, email, chat, ...)."""
        return self._periodic("sla", sla.sla_compliance, period, start, end, chart, segment)

    def churn_backtest(self, start: Day = None, end: Day = None, within_days: int = 90, level: str = "medium", chart: Path | None = None) -> Analysis:
        """The warnings raised from ``start`` to ``end`` checked against who churned within ``within_days``
        (``cdp.analytics.churn_backtest``). Their outcome must be in the data: ``end`` defaults to
        ``within_days`` before the latest event time, ``start`` to ``BACKTEST_DAYS`` before ``end``."""
        def work(w: Warehouse) -> Rows:
            if not 1 <= within_days <= MAX_WINDOW_DAYS:
                raise refusal(CdpError, "within_days_range", most=MAX_WINDOW_DAYS, given=within_days)
            if level not in LEVELS[1:]:
                raise refusal(CdpError, "warning_level", given=level[:50])
            data_end = evaluate.data_as_of(w)
            latest = data_end - timedelta(days=within_days)  # the last warning whose outcome is known
            until = window(None, end).end if end is not None else latest.replace(hour=0, minute=0, second=0, microsecond=0)
            period = window(start if start is not None else until - timedelta(days=BACKTEST_DAYS), until)
            if period.end > latest:
                raise refusal(CdpError, "backtest_end", end=period.end.date().isoformat(), within_days=within_days,
                              data_end=f"{data_end:%Y-%m-%d %H:%M}", latest=latest.date().isoformat())
            return churn_backtest.backtest(w, period, within_days, level)

        return self._analyse("churn-backtest", {"start": start, "end": end, "within_days": within_days, "level": level}, work, chart)

    def _periodic(self, name: str, analysis: Callable[..., Rows], period: str, start: Day, end: Day, chart: Path | None,
                  segment: str | None, breakdown: str | None = None) -> Analysis:
        """An analysis by day, week or month (checked by ``cdp.analytics.window.truncate``); ``breakdown``
        is passed only to the analyses that take one."""
        def work(w: Warehouse) -> Rows:
            extra = {} if breakdown is None else {"breakdown": breakdown}
            return analysis(w, period, window(start, end), self._members(w, segment), **extra)

        return self._analyse(name, {"period": period, "start": start, "end": end, "segment": segment, "breakdown": breakdown}, work, chart)

    def _members(self, warehouse: Warehouse, segment: str | None) -> Members | None:
        """The customers of the saved segment ``segment`` now, as SQL (its values checked by the store, against the rules in force)."""
        if segment is None:
            return None
        try:
            definition = self.platform.segments.get(segment)
        except NoSuchSegment as missing:
            raise refusal(NotFound, "segment_missing", **missing.params) from None
        return Members.of(evaluate.compiled(warehouse, definition))

    def _analyse(self, name: str, params: dict[str, Any], work: Callable[[Warehouse], Rows], chart: Path | None) -> Analysis:
        """The scope and the chart file's name are checked before any query; ``work`` checks its
        parameters before its query; the whole is one audited read."""
        shown = {k: v if isinstance(v, int | float) else str(v)[:MAX_TEXT] for k, v in params.items() if v is not None}
        with audited(self.platform.audit, self.caller, "analytics.read", name, {"query": shown}):
            self.caller.require(SCOPE)
            if (breakdown := params.get("breakdown")) in PERSONAL_BREAKDOWNS:
                self.caller.may_test_personal_data([f"breakdown {breakdown}"])
            if chart is not None:
                check_path(chart)
            rows = work(self.platform.warehouse)
            drawn = None if chart is None else write_chart(charts.BUILDERS[name](rows), chart)
        return Analysis(rows, drawn)
