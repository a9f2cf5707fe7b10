"""``cdp sources ...``, ``cdp connectors list`` and ``cdp deadletter ...``: where events come from
(``cdp.services.sources``). A write key is printed once, on its own stdout line."""

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from cdp.cli.access import print_secret
from cdp.cli.options import ConfigFile, DataDir, RowFormat, err, out
from cdp.cli.render import print_rows
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.sources import TRACKING, SourceService, installed_connectors

sources_app = typer.Typer(help="Sources and their write keys.", no_args_is_help=True)
deadletter_app = typer.Typer(help="Input kept because it could not become an event.", no_args_is_help=True)
connectors_app = typer.Typer(help="Connectors (built in, or from installed packages).", no_args_is_help=True)

SourceName = Annotated[str, typer.Argument(help="The source's name (see `cdp sources list`).")]


def _platform(data_dir: Path | None, config: Path | None) -> Platform:
    return Platform(load_settings(config, data_dir=data_dir))


@sources_app.command("add")
def sources_add(
    name: Annotated[str, typer.Argument(help="The source's name, e.g. web, shop, helpdesk.")],
    kind: Annotated[str, typer.Option("--kind", help="website, social, sales, service or survey.")],
    connector: Annotated[str, typer.Option("--connector", help="segment (the tracking API) or a webhook connector.")] = TRACKING,
    signing_secret: Annotated[Optional[str], typer.Option("--signing-secret", help="The tool's webhook signing secret.")] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Register a source and print its write key (shown only once)."""
    with _platform(data_dir, config) as platform:
        added, key = SourceService(platform, operator()).add(name, kind, connector, signing_secret)
    print_secret(f"source {added.name} ({added.kind}, {added.connector}) added. Its write key, shown only now:", key)


@sources_app.command("list")
def sources_list(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """List sources (write keys are stored hashed and cannot be shown)."""
    with _platform(data_dir, config) as platform:
        sources = SourceService(platform, operator()).sources()
    rows = [{"name": s.name, "kind": s.kind, "connector": s.connector, "signed": bool(s.signing_secret), "created_at": s.created_at, "rotated_at": s.rotated_at or "", "revoked_at": s.revoked_at or ""} for s in sources]
    print_rows(out, rows, "table", title="Sources")


@sources_app.command("rotate")
def sources_rotate(name: SourceName, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Give a source a new write key (printed once); the old key stops working now."""
    with _platform(data_dir, config) as platform:
        source, key = SourceService(platform, operator()).rotate(name)
    print_secret(f"source {source.name}: write key rotated; the old key no longer works. The new key, shown only now:", key)


@sources_app.command("revoke")
def sources_revoke(name: SourceName, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Revoke a source's write key (and forget its webhook signing secret); its events stay."""
    with _platform(data_dir, config) as platform:
        source = SourceService(platform, operator()).revoke(name)
    out.print(f"source {source.name}: write key revoked at {source.revoked_at}; nothing from it is accepted any more", markup=False, highlight=False)


@connectors_app.command("list")
def connectors_list() -> None:
    """List installed connectors: the tool each mirrors, its source kind and formats."""
    found = installed_connectors()
    print_rows(out, found.rows, "table", title="Connectors")
    for name, why in found.broken.items():
        err.print(f"connector {name} failed to load: {why}", markup=False, highlight=False)


@deadletter_app.command("list")
def deadletter_list(
    limit: Annotated[int, typer.Option(help="How many, newest first.", min=1)] = 50,
    source: Annotated[Optional[str], typer.Option(help="Only this source's.")] = None,
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """List dead letters, newest first."""
    with _platform(data_dir, config) as platform:
        kept = SourceService(platform, operator()).dead_letters(limit, source)
    rows = [{"id": d.id, "received_at": d.received_at, "source": d.source, "origin": d.origin, "replayed": bool(d.replayed_at), "reason": d.reason} for d in kept.letters]
    print_rows(out, rows, fmt, title=f"Dead letters ({kept.total:,} in all)")


@deadletter_app.command("show")
def deadletter_show(letter_id: Annotated[int, typer.Argument(help="The dead letter's id.")], data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Show one dead letter: where it came from, why, and its payload as received."""
    with _platform(data_dir, config) as platform:
        letter = SourceService(platform, operator()).dead_letter(letter_id)
    for label, value in (("id", letter.id), ("received_at", letter.received_at), ("source", letter.source), ("origin", letter.origin), ("reason", letter.reason), ("replayed_at", letter.replayed_at or "-")):
        out.print(f"{label:>12}: {value}", markup=False, highlight=False)
    sys.stdout.write("     payload:\n" + letter.payload.decode("utf-8", errors="backslashreplace") + "\n")


@deadletter_app.command("replay")
def deadletter_replay(
    ids: Annotated[Optional[list[int]], typer.Argument(help="Dead letter ids; none means every kept one.", show_default=False)] = None,
    source: Annotated[Optional[str], typer.Option(help="Only this source's.")] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Replay dead letters through the path that refused them (after a mapping or schema fix)."""
    with _platform(data_dir, config) as platform:
        report = SourceService(platform, operator()).replay(ids or None, source)
    for letter_id, reason in report.still_failing[:50]:
        err.print(f"dead letter {letter_id}: {reason}", markup=False, highlight=False)
    out.print(f"{len(report.replayed):,} replayed ({report.stored:,} events stored, {report.duplicates:,} already stored), {len(report.still_failing):,} still failing")
    if report.still_failing:
        raise typer.Exit(1)
