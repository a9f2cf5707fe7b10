"""``cdp keys ...`` and ``cdp audit``: who may read, and what they did (``cdp.services.access``).

Every key change is written to the audit log as ``cli:<os user>``. A key's secret is printed once,
on its own line on stdout (so scripts can capture it), and never stored or listed.
"""

import sys
from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer

from cdp.cli.options import ConfigFile, DataDir, RowFormat, err, out
from cdp.cli.render import print_rows
from cdp.config import load_settings
from cdp.keys import SCOPES, ReadKey
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.access import AccessService

keys_app = typer.Typer(help="Read keys for the HTTP read API, with scopes: " + ", ".join(SCOPES) + ".", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log: reads, exports, key changes, forgetting, refused requests.", invoke_without_command=True)

KeyName = Annotated[str, typer.Argument(help="The key's name, e.g. bi-dashboard.")]


def _platform(data_dir: Path | None, config: Path | None) -> Platform:
    return Platform(load_settings(config, data_dir=data_dir))


def print_secret(intro: str, secret: str) -> None:
    """``intro`` on the console, then the secret alone on its own stdout line (for scripts)."""
    out.print(intro, markup=False, highlight=False)
    sys.stdout.write(secret + "\n")


@keys_app.command("create")
def keys_create(
    name: KeyName,
    scopes: Annotated[list[str], typer.Option("--scope", help=f"Repeat for each scope: {', '.join(SCOPES)} (admin implies all).")],
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Create a read key and print it (shown only now)."""
    with _platform(data_dir, config) as platform:
        key, token = AccessService(platform, operator()).create_key(name, scopes)
    print_secret(f"read key {key.name} ({', '.join(key.scopes)}) created. Send it as 'Authorization: Bearer <key>'; shown only now:", token)


@keys_app.command("list")
def keys_list(fmt: RowFormat = "table", data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """List read keys (their secrets are stored hashed and cannot be shown)."""
    with _platform(data_dir, config) as platform:
        rows = [_key_row(k) for k in AccessService(platform, operator()).keys()]
    print_rows(out, rows, fmt, title="Read keys")


@keys_app.command("rotate")
def keys_rotate(name: KeyName, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Give a read key a new secret (printed once); the old secret stops working now."""
    with _platform(data_dir, config) as platform:
        key, token = AccessService(platform, operator()).rotate_key(name)
    print_secret(f"read key {key.name} rotated; the old secret no longer works. The new key, shown only now:", token)


@keys_app.command("revoke")
def keys_revoke(name: KeyName, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Revoke a read key for good."""
    with _platform(data_dir, config) as platform:
        key = AccessService(platform, operator()).revoke_key(name)
    out.print(f"read key {key.name} revoked at {key.revoked_at}", markup=False, highlight=False)


@audit_app.callback()
def audit_list(
    ctx: typer.Context,
    since: Annotated[Optional[str], typer.Option("--since", help="From this time: 2025-10-01, 2025-10-01T12:00, or 30m / 12h / 7d ago.")] = None,
    actor: Annotated[Optional[str], typer.Option("--actor", help="Only this actor, e.g. key:bi-dashboard or cli:ana.")] = None,
    action: Annotated[Optional[str], typer.Option("--action", help="Only this action, e.g. profile.read, or a prefix like key.*")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many (the latest).")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Show audit records (oldest first); `cdp audit verify` checks that none was changed."""
    if ctx.invoked_subcommand is not None:
        return
    with _platform(data_dir, config) as platform:
        records = AccessService(platform, operator()).audit_records(since, actor, action, limit)
    if as_json:
        sys.stdout.write("".join(orjson.dumps(r.as_dict()).decode() + "\n" for r in records))
        return
    rows = [{"seq": r.seq, "at": r.at, "actor": r.actor, "action": r.action, "target": r.target, "outcome": r.outcome, "detail": orjson.dumps(r.detail).decode()} for r in records]
    print_rows(out, rows, "table", title="Audit log")


@audit_app.command("verify")
def audit_verify(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Check the hash chain: exit 1 and name the first record that was changed, removed or reordered."""
    with _platform(data_dir, config) as platform:
        result = AccessService(platform, operator()).verify_audit()
    if not result.ok:
        err.print(f"audit log BROKEN at record {result.broken_at}: {result.problem}", markup=False, highlight=False)
        raise typer.Exit(1)
    out.print(f"audit log intact: {result.records:,} records; head hash {result.head} (keep it elsewhere to detect a rewritten chain)", markup=False, highlight=False)


def _key_row(key: ReadKey) -> dict[str, str]:
    state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
    return {"name": key.name, "id": key.id, "scopes": " ".join(key.scopes), "state": state, "created_at": key.created_at, "rotated_at": key.rotated_at or ""}
