"""``cdp segment ...``: define, save, size up and export segments."""

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from cdp.audit import cli_actor
from cdp.cli.options import ConfigFile, DataDir, RowFormat, out
from cdp.config import load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.cli.render import print_rows
from cdp.segments import evaluate
from cdp.segments.consent import NO_PURPOSE, ConsentScope, scope_for
from cdp.segments.definition import read_definition
from cdp.segments.fields import FIELDS, OPERATORS
from cdp.segments.model import Segment
from cdp.segments.values import check_values, known_values

segment_app = typer.Typer(help="Segments: customer groups defined without SQL (YAML or JSON), sized at once, exported.", no_args_is_help=True)

Name = Annotated[Optional[str], typer.Argument(help="A saved segment's name.", show_default=False)]
DefinitionFile = Annotated[Optional[str], typer.Option("--file", "-f", help="Use this definition file (YAML or JSON, - for stdin) instead of a saved segment.")]
PurposeOption = Annotated[
    Optional[str],
    typer.Option(
        "--purpose",
        help="Only customers with consent to this purpose in force now and not suppressed for it (email_marketing, sms_marketing, ...). "
        f"Required to list or export contact data (emails, phones, ...); {NO_PURPOSE} = internal analysis, no consent filter.",
    ),
]


def _platform(data_dir: Path | None, config: Path | None) -> Platform:
    return Platform(load_settings(config, data_dir=data_dir))


def _segment(platform: Platform, name: str | None, file: str | None) -> Segment:
    if (name is None) == (file is None):
        raise CdpError("give a saved segment's name or --file DEFINITION, not both")
    segment = read_definition(file) if file else platform.segments.get(name)
    return check_values(segment, known_values(platform.settings))


@segment_app.command("create")
def create(
    file: Annotated[str, typer.Argument(help="Definition file (YAML or JSON), or - for standard input.")],
    name: Annotated[Optional[str], typer.Option("--name", help="Save under this name instead of the file's.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite a saved segment of the same name.")] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Validate a definition, save it, and print its size."""
    segment = read_definition(file, name)
    with _platform(data_dir, config) as platform:
        check_values(segment, known_values(platform.settings))
        size = evaluate.count(platform.warehouse, segment, consent=ConsentScope(platform.settings.consent))
        platform.segments.save(segment, replace=replace)
    out.print(f"saved segment {segment.name}: {size:,} customers now")


@segment_app.command("list")
def list_(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Saved segments."""
    with _platform(data_dir, config) as platform:
        print_rows(out, platform.segments.list(), "table", title="segments")


@segment_app.command("delete")
def delete(name: Annotated[str, typer.Argument(help="A saved segment's name.")], data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Forget a saved segment."""
    with _platform(data_dir, config) as platform:
        platform.segments.delete(name)
    out.print(f"deleted segment {name}")


@segment_app.command("count")
def count(name: Name = None, file: DefinitionFile = None, purpose: PurposeOption = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """How many customers are in the segment now (with --purpose: how many may be contacted for it)."""
    with _platform(data_dir, config) as platform:
        segment = _segment(platform, name, file)
        scope = scope_for(platform.settings.consent, purpose, [])
        started = time.perf_counter()
        size = evaluate.count(platform.warehouse, segment, consent=scope)
        elapsed = time.perf_counter() - started
    out.print(f"{segment.name}: {size:,} customers ({elapsed * 1000:.0f} ms)")


@segment_app.command("members")
def members(
    name: Name = None,
    file: DefinitionFile = None,
    limit: Annotated[int, typer.Option(help="At most this many.", min=1)] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many (by customer id).", min=0)] = 0,
    columns: Annotated[Optional[str], typer.Option(help="Comma-separated profile columns.")] = None,
    fmt: RowFormat = "table",
    purpose: PurposeOption = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """The segment's customers, by customer id."""
    chosen = columns.split(",") if columns else evaluate.MEMBER_COLUMNS
    with _platform(data_dir, config) as platform:
        segment = _segment(platform, name, file)
        scope = scope_for(platform.settings.consent, purpose, chosen)
        rows = evaluate.members(platform.warehouse, segment, limit, offset, chosen, consent=scope)
        platform.audit.record(cli_actor(), "segment.members", segment.name, "ok", {"limit": limit, "offset": offset, "returned": len(rows), "purpose": scope.purpose})
    print_rows(out, rows, fmt, title=f"{segment.name} (from {offset + 1:,})")


@segment_app.command("export")
def export(
    name: Name = None,
    file: DefinitionFile = None,
    output: Annotated[Path, typer.Option("--out", "-o", help="File to write; .csv or .parquet.")] = Path("segment.csv"),
    columns: Annotated[Optional[str], typer.Option(help="Comma-separated profile columns.")] = None,
    purpose: PurposeOption = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Write every member to CSV or Parquet (by the file's extension); contact data needs --purpose."""
    fmt = output.suffix.lstrip(".").lower()
    chosen = columns.split(",") if columns else evaluate.MEMBER_COLUMNS
    with _platform(data_dir, config) as platform:
        segment = _segment(platform, name, file)
        scope = scope_for(platform.settings.consent, purpose, chosen)
        written = evaluate.export(platform.warehouse, segment, output, fmt, scope, chosen)
        platform.audit.record(cli_actor(), "segment.export", segment.name, "ok", {"customers": written, "file": output.name, "format": fmt, "purpose": scope.purpose})
    consented = f" with consent to {scope.purpose} in force and not suppressed" if scope.purpose else ""
    out.print(f"wrote {written:,} customers of {segment.name}{consented} to {output}")


@segment_app.command("fields")
def fields(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """The fields conditions may name, with their operators and, where they are known, their values."""
    known = known_values(load_settings(config, data_dir=data_dir))
    rows = [
        {"field": name, "kind": f.kind, "table": f.table.name, "operators": ", ".join(OPERATORS[f.kind]), "values": ", ".join(known.fields.get(name, ()))}
        for name, f in FIELDS.items()
    ]
    print_rows(out, rows, "table", title="segment fields (plus: trait, tag, event and consent conditions; combine with all / any / not)")
