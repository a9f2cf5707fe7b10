"""Restoring a backup into an empty data directory, then (optionally) rebuilding the projections.

Nothing is touched until the whole backup has been verified against its manifest and the target
found empty (or ``replace`` given). The projection state and the warehouse are not restored: they
are left absent (removed, with ``replace``), so the next run rebuilds them from the first event.
"""

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cdp.backup import postgres
from cdp.backup.erasures import Erasure, ErasureJournal
from cdp.backup.manifest import Manifest, verify
from cdp.backup.stores import STORES, derived_paths, store_of
from cdp.config import Settings, load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.warehouse.managed import ManagedServer

Forget = Callable[[Platform, str], object]


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    settings: Settings
    pending_erasures: list[Erasure]  # forgotten after the backup began and not re-applied (no ``forget`` given)
    reapplied: list[Erasure]


def restore_backup(backup: Path, data_dir: Path, journal: ErasureJournal, replace: bool = False, forget: Forget | None = None) -> Restored:
    """Restores ``backup`` into ``data_dir``; ``forget`` re-applies the erasures journaled since the backup began."""
    manifest = verify(backup)
    stores = {entry.name: store_of(entry.name) for entry in manifest.files}
    unknown = [name for name, store in stores.items() if store is None]
    if unknown:
        raise CdpError(f"{backup / unknown[0]}: not a store this cdp knows (a backup made by a newer version?)")
    settings = _target_settings(backup, data_dir)
    _check_target(settings, manifest, replace)
    erasures = journal.since(manifest.started_at)

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if replace:
        _clear(settings, keep=journal.path)
    for entry in manifest.files:
        stores[entry.name].restore(backup / entry.name, settings, replace)
    if forget is None:
        return Restored(manifest, settings, erasures, [])
    with Platform(settings) as platform:
        for erasure in erasures:
            forget(platform, erasure.customer_id)
    return Restored(manifest, settings, [], erasures)


def _target_settings(backup: Path, data_dir: Path) -> Settings:
    """The restored platform's settings: the backed-up config file (if any) with the new data directory."""
    config = backup / "cdp.toml"
    return load_settings(config if config.is_file() else None, data_dir=data_dir)


def _check_target(settings: Settings, manifest: Manifest, replace: bool) -> None:
    data_dir = settings.data_dir
    if data_dir.exists() and not data_dir.is_dir():
        raise CdpError(f"{data_dir}: not a directory")
    if manifest.event_store.backend != settings.event_store.backend:
        raise CdpError(
            f"the backup holds a {manifest.event_store.backend} event store but the configuration selects {settings.event_store.backend} "
            "(set CDP_EVENT_STORE__BACKEND, or restore with the backed-up cdp.toml)"
        )
    if manifest.event_store.backend == "postgres":
        postgres.check_tools()
        held = postgres.stored_events(settings.event_store.postgres)
        if held and not replace:
            pg = settings.event_store.postgres
            raise CdpError(f"the PostgreSQL event store {pg.dbname} on {pg.host}:{pg.port} holds {held:,} events; restore into an empty database, or pass --force to replace them")
    if replace or not data_dir.exists():
        return
    present = sorted(p.name for p in data_dir.iterdir())
    if present:
        raise CdpError(f"{data_dir}: not empty ({', '.join(present[:5])}{', ...' if len(present) > 5 else ''}); restore into an empty data directory, or pass --force to replace its stores")


def _clear(settings: Settings, keep: Path) -> None:
    """Removes the stores a restore replaces and the projections it leaves to be rebuilt; nothing else.
    The embedded warehouse's server is stopped first: its data is among what goes."""
    if settings.warehouse.backend == "embedded":
        ManagedServer.of(settings).stop()
    paths = [p for store in STORES for p in store.paths(settings)] + derived_paths(settings)
    for path in paths:
        if path.resolve() == keep.resolve():
            continue
        if path.is_dir():
            shutil.rmtree(path)
            continue
        for part in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
            part.unlink(missing_ok=True)
