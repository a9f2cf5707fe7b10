"""``cdp suppress add|remove|list``: the operator's side of the suppression list.

An operator's entry is an event in the log (``identifier_suppressed`` / ``identifier_unsuppressed``
from the source ``operator``), so it survives a rebuild and has a time and an author like any
other fact; it takes effect when the runner processes it (``cdp run``, or at once under ``cdp start``).
"""

import re
from datetime import UTC, datetime
from typing import Annotated, Optional

import typer

from cdp.cli.options import ConfigFile, DataDir, RowFormat, out
from cdp.config import load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.cli.render import print_rows
from ingestion.validation import Invalid, validate
from projections.tables import suppressions
from schemas import Envelope
from schemas.payloads.consent import ALL_PURPOSES, PURPOSES, SUPPRESSED_IDENTIFIERS

suppress_app = typer.Typer(help="The suppression list: identifiers never contacted or exported for a purpose (or all).", no_args_is_help=True)

OPERATOR_SOURCE = "operator"
Identifier = Annotated[str, typer.Argument(help="email:..., phone:... or user_id:... (a bare email or phone number is recognised).", show_default=False)]
PurposeOption = Annotated[str, typer.Option("--purpose", help=f"One of {', '.join(PURPOSES)}, or {ALL_PURPOSES}.")]
Note = Annotated[Optional[str], typer.Option("--note", help="Why, e.g. a ticket number; kept with the entry.")]
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{4,}$")


def parse_identifier(text: str) -> tuple[str, str]:
    """``email:ann@example.com`` → ("email", "ann@example.com"); a bare email or phone number is recognised."""
    kind, sep, value = text.partition(":")
    if sep and kind in SUPPRESSED_IDENTIFIERS:
        return kind, value
    if "@" in text:
        return "email", text
    if _PHONE.match(text):
        return "phone", text
    raise CdpError(f"identifier: {text!r} is not email:..., phone:... or user_id:... (nor a bare email or phone number)")


def operator_event(event_type: str, identifier: str, purpose: str, note: str | None, at: datetime) -> Envelope:
    """The validated event an operator's command records."""
    kind, value = parse_identifier(identifier)
    stamp = at.strftime("%Y%m%dT%H%M%S%fZ")
    envelope = {
        "message_id": f"{event_type}-{kind}:{value}-{purpose}-{stamp}",
        "event_type": event_type,
        "source_kind": "service",
        "source_name": OPERATOR_SOURCE,
        "occurred_at": at,
        "identifiers": {kind: value},
        "properties": {"purpose": purpose, "reason": "operator", **({"note": note} if note else {})},
    }
    try:
        return validate(envelope, at)
    except Invalid as error:
        raise CdpError(str(error)) from None


def _record(event_type: str, identifier: str, purpose: str, note: str | None, data_dir, config) -> None:
    event = operator_event(event_type, identifier, purpose, note, datetime.now(UTC))
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        platform.append([event])
    verb = "suppressed" if event_type == "identifier_suppressed" else "no longer suppressed"
    out.print(f"{identifier} {verb} for {purpose} (recorded in the event log; takes effect when the runner processes it: cdp run)")


@suppress_app.command("add")
def add(identifier: Identifier, purpose: PurposeOption = ALL_PURPOSES, note: Note = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Suppress an identifier for a purpose (default: all): its customer is left out of exports for it."""
    _record("identifier_suppressed", identifier, purpose, note, data_dir, config)


@suppress_app.command("remove")
def remove(identifier: Identifier, purpose: PurposeOption = ALL_PURPOSES, note: Note = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Lift a suppression (the latest decision by time wins, so an older bounce arriving later stays lifted)."""
    _record("identifier_unsuppressed", identifier, purpose, note, data_dir, config)


@suppress_app.command("list")
def list_(
    purpose: Annotated[Optional[str], typer.Option("--purpose", help="Only this purpose (entries for all are always shown).")] = None,
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Identifiers suppressed now, with purpose, reason, time and source."""
    if purpose is not None and purpose not in (*PURPOSES, ALL_PURPOSES):
        raise CdpError(f"--purpose: {purpose!r} is not one of {', '.join(PURPOSES)} or {ALL_PURPOSES}")
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        w = platform.warehouse
        where = "suppressed = 1" + ("" if purpose is None else " AND purpose IN ({purpose:String}, {all:String})")
        rows = w.query(
            f"SELECT identifier, purpose, reason, since, source_name AS source, note, customer_id FROM `{w.database}`.`{suppressions.TABLE.name}` FINAL "
            f"WHERE {where} ORDER BY identifier, purpose",
            {} if purpose is None else {"purpose": purpose, "all": ALL_PURPOSES},
        )
    print_rows(out, rows, fmt, title="suppression list")
