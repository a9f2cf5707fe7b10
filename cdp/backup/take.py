"""Taking a backup while the platform runs: each store copied in registry order, the manifest last.

The copy is made in a hidden directory beside the target and renamed into place only when the
manifest is written, so an interrupted backup never looks complete.
"""

import shutil
import tempfile
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from cdp.backup.copies import sync_directory
from cdp.backup.manifest import MANIFEST, EventStoreState, Manifest, describe_file
from cdp.backup.stores import STORES
from cdp.config import Settings
from cdp.errors import CdpError


def take_backup(settings: Settings, target: Path, config_file: Path | None = None) -> Manifest:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CdpError(f"{target}: exists and is not an empty directory; back up into a new one")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))  # mode 0700: a backup holds secrets
    try:
        started_at = datetime.now(UTC)
        files, last_position = [], None
        for store in STORES:
            copied = store.back_up(settings, config_file, work)
            if copied is None:
                continue
            files.append(describe_file(work / copied.file))
            if copied.last_position is not None:
                last_position = copied.last_position
        manifest = Manifest(
            format_version=1,
            started_at=started_at,
            created_at=datetime.now(UTC),
            platform_version=version("cdp"),
            event_store=EventStoreState(backend=settings.event_store.backend, last_position=last_position),
            files=tuple(files),
        )
        sync_directory(work)
        (work / MANIFEST).write_bytes(manifest.to_json())
        sync_directory(work)
        if target.exists():
            target.rmdir()
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest
