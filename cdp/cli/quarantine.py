"""``cdp quarantine list|replay``: the events the embedded runner could not read or project
(``cdp.services.quarantine``). The runner keeps going without them (``cdp.quarantine``); after a
fix of the code or the configuration, ``replay`` processes them again, as events arriving now.
"""

from typing import Annotated, Optional

import typer

from cdp.cli.options import ConfigFile, DataDir, RowFormat, err, out
from cdp.cli.render import print_rows
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.quarantine import QuarantineService

quarantine_app = typer.Typer(help="Events the runner could not read or project, kept aside; replay them after a fix.", no_args_is_help=True)


@quarantine_app.command("list")
def list_(
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """List quarantined events in log order: position, event id, the error, when, attempts."""
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        rows = QuarantineService(platform, operator()).entries()
    print_rows(out, rows, fmt, title=f"Quarantined events ({len(rows):,})")


@quarantine_app.command("replay")
def replay(
    positions: Annotated[Optional[list[int]], typer.Argument(help="Log positions of quarantined events; none means all.", show_default=False)] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Process quarantined events again (after a fix); those that now succeed leave the quarantine."""
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        result = QuarantineService(platform, operator()).replay(positions or None)
    for entry in result.shown:
        err.print(f"position {entry.position}: {entry.error}", markup=False, highlight=False)
    out.print(f"{result.replayed:,} replayed, {result.failing:,} still failing")
    if result.failing:
        raise typer.Exit(1)
