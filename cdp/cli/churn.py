"""``cdp churn backtest``: the churn warnings of a past period checked against who churned."""

from typing import Annotated

import typer

from cdp.cli.analytics import ChartFile, End, Start, show_analysis
from cdp.cli.options import ConfigFile, DataDir, RowFormat

churn_app = typer.Typer(help="Churn early warning: how good the warnings were.", no_args_is_help=True)


@churn_app.command("backtest")
def backtest(
    start: Start = None, end: End = None,
    within_days: Annotated[int, typer.Option("--within-days", help="A warning is right when its customer churned within this many days.")] = 90,
    level: Annotated[str, typer.Option("--level", help="The warnings counted: rises to medium (and high), or to high only.")] = "medium",
    fmt: RowFormat = "table", chart: ChartFile = None, data_dir: DataDir = None, config: ConfigFile = None,
) -> None:
    """Warnings raised from --from to --to (default: the 90 days ending --within-days before the data's
    end): how many of those customers churned within --within-days (precision), how many churners had
    been warned (recall), lift over the base rate; overall and per warning sign."""
    show_analysis(data_dir, config, f"churn warnings backtest, churn within {within_days} days", fmt,
                  lambda s: s.churn_backtest(start, end, within_days, level, chart))


