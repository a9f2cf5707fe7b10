"""``cdp backup DIR``, ``cdp backup verify DIR`` and ``cdp restore DIR``."""

import os
import time
from pathlib import Path
from typing import Annotated, Optional

import click
import typer
from typer.core import TyperGroup

from cdp.backup.manifest import Manifest, verify
from cdp.cli.options import ConfigFile, DataDir, err, out
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.services import backup as backups
from cdp.services import operator

BackupDir = Annotated[Path, typer.Argument(help="The backup directory.", show_default=False)]


class _DefaultCreate(TyperGroup):
    """``cdp backup DIR`` means ``cdp backup create DIR``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


backup_app = typer.Typer(cls=_DefaultCreate, help="Consistent online backups: `cdp backup DIR`, `cdp backup verify DIR`.", no_args_is_help=True)


@backup_app.command("create")
def create(target: BackupDir, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Copy every durable store into DIR (new or empty) while the platform keeps running."""
    began = time.monotonic()
    in_use = config or (Path(os.environ["CDP_CONFIG"]) if os.environ.get("CDP_CONFIG") else None)  # else DATA_DIR/cdp.toml
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        manifest = backups.take(platform, operator(), target, in_use)
    _print_manifest(target, manifest)
    out.print(f"backed up in {time.monotonic() - began:.1f} s", markup=False, highlight=False)


@backup_app.command("verify")
def verify_command(backup: BackupDir) -> None:
    """Check every file of a backup against its manifest (size and SHA-256)."""
    manifest = verify(backup)
    _print_manifest(backup, manifest)
    out.print("verified: every file matches the manifest", markup=False, highlight=False)


def restore(
    backup: BackupDir,
    force: Annotated[bool, typer.Option("--force", help="Replace the stores of a non-empty data directory (other files are kept).")] = False,
    rebuild_after: Annotated[bool, typer.Option("--rebuild", help="Rebuild the projections and the warehouse right after restoring.")] = False,
    erasure_journal: Annotated[Optional[Path], typer.Option("--erasure-journal", help="The erasure journal to re-apply (env: CDP_ERASURE_JOURNAL; default: DATA_DIR/erasures.jsonl).", show_default=False)] = None,
    data_dir: DataDir = None,
) -> None:
    """Restore a verified backup into an empty data directory; the warehouse is then rebuilt from the events."""
    result = backups.restore(backup, data_dir or load_settings(None).data_dir, erasure_journal, force, rebuild_after)
    restored = result.restored
    if not result.journal_found:
        err.print(f"warning: no erasure journal at {result.journal}: customers forgotten after the backup was taken cannot be re-applied; pass --erasure-journal", markup=False, highlight=False)
    position = restored.manifest.event_store.last_position
    out.print(f"restored {len(restored.manifest.files)} files into {restored.settings.data_dir} (events up to position {position:,})", markup=False, highlight=False)
    if restored.reapplied:
        out.print(f"forgot again {len(restored.reapplied)} customer(s) forgotten after this backup began", markup=False, highlight=False)
    if restored.pending_erasures:
        err.print(f"WARNING: {len(restored.pending_erasures)} customer(s) were forgotten after this backup began; forget them again BEFORE serving or rebuilding:", markup=False, highlight=False)
        for erasure in restored.pending_erasures:
            err.print(f"  cdp forget {erasure.customer_id} --data-dir {restored.settings.data_dir}   # erased at {erasure.erased_at.isoformat()}", markup=False, highlight=False)
        err.print("then: cdp projections rebuild" + ("" if not rebuild_after else " (not run now: forget them first)"), markup=False, highlight=False)
        raise typer.Exit(3)
    if result.rebuilt is None:
        out.print(f"next: cdp projections rebuild --data-dir {restored.settings.data_dir}", markup=False, highlight=False)
        return
    out.print(f"rebuilt the projections from {result.rebuilt:,} events", markup=False, highlight=False)


def _print_manifest(backup: Path, manifest: Manifest) -> None:
    total = sum(f.size for f in manifest.files)
    out.print(
        f"{backup}: {len(manifest.files)} files, {total / 1e6:,.1f} MB, event store ({manifest.event_store.backend}) up to position "
        f"{manifest.event_store.last_position:,}, taken {manifest.started_at.isoformat()} to {manifest.created_at.isoformat()} by cdp {manifest.platform_version}",
        markup=False,
        highlight=False,
    )
    for f in manifest.files:
        out.print(f"  {f.name:<20} {f.size:>14,} bytes  sha256 {f.sha256[:16]}...", markup=False, highlight=False)
