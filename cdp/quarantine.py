"""The quarantine: events the runner could not read or project, kept out of the way of the rest.

One such event (say, nested too deep to be encoded again once opened) must not halt processing:
the runner records it here (its log position, its event id, the error, when) and goes on with the
next. The event itself stays in the event store; only the record is here. A record leaves when a
retry processes the event (``cdp quarantine replay``, or a rebuild that no longer fails on it).

The error is kept as ``cdp.privacy.sealed_errors`` makes it, for its text can quote the event's
personal values: sealed with the event's data key (``SEALED_ERROR`` then an opaque text, opened
for reading through the platform's sealer), so forgetting the person shreds it with the event; or
the exception's type name only, when the event has no key to seal it with. Overwritten and deleted
texts are overwritten on disk too (``secure_delete``).

Only an error of the event's own making quarantines it. An infrastructure error (a disk, a lock,
a store that is down: ``INFRASTRUCTURE``) stops the runner as before, for every event would fail
the same way; the runner resumes where it stopped once the store is back.
"""

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cdp.errors import CdpError
from cdp.sqlite_store import open_store

INFRASTRUCTURE: tuple[type[BaseException], ...] = (OSError, sqlite3.Error, CdpError, MemoryError)
_MAX_ERROR = 500  # characters of the error kept
SEALED_ERROR = "sealed:"  # starts an error kept sealed (an exception's type name holds no colon)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS quarantine (
    position INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    error TEXT NOT NULL,
    quarantined_at TEXT NOT NULL,
    attempts INTEGER NOT NULL
)
"""


def poisoned(error: Exception, infrastructure: tuple[type[BaseException], ...] = INFRASTRUCTURE) -> bool:
    """Whether ``error`` is the event's own fault (quarantine it) rather than the infrastructure's (stop)."""
    return not isinstance(error, infrastructure)


def describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:_MAX_ERROR]


@dataclass(frozen=True)
class Quarantined:
    position: int
    event_id: str
    error: str  # as kept: sealed, or the type name only (see above)
    quarantined_at: str = ""  # the first time
    attempts: int = 1


class QuarantineStore:
    """SQLite in the data directory (WAL, one transaction per call), like the other stores."""

    def __init__(self, path: Path):
        self._db = open_store(path, _SCHEMA, secure_delete=True)
        self._keep_type_names_of_clear_errors()

    def _keep_type_names_of_clear_errors(self) -> None:
        """Cuts an error kept in clear (by a version that did not seal them) to its type name, and leaves no copy of it in the files."""
        cut = self._db.execute(
            "UPDATE quarantine SET error = substr(error, 1, instr(error, ':') - 1) WHERE instr(error, ':') > 0 AND substr(error, 1, ?) != ?", (len(SEALED_ERROR), SEALED_ERROR)
        )
        if cut.rowcount:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def add(self, entries: Sequence[Quarantined]) -> None:
        """Records these events; one already kept gets the new error and one more attempt."""
        if not entries:
            return
        now = datetime.now(UTC).isoformat()
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO quarantine (position, event_id, error, quarantined_at, attempts) VALUES (?, ?, ?, ?, 1) "
                "ON CONFLICT (position) DO UPDATE SET error = excluded.error, attempts = attempts + 1",
                [(e.position, e.event_id, e.error, now) for e in entries],
            )

    def remove(self, positions: Iterable[int]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM quarantine WHERE position = ?", [(p,) for p in positions])

    def list(self, positions: Iterable[int] | None = None) -> list[Quarantined]:
        """In log order; only ``positions`` when given."""
        rows = self._db.execute("SELECT position, event_id, error, quarantined_at, attempts FROM quarantine ORDER BY position").fetchall()
        wanted = None if positions is None else set(positions)
        return [Quarantined(*row) for row in rows if wanted is None or row[0] in wanted]

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM quarantine").fetchone()[0]

    def clear(self) -> None:
        """Forgets every record (a rebuild tries every event again)."""
        self._db.execute("DELETE FROM quarantine")

    def close(self) -> None:
        self._db.close()
