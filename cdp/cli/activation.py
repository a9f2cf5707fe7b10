"""``cdp destinations``, ``cdp audiences``, ``cdp deliveries`` and ``cdp activation dispatch``:
the CLI door of ``cdp.services.activation`` (docs/activation.md)."""

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any, Optional

import orjson
import typer

from cdp.cli.options import ConfigFile, DataDir, RowFormat, err, out
from cdp.cli.render import print_rows
from cdp.config import load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.activation import ActivationService
from cdp.services.segments import columns_from

destinations_app = typer.Typer(help="Destinations: where actions and audiences are sent (webhook, smtp, teamchat, file, kafka).", no_args_is_help=True)
audiences_app = typer.Typer(help="Audiences: a saved segment bound to a destination, synced as who entered and who left.", no_args_is_help=True)
deliveries_app = typer.Typer(help="The delivery log: every action, its state and attempts; dead letters replayed.", invoke_without_command=True)
activation_app = typer.Typer(help="Activation: the dispatcher that delivers actions.", no_args_is_help=True)


def _service(platform: Platform) -> ActivationService:
    return ActivationService(platform, operator())


def _platform(data_dir: Path | None, config: Path | None) -> Platform:
    return Platform(load_settings(config, data_dir=data_dir))


@destinations_app.command("add")
def destinations_add(
    name: Annotated[str, typer.Argument(help="The destination's name.")],
    kind: Annotated[str, typer.Option("--kind", help="webhook, smtp, teamchat, file or kafka (see `cdp destinations kinds`).")],
    settings_file: Annotated[Optional[Path], typer.Option("--settings", help="A JSON file of the kind's settings (templates, ...).")] = None,
    values: Annotated[Optional[list[str]], typer.Option("--set", help="One setting as KEY=VALUE (VALUE read as JSON when it parses, else as text); repeatable.")] = None,
    allow_private: Annotated[bool, typer.Option("--allow-private", help="May reach loopback and private addresses (never link-local or metadata ones).")] = False,
    secret_env: Annotated[Optional[str], typer.Option("--secret-env", help="Read the secret from this environment variable.")] = None,
    secret_stdin: Annotated[bool, typer.Option("--secret-stdin", help="Read the secret from standard input (its first line; several lines for teamchat).")] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Add a destination; its secret (never a command-line argument, which other users can see) is stored encrypted."""
    settings = _settings(settings_file, values or [])
    if allow_private:
        settings["allow_private"] = True
    secret = _secret(secret_env, secret_stdin, kind)
    with _platform(data_dir, config) as platform:
        added = _service(platform).add_destination(name, kind, settings, secret)
    out.print(f"destination {added['name']} ({added['kind']}) added; secret: {added['secret']}. Try it: cdp destinations test {added['name']}", markup=False, highlight=False)


@destinations_app.command("list")
def destinations_list(fmt: RowFormat = "table", data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Configured destinations with their settings (secrets never shown)."""
    with _platform(data_dir, config) as platform:
        rows = _service(platform).destinations()
    print_rows(out, [{**r, "settings": orjson.dumps(r["settings"]).decode()} for r in rows] if fmt != "json" else rows, fmt, title="destinations")


@destinations_app.command("kinds")
def destinations_kinds(fmt: RowFormat = "table", data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Installed destination kinds (entry points cdp.destinations) and what they need."""
    with _platform(data_dir, config) as platform:
        print_rows(out, _service(platform).kinds(), fmt, title="destination kinds")


@destinations_app.command("test")
def destinations_test(
    name: Annotated[str, typer.Argument(help="The destination's name.")],
    to: Annotated[Optional[str], typer.Option("--to", help="For smtp: the address the test email goes to.")] = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Send one test message now (not kept in the outbox)."""
    with _platform(data_dir, config) as platform:
        result = _service(platform).test_destination(name, to)
    out.print(f"test message {result['action_id']} {'delivered' if result['delivered'] else 'sent'}: {result['detail']}", markup=False, highlight=False)


@destinations_app.command("remove")
def destinations_remove(name: Annotated[str, typer.Argument(help="The destination's name.")], data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Remove a destination and its secret (actions still pending for it become dead letters)."""
    with _platform(data_dir, config) as platform:
        _service(platform).remove_destination(name)
    out.print(f"destination {name} removed", markup=False, highlight=False)


@audiences_app.command("bind")
def audiences_bind(
    name: Annotated[str, typer.Argument(help="The binding's name.")],
    segment: Annotated[str, typer.Option("--segment", help="A saved segment (cdp segment list).")],
    destination: Annotated[str, typer.Option("--destination", help="A destination (cdp destinations list).")],
    purpose: Annotated[str, typer.Option("--purpose", help="The consent purpose checked at send time (email_marketing, ...), or none for fields that reach nobody.")],
    fields: Annotated[Optional[str], typer.Option("--fields", help="Comma-separated profile columns to send with each customer who entered (e.g. emails,lifecycle_stage).")] = None,
    template: Annotated[str, typer.Option("--template", help="The destination's template to use (smtp, teamchat).")] = "",
    channel: Annotated[str, typer.Option("--channel", help="What the messages count as for frequency caps (email, webhook, ...).")] = "audience",
    every_minutes: Annotated[int, typer.Option("--every-minutes", help="Sync on this schedule while the dispatcher runs; 0: on demand only.")] = 0,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Bind a segment to a destination; `cdp audiences sync NAME` (or the schedule) sends who entered and who left."""
    with _platform(data_dir, config) as platform:
        bound = _service(platform).bind(name, segment, destination, purpose, columns_from(fields) or [], template, channel, every_minutes)
    out.print(f"audience {bound['name']}: segment {bound['segment']} → {bound['destination']} (purpose {bound['purpose']}). Check it: cdp audiences dry-run {bound['name']}", markup=False, highlight=False)


@audiences_app.command("list")
def audiences_list(fmt: RowFormat = "table", data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Audience bindings and their last sync."""
    with _platform(data_dir, config) as platform:
        rows = _service(platform).bindings()
    print_rows(out, rows, fmt, title="audiences")


@audiences_app.command("sync")
def audiences_sync(name: Annotated[str, typer.Argument(help="The binding's name.")], data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Queue who entered and who left the segment since the last sync (the dispatcher sends them)."""
    with _platform(data_dir, config) as platform:
        result = _service(platform).sync(name)
    out.print(f"audience {name}: {result['entered']:,} entered, {result['left']:,} left; {result['actions_added']:,} actions queued (cdp activation dispatch --once sends them)", markup=False, highlight=False)


@audiences_app.command("dry-run")
def audiences_dry_run(name: Annotated[str, typer.Argument(help="The binding's name.")], fmt: RowFormat = "table", data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Who the next sync would send, and who would be skipped now and why, without sending anything."""
    with _platform(data_dir, config) as platform:
        result = _service(platform).dry_run(name)
    rows = result["actions"] if fmt == "json" else [{**r, "fields": orjson.dumps(r["fields"]).decode()} for r in result["actions"]]
    print_rows(out, rows, fmt, title=f"audience {name}: {result['entered']:,} would enter, {result['left']:,} would leave (nothing sent)")


@audiences_app.command("unbind")
def audiences_unbind(name: Annotated[str, typer.Argument(help="The binding's name.")], data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Remove a binding (the actions it queued stay in the delivery log)."""
    with _platform(data_dir, config) as platform:
        _service(platform).unbind(name)
    out.print(f"audience {name} unbound", markup=False, highlight=False)


@deliveries_app.callback()
def deliveries(
    context: typer.Context,
    customer: Annotated[Optional[str], typer.Option("--customer", help="Only this customer (id or any identifier).")] = None,
    status: Annotated[Optional[str], typer.Option("--status", help="pending, sending, sent, delivered, skipped or dead.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.", min=1, max=10_000)] = 100,
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """The delivery log, newest first (subcommands: replay, attempts)."""
    if context.invoked_subcommand is not None:
        return
    with _platform(data_dir, config) as platform:
        rows = _service(platform).deliveries(customer, status, limit)
    print_rows(out, rows, fmt, title="deliveries, newest first")


@deliveries_app.command("attempts")
def deliveries_attempts(action_id: Annotated[str, typer.Argument(help="An action id from the delivery log.")], fmt: RowFormat = "table", data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Every attempt of one action and how it ended."""
    with _platform(data_dir, config) as platform:
        rows = _service(platform).attempts(action_id)
    print_rows(out, rows, fmt, title=f"attempts of {action_id}")


@deliveries_app.command("replay")
def deliveries_replay(
    action_ids: Annotated[Optional[list[str]], typer.Argument(help="Dead letters to send again (action ids).")] = None,
    all_dead: Annotated[bool, typer.Option("--all", help="Every dead letter.")] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Send dead letters again: back to pending with their attempts reset (the dispatcher sends them)."""
    if bool(action_ids) == all_dead:
        raise CdpError("give action ids or --all (not both)")
    with _platform(data_dir, config) as platform:
        replayed = _service(platform).replay(None if all_dead else action_ids)
    out.print(f"{replayed:,} dead letters back to pending", markup=False, highlight=False)


@activation_app.command("dispatch")
def dispatch(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit.")] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Deliver due actions and run scheduled audience syncs, until interrupted (or --once)."""
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _platform(data_dir, config) as platform:
            report = _service(platform).dispatch(once, stop.is_set, lambda message: err.print(f"error: {message}", markup=False, highlight=False))
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    shown = ", ".join(f"{n:,} {outcome}" for outcome, n in sorted(report.outcomes.items())) or "nothing due"
    out.print(f"dispatched {report.claimed:,} actions: {shown}", markup=False, highlight=False)


def _settings(settings_file: Path | None, values: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if settings_file is not None:
        try:
            settings = orjson.loads(settings_file.read_bytes())
        except OSError as error:
            raise CdpError(f"--settings: cannot read {settings_file}: {error.strerror}") from None
        except orjson.JSONDecodeError as error:
            raise CdpError(f"--settings: {settings_file} is not JSON: {error}") from None
        if not isinstance(settings, dict):
            raise CdpError(f"--settings: {settings_file} must hold a JSON object")
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise CdpError(f"--set: expected KEY=VALUE, got {value[:100]!r}")
        try:
            settings[key] = orjson.loads(text)
        except orjson.JSONDecodeError:
            settings[key] = text
    return settings


def _secret(env: str | None, stdin: bool, kind: str) -> str | None:
    if env and stdin:
        raise CdpError("give the secret by --secret-env or --secret-stdin, not both")
    if env:
        if env not in os.environ:
            raise CdpError(f"--secret-env: the environment variable {env} is not set")
        return os.environ[env]
    if stdin:
        text = sys.stdin.read()
        return text.strip() if kind == "teamchat" else text.splitlines()[0].strip() if text.strip() else ""
    return None
