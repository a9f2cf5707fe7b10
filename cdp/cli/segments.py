"""``cdp segment ...``: define, save, size up and export segments. Each command calls
``SegmentService`` as the operator (every rule is there, shared with HTTP) and prints the answer."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer

from cdp.cli.options import ConfigFile, DataDir, RowFormat, out
from cdp.cli.render import print_rows
from cdp.config import load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.segments.consent import NO_PURPOSE
from cdp.segments.definition import read_definition
from cdp.services import operator
from cdp.services.segments import MAX_PAGE, SegmentService, Subject, columns_from

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


@contextmanager
def _service(data_dir: Path | None, config: Path | None) -> Iterator[SegmentService]:
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        yield SegmentService(platform, operator())


def _subject(name: str | None, file: str | None) -> Subject:
    if (name is None) == (file is None):
        raise CdpError("give a saved segment's name or --file DEFINITION, not both")
    return read_definition(file) if file else name


@segment_app.command("create")
def create(
    file: Annotated[str, typer.Argument(help="Definition file (YAML or JSON), or - for standard input.")],
    name: Annotated[Optional[str], typer.Option("--name", help="Save under this name instead of the file's.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Save as a new version of the saved segment of this name (`cdp segment show` lists the versions).")] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Validate a definition, save it, and print its size."""
    segment = read_definition(file, name)
    with _service(data_dir, config) as segments:
        saved = segments.update(segment.name, segment) if replace else segments.create(segment)
    version = f" (version {saved['version']})" if saved["version"] > 1 else ""
    out.print(f"saved segment {saved['name']}{version}: {saved['customers']:,} customers now")


@segment_app.command("list")
def list_(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Saved segments."""
    with _service(data_dir, config) as segments:
        print_rows(out, segments.list(), "table", title="segments")


@segment_app.command("show")
def show(name: Annotated[str, typer.Argument(help="A saved segment's name.")], fmt: RowFormat = "table", data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """A saved segment's definition now and every saved version (when, by whom; --format json: whole)."""
    with _service(data_dir, config) as segments:
        found = segments.get(name)
    if fmt == "json":
        out.file.write(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if fmt == "table":  # csv: the versions alone
        out.print(f"{found['name']} (version {found['version']}, created {found['created_at']}, updated {found['updated_at']}) {found['description']}".rstrip(), markup=False, highlight=False)
        out.print(orjson.dumps(found["definition"], option=orjson.OPT_INDENT_2).decode(), markup=False, highlight=False)
    history = [{"version": v["version"], "saved_at": v["saved_at"], "actor": v["actor"], "where": orjson.dumps(v["definition"]["where"]).decode()} for v in found["history"]]
    print_rows(out, history, fmt, title="versions")


@segment_app.command("delete")
def delete(name: Annotated[str, typer.Argument(help="A saved segment's name.")], data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Forget a saved segment and its versions."""
    with _service(data_dir, config) as segments:
        segments.delete(name)
    out.print(f"deleted segment {name}")


@segment_app.command("count")
def count(name: Name = None, file: DefinitionFile = None, purpose: PurposeOption = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """How many customers are in the segment now (with --purpose: how many may be contacted for it)."""
    subject = _subject(name, file)
    with _service(data_dir, config) as segments:
        started = time.perf_counter()
        size = segments.count(subject, purpose)
        elapsed = time.perf_counter() - started
    out.print(f"{size['segment']}: {size['customers']:,} customers ({elapsed * 1000:.0f} ms)")


@segment_app.command("members")
def members(
    name: Name = None,
    file: DefinitionFile = None,
    limit: Annotated[int, typer.Option(help="At most this many.", min=1, max=MAX_PAGE)] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many (by customer id).", min=0)] = 0,
    columns: Annotated[Optional[str], typer.Option(help="Comma-separated profile columns.")] = None,
    fmt: RowFormat = "table",
    purpose: PurposeOption = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """The segment's customers, by customer id."""
    subject = _subject(name, file)
    with _service(data_dir, config) as segments:
        rows = segments.members(subject, limit, offset, columns_from(columns), purpose)
    print_rows(out, rows, fmt, title=f"{name or subject.name} (from {offset + 1:,})")


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
    subject = _subject(name, file)
    with _service(data_dir, config) as segments:
        written = segments.export(subject, output, output.suffix.lstrip(".").lower(), purpose, columns_from(columns))
    consented = f" with consent to {purpose} in force and not suppressed" if purpose not in (None, NO_PURPOSE) else ""
    out.print(f"wrote {written:,} customers of {name or subject.name}{consented} to {output}")


@segment_app.command("fields")
def fields(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """The fields conditions may name, with their operators and, where they are known, their values."""
    with _service(data_dir, config) as segments:
        rows = [{**row, "operators": ", ".join(row["operators"]), "values": ", ".join(row["values"])} for row in segments.fields()]
    print_rows(out, rows, "table", title="segment fields (plus: trait, tag, event, consent and saved segment conditions; combine with all / any / not)")
