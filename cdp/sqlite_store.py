"""How every SQLite store in the data directory opens its file.

The stores (read keys, sources, audit log, dead letters, quarantine, key store, ...) are each
shared by the HTTP router's threads and by other processes (the CLI, the runner) at once, so
they open alike: autocommit (each store begins its own ``BEGIN IMMEDIATE`` where it needs one),
usable from any thread (the store guards its connection with its own lock where threads share a
call), a 30 s busy timeout for the other processes' writes, and WAL so readers never wait for a
writer. A store holding personal data, or keys to it, asks for ``secure_delete`` so a deleted
row leaves no copy in the file's free pages (a forgotten customer's data key, a scrubbed error).
"""

import sqlite3
from pathlib import Path


def open_store(path: Path, schema: str, *, secure_delete: bool = False) -> sqlite3.Connection:
    """Opens (creating the file and its directory on first use) the store at ``path`` and runs its
    ``schema`` (``CREATE ... IF NOT EXISTS`` statements, so opening is idempotent)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    if secure_delete:
        db.execute("PRAGMA secure_delete=ON")
    db.executescript(schema)
    return db


def add_missing_columns(db: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
    """Adds to ``table`` those of ``columns`` (name → type) that a store's later version declared and
    the file lacks. Looked for first without a lock (every open); when one is missing, read again
    and added under ``BEGIN IMMEDIATE``: processes opening an older file at once (the collector's
    workers starting together) add each column once, where two would both try and one fail with
    "duplicate column name" (seen in CI)."""
    def missing() -> list[str]:
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        return [name for name in columns if name not in present]

    if not missing():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for name in missing():
            db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {columns[name]}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
