"""Which trigger rules are enabled, and since when: ``DATA_DIR/triggers.sqlite``.

The rules themselves are configuration (``[triggers.rules]``, docs/triggers.md); enabling one
records its start, the moment from which its causes fire (``--backfill SINCE`` moves it back), so a
trigger added today does not fire for what happened before. Disabling forgets it; enabling again
starts it again. The runner reads the enabled set at every batch, so a change reaches a running
``cdp serve`` without a restart.
"""

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from projections.triggers import Trigger, TriggerRules

_SCHEMA = "CREATE TABLE IF NOT EXISTS enabled (name TEXT PRIMARY KEY, start INTEGER NOT NULL, enabled_at INTEGER NOT NULL, backfill INTEGER NOT NULL) WITHOUT ROWID"

@dataclass(frozen=True)
class Enabled:
    name: str
    start: int  # ms: causes from here fire
    enabled_at: int  # ms: when `cdp triggers enable` ran
    backfill: bool  # start was moved back before enabled_at


class TriggerStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    def enable(self, name: str, start: int, enabled_at: int) -> Enabled:
        """Enables ``name`` from ``start`` (``enabling``)."""
        wanted = enabling(self.get(name), name, start, enabled_at)
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO enabled (name, start, enabled_at, backfill) VALUES (?, ?, ?, ?)", (name, wanted.start, wanted.enabled_at, int(wanted.backfill)))
        return wanted

    def disable(self, name: str) -> bool:
        with self._db:
            return self._db.execute("DELETE FROM enabled WHERE name = ?", (name,)).rowcount > 0

    def get(self, name: str) -> Enabled | None:
        row = self._db.execute("SELECT name, start, enabled_at, backfill FROM enabled WHERE name = ?", (name,)).fetchone()
        return Enabled(row[0], row[1], row[2], bool(row[3])) if row else None

    def all(self) -> dict[str, Enabled]:
        return {row[0]: Enabled(row[0], row[1], row[2], bool(row[3])) for row in self._db.execute("SELECT name, start, enabled_at, backfill FROM enabled ORDER BY name")}

    def close(self) -> None:
        self._db.close()


def enabling(current: Enabled | None, name: str, start: int, enabled_at: int) -> Enabled:
    """What enabling ``name`` from ``start`` records: enabling an enabled trigger again keeps the
    earlier start, unless ``start`` is earlier (a backfill), and its first ``enabled_at``."""
    if current is not None and current.start <= start:
        return current
    return Enabled(name, start, enabled_at if current is None else current.enabled_at, start < enabled_at if current is None else True)


class EnabledTriggers(Protocol):
    """Where the enabled set is kept: ``TriggerStore`` (a data directory's SQLite file) or
    ``cdp.triggers_postgres.PostgresTriggerStore`` (the scale-out deployment's database)."""

    def all(self) -> dict[str, Enabled]: ...


def enabled_triggers(rules: TriggerRules, store: EnabledTriggers) -> tuple[Trigger, ...]:
    """The enabled rules with their starts; a name enabled but no longer configured stays dormant."""
    return tuple(Trigger(name, rules.rules[name], e.start) for name, e in store.all().items() if name in rules.rules)
