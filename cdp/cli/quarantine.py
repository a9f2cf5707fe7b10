"""``cdp quarantine list|replay``: the events the embedded runner could not read or project.

The runner keeps going without them (``cdp.quarantine``); after a fix of the code or the
configuration, ``replay`` processes them again, as events arriving now. On the scale-out
deployment, ``list`` also shows the relay's and the workers' quarantine (in PostgreSQL). Errors
are kept sealed with the event's data key and opened here (``cdp.privacy.sealed_errors``).
"""

from dataclasses import asdict
from typing import Annotated, Optional

import typer

from cdp.cli.options import ConfigFile, DataDir, RowFormat, err, out
from cdp.config import Settings, load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.privacy.sealed_errors import opened
from cdp.cli.render import print_rows

quarantine_app = typer.Typer(help="Events the runner could not read or project, kept aside; replay them after a fix.", no_args_is_help=True)


@quarantine_app.command("list")
def list_(
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """List quarantined events in log order: position, event id, the error, when, attempts."""
    settings = load_settings(config, data_dir=data_dir)
    with Platform(settings) as platform:
        entries = platform.quarantine.list()
        if _scaleout(settings):  # the relay's and the workers' (their error says which)
            from cdp.scaleout.state import connect, quarantined

            db = connect(settings.event_store.postgres)
            try:
                entries += quarantined(db)
            finally:
                db.close()
        rows = [asdict(entry) for entry in opened(platform.events.sealer, entries)]
    print_rows(out, rows, fmt, title=f"Quarantined events ({len(rows):,})")


@quarantine_app.command("replay")
def replay(
    positions: Annotated[Optional[list[int]], typer.Argument(help="Log positions of quarantined events; none means all.", show_default=False)] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Process quarantined events again (after a fix); those that now succeed leave the quarantine."""
    settings = load_settings(config, data_dir=data_dir)
    if _scaleout(settings):
        raise CdpError("replay works on the embedded runner's quarantine; on the scale-out deployment, `cdp quarantine list` shows the relay's and the workers'")
    with Platform(settings) as platform:
        kept = platform.quarantine.list(positions or None)
        unknown = sorted(set(positions or ()) - {q.position for q in kept})
        if unknown:
            raise CdpError(f"position {unknown[0]} is not quarantined (cdp quarantine list)")
        failing = platform.runner.retry(q.position for q in kept)
        shown = opened(platform.events.sealer, failing[:50])
    for entry in shown:
        err.print(f"position {entry.position}: {entry.error}", markup=False, highlight=False)
    out.print(f"{len(kept) - len(failing):,} replayed, {len(failing):,} still failing")
    if failing:
        raise typer.Exit(1)


def _scaleout(settings: Settings) -> bool:
    from cdp.scaleout.state import relay_has_run

    return settings.event_store.backend == "postgres" and relay_has_run(settings.event_store.postgres)
