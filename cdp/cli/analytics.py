"""``cdp analytics ...``: the marketer analyses as tables (or JSON / CSV), and as charts (HTML or PNG)."""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from cdp.cli.options import ConfigFile, DataDir, RowFormat, out
from cdp.cli.render import print_rows
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.analytics import Analysis, AnalyticsService

analytics_app = typer.Typer(help="Marketer analytics: funnel, retention, lifecycle flow, satisfaction, revenue (and its trend), channels, SLA.", no_args_is_help=True)

Start = Annotated[Optional[str], typer.Option("--from", help="From this date (UTC, inclusive), e.g. 2025-10-01.")]
End = Annotated[Optional[str], typer.Option("--to", help="Up to this date (UTC, exclusive).")]
PeriodOption = Annotated[str, typer.Option("--period", help="day, week or month.")]
SegmentName = Annotated[Optional[str], typer.Option("--segment", help="Only the customers of this saved segment (as they are now).")]
Breakdown = Annotated[Optional[str], typer.Option("--breakdown", help="channel (source kind), source (utm_source) or campaign (utm_campaign).")]
ChartFile = Annotated[Optional[Path], typer.Option("--chart", help="Also draw the result to this file: .html (interactive) or .png.")]


def show_analysis(data_dir: Path | None, config: Path | None, title: str, fmt: str, analyse: Callable[[AnalyticsService], Analysis]) -> None:
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        analysis = analyse(AnalyticsService(platform, operator()))
    print_rows(out, analysis.rows, fmt, title=title)
    if analysis.chart is not None:
        out.print(f"chart: {analysis.chart}", highlight=False)


@analytics_app.command("funnel")
def funnel_(
    steps: Annotated[str, typer.Option(help="Comma-separated event types, in order.")] = "page_viewed,product_viewed,product_added_to_cart,order_placed",
    window_days: Annotated[float, typer.Option(help="Each step within this many days of the first.", min=0.001)] = 7,
    start: Start = None, end: End = None, segment: SegmentName = None, breakdown: Breakdown = None,
    fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None,
) -> None:
    """Customers reaching each step in order (windowFunnel); --breakdown by the first step's event."""
    show_analysis(data_dir, config, f"funnel, {window_days:g}-day window", fmt,
          lambda s: s.funnel(steps, window_days, start, end, chart, segment=segment, breakdown=breakdown))


@analytics_app.command("retention")
def retention_(period: PeriodOption = "month", start: Start = None, end: End = None, segment: SegmentName = None, fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Cohorts by first-seen period (--from/--to select cohorts): active customers 0, 1, 2 ... periods later."""
    show_analysis(data_dir, config, f"retention by {period} cohort", fmt, lambda s: s.retention(period, start, end, chart, segment=segment))


@analytics_app.command("lifecycle-flow")
def lifecycle_flow_(start: Start = None, end: End = None, segment: SegmentName = None, fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Stage changes between two dates: from → to, customers."""
    show_analysis(data_dir, config, "lifecycle flow", fmt, lambda s: s.lifecycle_flow(start, end, chart, segment=segment))


@analytics_app.command("satisfaction")
def satisfaction_(period: PeriodOption = "month", start: Start = None, end: End = None, segment: SegmentName = None, fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """NPS, CSAT and CSI per period."""
    show_analysis(data_dir, config, f"satisfaction by {period}", fmt, lambda s: s.satisfaction(period, start, end, chart, segment=segment))


@analytics_app.command("topics")
def topics_(period: PeriodOption = "month", start: Start = None, end: End = None, segment: SegmentName = None, fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Free-text feedback per topic (delivery, price, quality, service, ...) and period: texts, positive, neutral, negative."""
    show_analysis(data_dir, config, f"feedback topics by {period}", fmt, lambda s: s.topics(period, start, end, chart, segment=segment))


@analytics_app.command("revenue")
def revenue_(start: Start = None, end: End = None, segment: SegmentName = None, fmt: RowFormat = "table", chart: ChartFile = None,
             data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Revenue by lifecycle stage and value tier (with --from/--to: of the purchases between them)."""
    show_analysis(data_dir, config, "revenue by lifecycle stage and tier", fmt, lambda s: s.revenue(chart, start=start, end=end, segment=segment))


@analytics_app.command("revenue-trend")
def revenue_trend_(period: PeriodOption = "month", start: Start = None, end: End = None, segment: SegmentName = None, breakdown: Breakdown = None,
                   fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Purchases, revenue and refunds per period and currency (as sent)."""
    show_analysis(data_dir, config, f"revenue by {period}", fmt,
          lambda s: s.revenue_trend(period, start, end, chart, segment=segment, breakdown=breakdown))


@analytics_app.command("channels")
def channels_(period: PeriodOption = "month", start: Start = None, end: End = None, segment: SegmentName = None, breakdown: Breakdown = None, fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Events per source kind and period, with shares (--breakdown source or campaign)."""
    show_analysis(data_dir, config, f"channel mix by {period}", fmt, lambda s: s.channels(period, start, end, chart, segment=segment, breakdown=breakdown))


@analytics_app.command("sla")
def sla_(period: PeriodOption = "month", start: Start = None, end: End = None, segment: SegmentName = None, fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Ticket SLA compliance per period and channel."""
    show_analysis(data_dir, config, f"SLA compliance by {period}", fmt, lambda s: s.sla(period, start, end, chart, segment=segment))
