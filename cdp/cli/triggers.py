"""``cdp triggers list|show|dry-run|enable|disable``: outbound trigger rules (docs/triggers.md).
Each command calls ``TriggerService`` as the operator and prints the answer."""

import tomllib
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Optional

import orjson
import typer

from cdp.cli.options import ConfigFile, DataDir, RowFormat, out
from cdp.cli.render import print_rows
from cdp.config import load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.triggers import MAX_SAMPLE, TriggerService

triggers_app = typer.Typer(help="Trigger rules: care messages and staff alerts derived from the log, never sent twice.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="A trigger rule's name ([triggers.rules.NAME] in cdp.toml).")]


@triggers_app.command("list")
def list_triggers(fmt: RowFormat = "table", data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """The configured trigger rules, and which are enabled since when."""
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        rows = TriggerService(platform, operator()).list()
    print_rows(out, rows, fmt, "Triggers")


@triggers_app.command("show")
def show(name: Name, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """One rule as configured (JSON), with whether it is enabled."""
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        found = TriggerService(platform, operator()).get(name)
    out.print_json(orjson.dumps(found).decode())


@triggers_app.command("enable")
def enable(
    name: Name,
    backfill: Annotated[Optional[str], typer.Option("--backfill", metavar="SINCE", help="Also fire for causes since this date (YYYY-MM-DD, UTC) or time (ISO 8601); default: from now on only.", show_default=False)] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Enable a rule: causes from now on fire (with --backfill SINCE, causes since then too)."""
    since = moment(backfill, "--backfill") if backfill else None
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        done = TriggerService(platform, operator()).enable(name, since)
    extra = f"; {done['backfilled']} backfilled action(s) handed to the outbox" if since else ""
    out.print(f"{name}: enabled, causes from {done['start']} fire{extra}")


@triggers_app.command("disable")
def disable(name: Name, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Disable a rule (enabling it again starts it again, from then)."""
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        TriggerService(platform, operator()).disable(name)
    out.print(f"{name}: disabled")


@triggers_app.command("dry-run")
def dry_run(
    file: Annotated[Path, typer.Argument(help="A TOML file of trigger rules: [rules.NAME] tables (or a cdp.toml with a [triggers] section).")],
    since: Annotated[Optional[str], typer.Option("--since", help="From this date (YYYY-MM-DD, UTC) or time; default: 30 days before --until.", show_default=False)] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="To the end of this date or this time; default: now.", show_default=False)] = None,
    sample: Annotated[int, typer.Option(help="Show this many of the actions.", min=0, max=MAX_SAMPLE)] = 10,
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Who would have received what from these rules over a past period; nothing is sent."""
    end = moment(until, "--until", end_of_day=True) if until else datetime.now(UTC)
    start = moment(since, "--since") if since else end - timedelta(days=30)
    definition = _read_rules(file)
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        result = TriggerService(platform, operator()).dry_run(definition, start, end, sample)
    if fmt == "json":
        out.file.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    print_rows(out, result["rules"], fmt, f"Dry run {result['since']} to {result['until']}: {result['actions']} action(s), nothing sent")
    if result["sample"]:
        print_rows(out, result["sample"], fmt, "Sample")


def moment(text: str, option: str, end_of_day: bool = False) -> datetime:
    """A date (its start, or with ``end_of_day`` its end, UTC) or an ISO 8601 time (UTC unless it says)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise CdpError(f"{option}: expected a date like 2026-03-01 or a time like 2026-03-01T09:00:00Z, got {text!r}") from None
    if len(text) <= 10 and end_of_day:
        parsed = datetime.combine(parsed.date(), time.max)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _read_rules(file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise CdpError(f"cannot read {file}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CdpError(f"{file}: not valid TOML: {error}") from None
