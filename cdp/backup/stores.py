"""The durable stores of a data directory, in the order a backup copies them.

Each store is copied on its own (one consistent snapshot per store), so what matters is what a
write landing *between* two copies does to the backup. The order below makes every such write
harmless:

1. ``cdp.toml``: configuration; changes by hand only.
2. ``sources.sqlite`` (write keys, hashed), ``segments.sqlite`` (saved segments),
   ``tag_definitions.sqlite`` (tag definitions), ``read_keys.sqlite`` (read keys, hashed), ``rates.sqlite`` (exchange rates) and ``triggers.sqlite``
   (enabled triggers): stand alone.
   ``destinations.sqlite`` (activation's destinations) before ``keys.sqlite``: a destination added
   between the copies is missing, but never its secret's key.
3. ``outbox.sqlite3`` (activation's actions) BEFORE the event store: an action delivered between
   the copies is pending in the backup while its delivery event may be in it; after a restore it
   is sent again under the same id (receivers deduplicate by it) and its event is stored once.
   ``deadletters.sqlite`` BEFORE the event store: a dead letter replayed between the two copies is
   then still kept (not yet marked replayed) in the backup while its event may be in it too;
   replaying it again is harmless because the event store dedupes by message id. The reverse
   order could leave it marked replayed with its event missing: lost.
4. the event store: an SQLite snapshot, or a ``pg_dump`` of one exported PostgreSQL snapshot.
   The manifest records its last position.
5. ``keys.sqlite`` (per-customer data keys) AFTER the event store: an event appended between the
   two copies is not in the backup, but its key is. The reverse order would leave events whose
   key is missing, which reads exactly like an erased customer: silent loss.
6. ``master.key`` right after the key store it unlocks (rotate the master key only when no backup
   runs: a rotation between these two copies leaves keys wrapped by the other master key).
7. ``audit.sqlite``: append-only records of who did what; last, so it covers the whole backup.

Not copied: the warehouse and ``projections.sqlite`` (projection state and tracked position) are
projections of the event store; a restore leaves both absent so the next run or a rebuild
recomputes them from the first event. A restored projection state without its warehouse would
make the runner skip the events it had already processed. The erasure journal (``erasures.py``)
is deliberately kept out of every backup.

Adding a store is one line in ``STORES``.
"""

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from cdp.backup import postgres
from cdp.backup.copies import copy_file, copy_sqlite, place
from cdp.config import Settings
from cdp.errors import CdpError


@dataclass(frozen=True)
class Copied:
    file: str  # its name in the backup directory
    last_position: int | None = None  # the event store's last position; None for other stores


@dataclass(frozen=True)
class DataFile:
    """A file under the data directory: an SQLite database (copied online) or a plain file; skipped when absent."""

    name: str
    sqlite: bool = True

    def back_up(self, settings: Settings, config_file: Path | None, into: Path) -> Copied | None:
        source = self.source(settings, config_file)
        if not source.is_file():
            return None
        (copy_sqlite if self.sqlite else copy_file)(source, into / self.name)
        return Copied(self.name)

    def source(self, settings: Settings, config_file: Path | None) -> Path:
        return settings.data_dir / self.name

    def owns(self, name: str) -> bool:
        return name == self.name

    def restore(self, backup_file: Path, settings: Settings, replace: bool) -> None:
        place(backup_file, settings.data_dir / self.name)

    def paths(self, settings: Settings) -> list[Path]:
        return [settings.data_dir / self.name]


@dataclass(frozen=True)
class ConfigFile(DataFile):
    """The config file in use (``--config``, ``CDP_CONFIG`` or ``DATA_DIR/cdp.toml``); restored as ``DATA_DIR/cdp.toml``."""

    def source(self, settings: Settings, config_file: Path | None) -> Path:
        return config_file or settings.data_dir / self.name


@dataclass(frozen=True)
class EventStore:
    """The event store of the configured backend: ``events.sqlite``, or ``events.pgdump`` from PostgreSQL."""

    sqlite_name: str = "events.sqlite"
    postgres_name: str = "events.pgdump"

    def back_up(self, settings: Settings, config_file: Path | None, into: Path) -> Copied:
        if settings.event_store.backend == "postgres":
            return Copied(self.postgres_name, postgres.dump(settings.event_store.postgres, into / self.postgres_name))
        source = settings.event_store_path
        if not source.is_file():
            raise CdpError(f"no event store at {source}: nothing to back up (is --data-dir right?)")
        copy_sqlite(source, into / self.sqlite_name)
        return Copied(self.sqlite_name, last_sqlite_position(into / self.sqlite_name))

    def owns(self, name: str) -> bool:
        return name in (self.sqlite_name, self.postgres_name)

    def restore(self, backup_file: Path, settings: Settings, replace: bool) -> None:
        if backup_file.name == self.postgres_name:
            postgres.restore(settings.event_store.postgres, backup_file, replace)
        else:
            place(backup_file, settings.event_store_path)

    def paths(self, settings: Settings) -> list[Path]:
        return [settings.event_store_path]


def last_sqlite_position(path: Path) -> int:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return db.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {postgres.EVENTS_TABLE}").fetchone()[0]
    finally:
        db.close()


Store = DataFile | EventStore

STORES: tuple[Store, ...] = (
    ConfigFile("cdp.toml", sqlite=False),
    DataFile("sources.sqlite"),
    DataFile("segments.sqlite"),
    DataFile("tag_definitions.sqlite"),  # tag definitions applied with `cdp tags apply`, versioned
    DataFile("read_keys.sqlite"),  # read keys with scopes (hashed)
    DataFile("rates.sqlite"),  # exchange rates the projections convert amounts with (cdp.rates), when present
    DataFile("triggers.sqlite"),  # enabled trigger rules and their starts (issue 21), when present
    DataFile("destinations.sqlite"),  # activation's destinations, secrets sealed with data keys of keys.sqlite (copied later)
    DataFile("outbox.sqlite3"),  # activation's actions and audience bindings, before the event store (see 3.)
    DataFile("deadletters.sqlite"),
    EventStore(),
    DataFile("keys.sqlite"),  # the key store (issue 9 item 1), when present
    DataFile("master.key", sqlite=False),  # the generated master key file, when present
    DataFile("audit.sqlite"),  # the audit log (issue 9 item 5), when present
)


def store_of(name: str) -> Store | None:
    return next((s for s in STORES if s.owns(name)), None)


def derived_paths(settings: Settings) -> list[Path]:
    """What a restore leaves absent so that it is recomputed: projection state and the warehouse."""
    return [settings.state_path, settings.warehouse_path]
