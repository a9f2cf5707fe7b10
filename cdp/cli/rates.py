"""``cdp rates load|missing``: exchange rates to the reporting currency (``cdp.services.rates``).

Loading rates changes how amounts convert, not what is already projected: the command says when
``cdp projections rebuild`` is due (docs/operations.md, "Currencies").
"""

from pathlib import Path
from typing import Annotated

import typer

from cdp.cli.options import ConfigFile, DataDir, RowFormat, out
from cdp.cli.render import print_rows
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.rates import RateService

rates_app = typer.Typer(help="Exchange rates to the reporting currency: load them, and see the sales none converts.", no_args_is_help=True)


@rates_app.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="CSV with the header date,currency,rate: one unit of currency is rate units of the reporting currency on date.")],
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Store dated exchange rates (a rate given again for a day replaces the old one)."""
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        report = RateService(platform, operator()).load(file)
    out.print(f"{report.rows:,} rates to {report.reporting} read, {report.changed:,} new or changed")
    if report.rebuild_needed:
        out.print("Events already projected keep their old conversion: restart `cdp serve` if it runs, then run `cdp projections rebuild`.")


@rates_app.command("missing")
def missing(
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Sales in a currency with no rate for their day: counted as purchases, with no amount."""
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        rows = [vars(u) for u in RateService(platform, operator()).missing()]
    print_rows(out, rows, fmt, title=f"Currencies without a rate ({len(rows):,})")
    if rows:
        raise typer.Exit(1)
