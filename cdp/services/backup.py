"""Backups for every door: a consistent online copy of every durable store (audited in the
platform's log), and a restore that forgets again every customer forgotten after the backup
began (from the erasure journal, which no backup holds), then rebuilds only if none is pending.
"""

from dataclasses import dataclass
from pathlib import Path

from cdp.backup.erasures import ErasureJournal, journal_path
from cdp.backup.manifest import Manifest
from cdp.backup.restore import Restored, restore_backup
from cdp.backup.take import take_backup
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.rebuild import rebuild
from cdp.services import Caller, Conflict
from cdp.services.audited import audited
from cdp.services.privacy import PrivacyService

ADMIN = "admin"
RESTORER = Caller("cli:cdp-restore")  # who forgets again, in the restored data directory's audit log


@dataclass(frozen=True)
class Restore:
    restored: Restored
    journal: Path  # the erasure journal read
    journal_found: bool  # False: customers forgotten after the backup began cannot be re-applied
    rebuilt: int | None  # events the projections were rebuilt from; None: not rebuilt


def take(platform: Platform, caller: Caller, target: Path, config_in_use: Path | None = None) -> Manifest:
    """Copies every durable store of ``platform`` into ``target`` (new or empty) while the platform keeps running."""
    with audited(platform.audit, caller, "backup.create", str(target)[:200]) as detail:
        caller.require(ADMIN)
        manifest = take_backup(platform.settings, target, config_in_use)
        detail.update(files=len(manifest.files), last_position=manifest.event_store.last_position)
        return manifest


def restore(backup: Path, data_dir: Path, erasure_journal: Path | None = None, replace: bool = False, rebuild_after: bool = False) -> Restore:
    """Restores a verified backup into ``data_dir``; ``erasure_journal`` defaults to the data directory's."""
    journal = ErasureJournal(erasure_journal or journal_path(load_settings(None, data_dir=data_dir)))
    found = journal.path.is_file()
    restored = restore_backup(backup, data_dir, journal, replace=replace, forget=_forget_again)
    rebuilt = None
    if rebuild_after and not restored.pending_erasures:
        with Platform(restored.settings) as platform:
            rebuilt = rebuild(platform, [])
    return Restore(restored, journal.path, found, rebuilt)


def _forget_again(platform: Platform, customer_id: str) -> None:
    """Re-applies a journaled erasure to the restored events (a customer forgotten twice is fine)."""
    try:
        PrivacyService(platform, RESTORER).forget(customer_id)
    except Conflict:
        pass
