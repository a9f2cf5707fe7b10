"""``cdp analytics ...``: the marketer analyses as tables (or JSON / CSV), and as charts (HTML or PNG)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from cdp.analytics import channels, charts, funnel, lifecycle_flow, retention, revenue, satisfaction, sla
from cdp.analytics.chart_files import check_path, write_chart
from cdp.analytics.window import window
from cdp.cli.options import ConfigFile, DataDir, RowFormat, out
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.cli.render import print_rows

analytics_app = typer.Typer(help="Marketer analytics: funnel, retention, lifecycle flow, satisfaction, revenue, channels, SLA.", no_args_is_help=True)

Start = Annotated[Optional[str], typer.Option("--from", help="From this date (UTC, inclusive), e.g. 2025-10-01.")]
End = Annotated[Optional[str], typer.Option("--to", help="Up to this date (UTC, exclusive).")]
PeriodOption = Annotated[str, typer.Option("--period", help="day, week or month.")]
ChartFile = Annotated[Optional[Path], typer.Option("--chart", help="Also draw the result to this file: .html (interactive) or .png.")]


def _show(data_dir: Path | None, config: Path | None, title: str, fmt: str, analysis, chart: Path | None, name: str) -> None:
    if chart is not None:
        check_path(chart)
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        rows = analysis(platform.warehouse)
    print_rows(out, rows, fmt, title=title)
    if chart is not None:
        out.print(f"chart: {write_chart(charts.BUILDERS[name](rows), chart)}", highlight=False)


@analytics_app.command("funnel")
def funnel_(
    steps: Annotated[str, typer.Option(help="Comma-separated event types, in order.")] = "page_viewed,product_viewed,product_added_to_cart,order_placed",
    window_days: Annotated[float, typer.Option(help="Each step within this many days of the first.", min=0.001)] = 7,
    start: Start = None, end: End = None, fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None,
) -> None:
    """Customers reaching each step in order (windowFunnel)."""
    names = [s.strip() for s in steps.split(",") if s.strip()]
    _show(data_dir, config, f"funnel, {window_days:g}-day window", fmt, lambda w: funnel.funnel(w, names, window_days, window(start, end)), chart, "funnel")


@analytics_app.command("retention")
def retention_(period: PeriodOption = "month", start: Start = None, end: End = None, fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Cohorts by first-seen period (--from/--to select cohorts): active customers 0, 1, 2 ... periods later."""
    _show(data_dir, config, f"retention by {period} cohort", fmt, lambda w: retention.retention(w, period, window(start, end)), chart, "retention")


@analytics_app.command("lifecycle-flow")
def lifecycle_flow_(start: Start = None, end: End = None, fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Stage changes between two dates: from → to, customers."""
    _show(data_dir, config, "lifecycle flow", fmt, lambda w: lifecycle_flow.lifecycle_flow(w, window(start, end)), chart, "lifecycle-flow")


@analytics_app.command("satisfaction")
def satisfaction_(period: PeriodOption = "month", start: Start = None, end: End = None, fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """NPS, CSAT and CSI per period."""
    _show(data_dir, config, f"satisfaction by {period}", fmt, lambda w: satisfaction.satisfaction_trend(w, period, window(start, end)), chart, "satisfaction")


@analytics_app.command("revenue")
def revenue_(fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Revenue by lifecycle stage and value tier."""
    _show(data_dir, config, "revenue by lifecycle stage and tier", fmt, revenue.revenue_by_stage_and_tier, chart, "revenue")


@analytics_app.command("channels")
def channels_(period: PeriodOption = "month", start: Start = None, end: End = None, fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Events per source kind and period, with shares."""
    _show(data_dir, config, f"channel mix by {period}", fmt, lambda w: channels.channel_mix(w, period, window(start, end)), chart, "channels")


@analytics_app.command("sla")
def sla_(period: PeriodOption = "month", start: Start = None, end: End = None, fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Ticket SLA compliance per period and channel."""
    _show(data_dir, config, f"SLA compliance by {period}", fmt, lambda w: sla.sla_compliance(w, period, window(start, end)), chart, "sla")
