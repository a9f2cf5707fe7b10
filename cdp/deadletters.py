"""The dead-letter store: input that could not become an event, kept with its reason.

Nothing accepted is dropped: a line or request that fails validation is written here durably
(SQLite, WAL, one transaction per batch) before the sender is told it failed, so it can be
inspected, corrected and replayed.
"""

import sqlite3
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


@dataclass(frozen=True)
class StoredDeadLetter(DeadLetter):
    id: int
    received_at: str


class DeadLetterStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

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

    def list(self, limit: int = 100) -> list[StoredDeadLetter]:
        rows = self._db.execute(
            "SELECT id, received_at, source, origin, reason, payload FROM dead_letters ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [StoredDeadLetter(id=r[0], received_at=r[1], source=r[2], origin=r[3], reason=r[4], payload=r[5]) for r in rows]

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]

    def close(self) -> None:
        self._db.close()
