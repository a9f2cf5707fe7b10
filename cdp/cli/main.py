"""The ``cdp`` command. Each command translates its arguments into a call on the platform."""

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from cdp import queries
from cdp.cli.access import audit_app, keys_app
from cdp.cli.activation import activation_app, audiences_app, deliveries_app, destinations_app
from cdp.cli.master_key import master_key_app
from cdp.cli.analytics import analytics_app
from cdp.cli.backup import backup_app, restore
from cdp.cli.churn import churn_app
from cdp.cli.consent import suppress_app
from cdp.cli.options import ConfigFile, DataDir, RowFormat, err, out
from cdp.cli.privacy import forget_command
from cdp.cli.quarantine import quarantine_app
from cdp.cli.rates import rates_app
from cdp.cli.recommend import recommend_command
from cdp.cli.render import ViewFormat, print_profile, print_rows
from cdp.cli.scaleout import scaleout_app
from cdp.cli.segments import segment_app
from cdp.cli.sources import connectors_app, deadletter_app, sources_app
from cdp.cli.triggers import triggers_app
from cdp.cli.tags import tags_app
from cdp.cli.value import value_app
from cdp.cli.warehouse import warehouse_app
from cdp.config import Settings, load_settings
from cdp.customers import Customers
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.runner import Progress as RunProgress
from cdp.services import operator
from cdp.services.ingest import IngestService
from cdp.services.profiles import MAX_TIMELINE, ProfileService
from cdp.warehouse.sandbox import QuerySandbox
from ingestion.jsonl import ImportReport, import_lines
from schemas.export import export_json_schemas

app = typer.Typer(help="An event-sourced customer data platform.", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
schemas_app = typer.Typer(help="Event schemas.", no_args_is_help=True)
app.add_typer(schemas_app, name="schemas")
app.add_typer(sources_app, name="sources")
app.add_typer(deadletter_app, name="deadletter")
app.add_typer(connectors_app, name="connectors")
projections_app = typer.Typer(help="Projections: rebuild from the first event.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
identity_app = typer.Typer(help="Identity resolution.", no_args_is_help=True)
app.add_typer(identity_app, name="identity")

def _settings(data_dir: Path | None, config: Path | None) -> Settings:
    return load_settings(config, data_dir=data_dir)


@app.command()
def ingest(
    file: Annotated[str, typer.Argument(help="JSON Lines file of event envelopes, or - for standard input.")],
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Store every valid line as an event; report each bad line (kept in the dead-letter store)."""
    with Platform(_settings(data_dir, config)) as platform:
        service = IngestService(platform, operator())
        if file == "-":
            report = service.ingest_lines(sys.stdin.buffer, "stdin")
        else:
            path = Path(file)
            with _ProgressBar("ingest", path.stat().st_size if path.is_file() else None, bytes_=True) as (progress, task):
                report = service.ingest_file(path, lambda n: progress.advance(task, n))
    _print_import(report, file)
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def run(
    follow: Annotated[bool, typer.Option("--follow", help="Keep processing new events until interrupted.")] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Process pending events into the projections and the warehouse."""
    with Platform(_settings(data_dir, config)) as platform:
        processed = _process(platform, follow)
        quarantined = platform.quarantine.count()
    out.print(f"processed {processed:,} events" + _quarantined(quarantined))


@app.command()
def profile(
    identifier: Annotated[str, typer.Argument(help="Customer id, email, phone, user id, anonymous id, or platform:handle.")],
    fmt: Annotated[ViewFormat, typer.Option("--format", help="table, or json: the whole view.")] = ViewFormat.table,
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Show the profile as it stood at the end of this date (e.g. 2025-10-31), replayed from its events.")] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Show a customer's 360° profile: identifiers, traits, lifecycle, tags, value, satisfaction, tickets, churn risk, loyalty, consent, segments (now, or --as-of a past date)."""
    with Platform(_settings(data_dir, config)) as platform:
        service = ProfileService(platform, operator())
        views = service.profile_as_of(identifier, as_of) if as_of else [service.profile(identifier)]
    if as_json or fmt == ViewFormat.json:
        sys.stdout.write(orjson.dumps(views[0] if len(views) == 1 else views, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    for view in views:
        print_profile(out, view)


@app.command()
def timeline(
    identifier: Annotated[str, typer.Argument(help="Customer id, email, phone, user id, anonymous id, or platform:handle.")],
    limit: Annotated[int, typer.Option(help="How many events, newest first.", min=1, max=MAX_TIMELINE)] = 100,
    before: Annotated[Optional[int], typer.Option(help="Only events before this log position (the next page: the last position shown).", min=0, max=2**63 - 1)] = None,
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Show a customer's events (and those of customers merged into it), newest first, properties as JSON."""
    with Platform(_settings(data_dir, config)) as platform:
        rows = ProfileService(platform, operator()).timeline(identifier, limit, before)
    print_rows(out, rows, fmt, title="timeline, newest first")
    if len(rows) == limit:
        err.print(f"next page: --before {rows[-1]['position']}", markup=False, highlight=False)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One ClickHouse SELECT over the cdp database, e.g. \"SELECT count() FROM cdp.events\".")],
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Run one SELECT on the warehouse (writes, files, the network and settings are refused)."""
    with Platform(_settings(data_dir, config)) as platform:
        rows = QuerySandbox(platform.query_warehouse).query(query)
    print_rows(out, rows, fmt)


EndDate = Annotated[
    Optional[datetime],
    typer.Option("--end", formats=["%Y-%m-%d"], help="The first day after the data (YYYY-MM-DD): a given day gives the same data every time [default: today, UTC].", show_default=False),
]


@app.command()
def demo(
    customers: Annotated[int, typer.Option(help="How many synthetic customers.", min=1)] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 7,
    end: EndDate = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Generate a year of multi-channel data up to today, ingest and process it like real data, and summarise."""
    from cdp.frontdoor import cdp_command, reaching_cdp
    from cdp.workload import generate

    settings = _settings(data_dir, config)
    with Platform(settings) as platform:
        lines = (orjson.dumps(event) for event in generate(customers, seed=seed, end=end and end.date()))
        with _ProgressBar("generate + ingest", None, bytes_=True) as (progress, task):
            report = import_lines(lines, platform, "demo", settings.batch_size, lambda n: progress.advance(task, n))
        _print_import(report, "demo")
        _process(platform, follow=False)
        _print_summary(platform)
    command = cdp_command()
    sys.stdout.write(f"\nData is in {settings.data_dir}/. Try: {command} sql \"SELECT lifecycle_stage, count() FROM cdp.profiles FINAL GROUP BY 1\"\n{reaching_cdp(command)}")  # unwrapped, so it copies and pastes


@app.command()
def generate(
    events: Annotated[Optional[int], typer.Option(help="Exactly this many events (e.g. 100000, 1000000, 10000000).", min=1)] = None,
    customers: Annotated[Optional[int], typer.Option(help="Instead of --events: every event of this many customers.", min=1)] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same events.")] = 7,
    end: EndDate = None,
    output: Annotated[str, typer.Option("--out", help="JSON Lines file to write, or - for standard output.")] = "-",
) -> None:
    """Write a synthetic multi-channel workload (a year up to --end) as JSON Lines (the demo's generator)."""
    from cdp.workload import generate as generate_customers
    from cdp.workload import generate_events

    if (events is None) == (customers is None):
        raise CdpError("give exactly one of --events N or --customers N")
    last = end and end.date()
    stream = generate_events(events, seed=seed, end=last) if events is not None else generate_customers(customers, seed=seed, end=last)
    handle = sys.stdout.buffer if output == "-" else open(output, "wb")  # noqa: SIM115
    written = 0
    with handle:
        for event in stream:
            handle.write(orjson.dumps(event) + b"\n")
            written += 1
    err.print(f"wrote {written:,} events")


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Interface to listen on [default: collector.host, 127.0.0.1].", show_default=False)] = None,
    port: Annotated[Optional[int], typer.Option(help="Port [default: collector.port, 8088].", show_default=False)] = None,
    follow: Annotated[bool, typer.Option("--follow/--no-follow", help="Run the embedded runner on new events.")] = True,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Run the collector (Segment-compatible HTTP API and webhooks) until interrupted."""
    from cdp.api.server import serve as run_server

    settings = _settings(data_dir, config)
    host, port = _listen_address(settings, host, port)
    with Platform(settings) as platform:
        _print_endpoints(platform, host, port)
        run_server(platform, host, port, follow, on_error=_print_error)


@app.command()
def start(
    host: Annotated[Optional[str], typer.Option(help="Interface to listen on [default: collector.host].", show_default=False)] = None,
    port: Annotated[Optional[int], typer.Option(help="Port [default: collector.port, 8088].", show_default=False)] = None,
    customers: Annotated[int, typer.Option(help="Demo customers to load into an empty store.", min=1)] = 2_000,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Start the platform: demo data (a year up to today), a demo source, the collector and the runner following new events."""
    from cdp import frontdoor
    from cdp.api.server import serve as run_server

    settings = _settings(data_dir, config)
    host, port = _listen_address(settings, host, port)
    with Platform(settings) as platform:
        loaded = frontdoor.load_demo_data(platform, customers, seed=7)
        if loaded is not None:
            _print_import(loaded, "demo")
        try:
            key = frontdoor.demo_write_key(platform)
        except LookupError as error:
            raise CdpError(str(error)) from None
        sys.stdout.write(frontdoor.instructions(f"http://{host}:{port}", key))  # unwrapped, so it copies and pastes
        sys.stdout.flush()
        run_server(platform, host, port, follow=True, on_error=_print_error)


def _listen_address(settings: Settings, host: str | None, port: int | None) -> tuple[str, int]:
    """The collector's address: the options, else the configured ones."""
    return host or settings.collector.host, settings.collector.port if port is None else port


def _print_error(message: str) -> None:
    err.print(f"error: {message}", markup=False, highlight=False)


@app.command("import")
def import_(
    connector: Annotated[str, typer.Argument(help="Connector name (see `cdp connectors list`).")],
    file: Annotated[Path, typer.Argument(help="The tool's export: CSV or JSON Lines.")],
    source: Annotated[str, typer.Option("--source", help="The source (see `cdp sources list`) the records come from.")],
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Import a tool's export file through its connector; bad records are kept as dead letters."""
    with Platform(_settings(data_dir, config)) as platform:
        report = IngestService(platform, operator()).import_file(connector, file, source)
    _print_import(report, file.name)
    if report.rejected:
        raise typer.Exit(1)


@schemas_app.command("export")
def schemas_export(directory: Annotated[Path, typer.Argument(help="Where to write the JSON Schema files.")]) -> None:
    """Write the JSON Schema of the envelope and of every event type."""
    written = export_json_schemas(directory)
    out.print(f"wrote {len(written)} JSON Schema files to {directory}/")


@projections_app.command("rebuild")
def projections_rebuild(
    names: Annotated[Optional[list[str]], typer.Argument(help="Projections to rebuild (identity, profile, lifecycle, tags, value, satisfaction, service, churn, loyalty); all when none.")] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Recompute projections from the first event (after a configuration change, e.g. undoing a merge)."""
    from cdp.rebuild import rebuild

    with Platform(_settings(data_dir, config)) as platform:
        processed = rebuild(platform, names or [])
        quarantined = platform.quarantine.count()
    out.print(f"rebuilt {', '.join(names) if names else 'all projections'} from {processed:,} events" + _quarantined(quarantined))


@identity_app.command("explain")
def identity_explain(
    identifier: Annotated[str, typer.Argument(help="Customer id, email, phone, user id, anonymous id, or platform:handle.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Show which events joined which identifiers into the customer, the merges and the refused joins."""
    from cdp.identity_explain import explain

    settings = _settings(data_dir, config)
    with Platform(settings) as platform:
        found = Customers(platform.warehouse).resolve_all(identifier)
        if not found:
            raise CdpError(f"no customer has the identifier {identifier!r} (has `cdp run` processed the events?)")
        explained = [explain(platform.warehouse, customer, settings.identity) for customer in found]
    if as_json:
        sys.stdout.write(orjson.dumps(explained, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    for e in explained:
        out.print(f"customer {e['customer_id']}" + (f" (merged in: {', '.join(e['customers_merged_in'])})" if e["customers_merged_in"] else ""))
        print_rows(out, e["identifiers"], "table", title="identifiers, by the event that first named them")
        if e["merges"]:
            print_rows(out, [{k: v for k, v in m.items() if k not in ("reason_code", "reason_params")} for m in e["merges"]], "table", title="merges")  # the reason in words; --json has its code
        if e["refusals"]:
            print_rows(out, e["refusals"], "table", title="joins refused by the identity limits")


def _process(platform: Platform, follow: bool) -> int:
    position, last = platform.runner.pending()
    with _ProgressBar("process", max(last - position, 0)) as (progress, task):

        def show(p: RunProgress) -> None:
            progress.update(task, completed=p.processed, total=max(p.last_position - position, p.processed))

        try:
            return platform.runner.run(follow=follow, on_progress=show)
        except KeyboardInterrupt:
            return progress.tasks[0].completed


def _quarantined(count: int) -> str:
    return f"; {count:,} quarantined, skipped (cdp quarantine list)" if count else ""


def _print_endpoints(platform: Platform, host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    out.print(f"collector listening on {base}  (OpenAPI: {base}/docs, health: {base}/health)", markup=False, highlight=False)
    sources = platform.sources.list()
    out.print(f"sources: {', '.join(s.name for s in sources) or 'none yet: cdp sources add web --kind website'}", markup=False, highlight=False)
    out.print(f"read API: {base}/v1/profiles/ID, /v1/segments, /v1/analytics/... with 'Authorization: Bearer KEY' (cdp keys create NAME --scope admin)", markup=False, highlight=False)
    out.print(f"console: {base}/ (sign in with a read key)", markup=False, highlight=False)


def _print_import(report: ImportReport, origin: str) -> None:
    for line, reason in report.rejected[:50]:
        err.print(f"{origin}:{line}: {reason}", markup=False, highlight=False)
    if len(report.rejected) > 50:
        err.print(f"... and {len(report.rejected) - 50:,} more bad lines (see the dead-letter store)")
    out.print(f"{report.lines:,} lines: {report.stored:,} stored, {report.duplicates:,} already stored, {len(report.rejected):,} rejected")


def _print_summary(platform: Platform) -> None:
    warehouse = platform.warehouse
    print_rows(out, queries.events_per_source(warehouse), "table", title="Events per source")
    print_rows(out, queries.customers_per_stage(warehouse), "table", title="Customers per lifecycle stage")
    customer = queries.most_connected_customer(warehouse)
    if customer:
        out.print("\nOne unified profile:")
        print_profile(out, queries.profile(warehouse, customer))


class _ProgressBar:
    """A progress bar on stderr (hidden when stderr is not a terminal)."""

    def __init__(self, description: str, total: int | None, bytes_: bool = False):
        speed = [TransferSpeedColumn()] if bytes_ else [MofNCompleteColumn()]
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), *speed, TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal)
        self.task = self.progress.add_task(description, total=total)

    def __enter__(self):
        self.progress.start()
        return self.progress, self.task

    def __exit__(self, *_: object) -> None:
        self.progress.stop()


app.add_typer(segment_app, name="segment")
app.add_typer(analytics_app, name="analytics")
app.add_typer(churn_app, name="churn")
app.add_typer(backup_app, name="backup")
app.command("restore")(restore)
app.add_typer(suppress_app, name="suppress")
app.add_typer(warehouse_app, name="warehouse")
app.command("forget")(forget_command)
app.add_typer(keys_app, name="keys")
app.add_typer(master_key_app, name="master-key")
app.add_typer(audit_app, name="audit")
app.add_typer(scaleout_app)
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(value_app, name="value")
app.add_typer(rates_app, name="rates")
app.add_typer(triggers_app, name="triggers")
app.add_typer(destinations_app, name="destinations")
app.add_typer(audiences_app, name="audiences")
app.add_typer(deliveries_app, name="deliveries")
app.add_typer(activation_app, name="activation")
app.add_typer(tags_app, name="tags")
app.command("recommend")(recommend_command)


def main() -> None:
    try:
        app()  # exits itself; usage errors get the usual usage message and exit code 2
    except CdpError as error:
        err.print(f"error: {error}", markup=False, highlight=False)
        sys.exit(2)
    except Exception as error:  # the last line of defence: one clear line, never a traceback
        if os.environ.get("CDP_DEBUG"):
            raise
        err.print(f"error: unexpected {type(error).__name__}: {error} (set CDP_DEBUG=1 for details)", markup=False, highlight=False)
        sys.exit(1)
