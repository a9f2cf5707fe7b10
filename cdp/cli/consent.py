"""``cdp suppress add|remove|list``: the operator's side of the suppression list (``cdp.services.privacy``).

An entry takes effect when the runner processes its event (``cdp run``, or at once under ``cdp start``).
"""

from typing import Annotated, Optional

import typer

from cdp.cli.options import ConfigFile, DataDir, RowFormat, out
from cdp.cli.render import print_rows
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.privacy import PrivacyService
from schemas.payloads.consent import ALL_PURPOSES, PURPOSES

suppress_app = typer.Typer(help="The suppression list: identifiers never contacted or exported for a purpose (or all).", no_args_is_help=True)

Identifier = Annotated[str, typer.Argument(help="email:..., phone:... or user_id:... (a bare email or phone number is recognised).", show_default=False)]
PurposeOption = Annotated[str, typer.Option("--purpose", help=f"One of {', '.join(PURPOSES)}, or {ALL_PURPOSES}.")]
Note = Annotated[Optional[str], typer.Option("--note", help="Why, e.g. a ticket number; kept with the entry.")]


def _record(lift: bool, identifier: str, purpose: str, note: str | None, data_dir, config) -> None:
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        service = PrivacyService(platform, operator())
        (service.unsuppress if lift else service.suppress)(identifier, purpose, note)
    verb = "no longer suppressed" if lift else "suppressed"
    out.print(f"{identifier} {verb} for {purpose} (recorded in the event log; takes effect when the runner processes it: cdp run)")


@suppress_app.command("add")
def add(identifier: Identifier, purpose: PurposeOption = ALL_PURPOSES, note: Note = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Suppress an identifier for a purpose (default: all): its customer is left out of exports for it."""
    _record(False, identifier, purpose, note, data_dir, config)


@suppress_app.command("remove")
def remove(identifier: Identifier, purpose: PurposeOption = ALL_PURPOSES, note: Note = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Lift a suppression (the latest decision by time wins, so an older bounce arriving later stays lifted)."""
    _record(True, identifier, purpose, note, data_dir, config)


@suppress_app.command("list")
def list_(
    purpose: Annotated[Optional[str], typer.Option("--purpose", help="Only this purpose (entries for all are always shown).")] = None,
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Identifiers suppressed now, with purpose, reason, time and source."""
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        rows = PrivacyService(platform, operator()).suppressions(purpose)
    print_rows(out, rows, fmt, title="suppression list")
