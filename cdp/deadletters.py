"""The dead-letter store: input that could not become an event, kept with its reason.

Nothing accepted is dropped: a line or request that fails validation is written here durably
(SQLite, WAL, one transaction per batch) before the sender is told it failed, so it can be
inspected, corrected and replayed.
"""

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingestion.deadletter import DeadLetter

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL,
    origin TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload BLOB NOT NULL
)
"""
_REPLAYED = "ALTER TABLE dead_letters ADD COLUMN replayed_at TEXT"  # when a replay stored it; NULL while kept
_COLUMNS = "id, received_at, source, origin, reason, payload, replayed_at"


@dataclass(frozen=True)
class StoredDeadLetter(DeadLetter):
    id: int
    received_at: str
    replayed_at: str | None = None


class DeadLetterStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        if "replayed_at" not in {row[1] for row in self._db.execute("PRAGMA table_info(dead_letters)")}:
            self._db.execute(_REPLAYED)

    def add(self, letters: list[DeadLetter]) -> None:
        if not letters:
            return
        now = datetime.now(UTC).isoformat()
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO dead_letters (received_at, source, origin, reason, payload) VALUES (?, ?, ?, ?, ?)",
                [(now, d.source, d.origin, d.reason, d.payload) for d in letters],
            )

    def list(self, limit: int = 100, source: str | None = None, kept_only: bool = False) -> list[StoredDeadLetter]:
        """The newest first; ``kept_only`` leaves out those a replay has stored."""
        where = " AND ".join(["1"] + (["source = ?"] if source else []) + (["replayed_at IS NULL"] if kept_only else []))
        params = ([source] if source else []) + [limit]
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM dead_letters WHERE {where} ORDER BY id DESC LIMIT ?", params).fetchall()
        return [_letter(r) for r in rows]

    def get(self, letter_id: int) -> StoredDeadLetter | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM dead_letters WHERE id = ?", (letter_id,)).fetchone()
        return _letter(row) if row else None

    def mark_replayed(self, ids: Sequence[int]) -> None:
        """Records that these letters' events are now in the event store (the letters themselves stay)."""
        now = datetime.now(UTC).isoformat()
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("UPDATE dead_letters SET replayed_at = ? WHERE id = ?", [(now, i) for i in ids])

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]

    def close(self) -> None:
        self._db.close()


def _letter(r: tuple) -> StoredDeadLetter:
    return StoredDeadLetter(id=r[0], received_at=r[1], source=r[2], origin=r[3], reason=r[4], payload=r[5], replayed_at=r[6])
