"""``cdp tags list|show|history|dry-run|apply``: tag definitions as data. Each command calls
``TagService`` as the operator (every rule is there, shared with HTTP and the console) and prints
the answer. A definitions file is TOML (what ``[tags]`` in cdp.toml holds), YAML or JSON."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from cdp.cli.options import ConfigFile, DataDir, RowFormat, out
from cdp.cli.render import print_rows
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.tags import MAX_SAMPLE, TagDefinitionInvalid, TagService, definitions_from_text

tags_app = typer.Typer(help="Tags: the rules in force, their history, and new definitions tried (dry-run) and applied without a rebuild.", no_args_is_help=True)

DefinitionsFile = Annotated[str, typer.Argument(help="Tag definitions: a TOML (as [tags] in cdp.toml), YAML or JSON file, or - for standard input (YAML or JSON).")]


@contextmanager
def _service(data_dir: Path | None, config: Path | None) -> Iterator[TagService]:
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        yield TagService(platform, operator())


def read_definitions(source: str) -> dict[str, Any]:
    """The mapping a definitions file holds; its problems name the file."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise TagDefinitionInvalid(f"{source}: {error.strerror}") from None
    return definitions_from_text(text, source, source.endswith(".toml"))


@tags_app.command("list")
def list_(fmt: RowFormat = "table", data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Every tag rule in force, in evaluation order, with where it comes from (built-in, configuration, or an applied version)."""
    with _service(data_dir, config) as tags:
        rows = tags.list()
    print_rows(out, rows, fmt)


@tags_app.command("show")
def show(tag: Annotated[str, typer.Argument(help="A tag's name.")], fmt: RowFormat = "table", data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """One tag: its rule in force, how many customers hold it now, and the versions that defined it."""
    with _service(data_dir, config) as tags:
        found = tags.show(tag)
    if fmt != "table":
        print_rows(out, [found], fmt)
        return
    print_rows(out, [{k: found[k] for k in ("tag", "origin", "customers", "conditions", "description")}], fmt)
    print_rows(out, [{"version": v["version"], "applied_at": v["applied_at"], "actor": v["actor"]} for v in found["versions"]], fmt, title="versions")


@tags_app.command("history")
def history(fmt: RowFormat = "table", data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Every applied version of the tag definitions, oldest first: what it set, when and by whom."""
    with _service(data_dir, config) as tags:
        versions = tags.history()
    if fmt == "table":
        versions = [{**v, "change": orjson.dumps(v["change"]).decode()} for v in versions]
    print_rows(out, versions, fmt)


@tags_app.command("dry-run")
def dry_run(
    file: DefinitionsFile,
    sample: Annotated[int, typer.Option(help="Customers to show per tag, who would gain and who would lose it.", min=0, max=MAX_SAMPLE)] = 10,
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Who would gain and who would lose each tag the definitions change, now and at each of the last 12 month ends; nothing is written."""
    change = read_definitions(file)
    with _service(data_dir, config) as tags:
        found = tags.dry_run(change, sample)
    if fmt == "json":
        out.file.write(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    now = [{"tag": t["tag"], "change": t["change"], **{k: v for k, v in (t["now"] or {}).items() if not k.endswith("_sample")}} for t in found["tags"]]
    print_rows(out, now, fmt, title=f"as of {found['as_of']} ({found['customers']:,} customers)")
    if fmt != "table":
        return
    for tag in found["tags"]:
        print_rows(out, tag["months"], fmt, title=f"{tag['tag']}: at each month's end")
        samples = [{"would": "gain", **row} for row in (tag["now"] or {}).get("gain_sample", [])] + [{"would": "lose", **row} for row in (tag["now"] or {}).get("lose_sample", [])]
        if samples:
            print_rows(out, samples, fmt, title=f"{tag['tag']}: a sample of customers, now")


@tags_app.command("apply")
def apply(file: DefinitionsFile, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Record the definitions as the next version and recompute the tag projection alone from the stored facts (no full rebuild)."""
    change = read_definitions(file)
    with _service(data_dir, config) as tags:
        applied = tags.apply(change)
    out.print(f"applied tag definitions version {applied['version']}: {', '.join(applied['tags'])}; {applied['customers']:,} customers retagged in {applied['seconds']:.2f} s", markup=False, highlight=False)
