"""Projection state and the runner's tracked position, saved together in one SQLite transaction.

This is the tracking-record pattern (as in ``eventsourcing.projection``): because a batch's state
changes and its log position commit atomically, a runner killed at any point resumes exactly
where its last committed batch ended. Before a batch's rows go to the warehouse, its last position
is recorded (``record_unconfirmed``, deleted by the batch's commit): a runner resuming after a
crash in between ends its first batch there, so it reads the same events as of the same time and
writes the same rows with the same keys and versions, which ReplacingMergeTree collapses. (A
larger batch, with events appended meanwhile, could compute other history rows and leave the
dead batch's in place.)
"""

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from cdp.sqlite_batches import chunks, select_in
from cdp.sqlite_store import open_store
from projections import state_codec
from projections.identity import CustomerIdentity, IdentityGraph, Resolution
from projections.pipeline import Output
from projections.profile import Profile, erase

_PROFILES_COLUMNS = "(customer_id TEXT PRIMARY KEY, state BLOB NOT NULL)"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS tracking (name TEXT PRIMARY KEY, position INTEGER NOT NULL, watermark INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS identity_index (identifier TEXT PRIMARY KEY, customer_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS identity_customers (customer_id TEXT PRIMARY KEY, created_at_position INTEGER NOT NULL, keys BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS profiles {_PROFILES_COLUMNS};
CREATE TABLE IF NOT EXISTS lifecycle_checks (customer_id TEXT PRIMARY KEY, due INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lifecycle_checks_due ON lifecycle_checks (due);
CREATE TABLE IF NOT EXISTS unconfirmed (name TEXT PRIMARY KEY, until INTEGER NOT NULL);
"""


# in place: a state's row keeps its rowid and its key's index entry (a quarter less than INSERT OR REPLACE,
# which deletes the row and inserts it anew)
_SAVE_STATE = "INSERT INTO profiles (customer_id, state) VALUES (?, ?) ON CONFLICT (customer_id) DO UPDATE SET state = excluded.state"


@dataclass(frozen=True)
class Batch:
    """A batch of the log computed and not yet committed (``cdp.batch_core.Planned``)."""

    graph: IdentityGraph
    resolution: Resolution
    output: Output
    position: int  # its last event's
    watermark: int
    recorded: bool = True  # whether a runner dying while it is written reads the batch again (not for a retry at the tracked position)
    encoded: dict[str, bytes] = field(default_factory=dict)  # changed states already encoded (by the runner's processes, ``cdp.runner_processes``), saved as they are


class StateStore:
    """The embedded runner's ``cdp.batch_core.TrackingState``."""

    def __init__(self, path: Path, name: str = "embedded"):
        self.name = name
        self._db = open_store(path, _SCHEMA)
        _adopt_rowid_profiles(self._db)

    def tracked(self) -> tuple[int, int]:
        """``(position, watermark)``: the last committed log position and the latest event time (ms) seen."""
        row = self._db.execute("SELECT position, watermark FROM tracking WHERE name = ?", (self.name,)).fetchone()
        return (row[0], row[1]) if row else (0, 0)

    def unconfirmed_until(self) -> int | None:
        """The last position of a batch whose rows were being written when its runner died, if any."""
        row = self._db.execute("SELECT until FROM unconfirmed WHERE name = ?", (self.name,)).fetchone()
        return row[0] if row else None

    def record_unconfirmed(self, until: int) -> None:
        """Records, committed at once, that a batch ending at ``until`` is about to write its rows."""
        self._db.execute("INSERT OR REPLACE INTO unconfirmed (name, until) VALUES (?, ?)", (self.name, until))

    def begin_write(self, batches: Sequence[Batch]) -> None:
        recorded = [batch.position for batch in batches if batch.recorded]
        if recorded:
            self.record_unconfirmed(max(recorded))

    def finish_write(self, batches: Sequence[Batch]) -> None:
        for batch in batches:
            self.commit(batch.graph, batch.resolution, batch.output, batch.position, batch.watermark, batch.encoded)

    def abandon(self) -> None:
        """Nothing to roll back: every write of this store commits (or rolls back) in its own transaction."""

    def load_identity(self, keys: Iterable[str]) -> IdentityGraph:
        index = dict(select_in(self._db, "SELECT identifier, customer_id FROM identity_index WHERE identifier IN ({})", list(keys)))
        rows = select_in(self._db, "SELECT customer_id, created_at_position, keys FROM identity_customers WHERE customer_id IN ({})", sorted(set(index.values())))
        customers = {cid: CustomerIdentity(created, orjson.loads(keys)) for cid, created, keys in rows}
        return IdentityGraph(index, customers)

    def load_profiles(self, customer_ids: Iterable[str]) -> dict[str, Profile]:
        return {cid: state_codec.decode(state) for cid, state in self.load_states(customer_ids).items()}

    def load_states(self, customer_ids: Iterable[str]) -> dict[str, bytes]:
        """These customers' saved states as stored (``state_codec``'s bytes): what the runner's processes are sent."""
        return dict(select_in(self._db, "SELECT customer_id, state FROM profiles WHERE customer_id IN ({})", sorted(set(customer_ids))))

    def profile_ids(self) -> list[str]:
        """Every customer with projection state (those merged into another have none)."""
        return [row[0] for row in self._db.execute("SELECT customer_id FROM profiles ORDER BY customer_id")]

    def save_retagged(self, profiles: dict[str, Profile], tag_checks: dict[str, int | None]) -> None:
        """Saves profiles whose tags alone were recomputed (`cdp tags apply`), the position unmoved: each
        customer's next check becomes its tag check when that comes first (the other projections' own
        checks stand; an early check only recomputes what did not change)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("UPDATE profiles SET state = ? WHERE customer_id = ?", [(state_codec.encode(p), cid) for cid, p in profiles.items()])
            db.executemany(
                "INSERT INTO lifecycle_checks (customer_id, due) VALUES (?, ?) ON CONFLICT (customer_id) DO UPDATE SET due = min(due, excluded.due)",
                [(cid, due) for cid, due in tag_checks.items() if due is not None],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def due_checks(self, as_of: int) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT customer_id FROM lifecycle_checks WHERE due <= ?", (as_of,))}

    def commit(self, graph: IdentityGraph, resolution: Resolution, output: Output, position: int, watermark: int, encoded: dict[str, bytes] | None = None) -> None:
        """Saves one batch's state changes and its position atomically (``encoded``: changed states already encoded, besides ``output.profiles``)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO identity_index (identifier, customer_id) VALUES (?, ?)",
                [(key, customer) for key, (customer, _) in resolution.changed_keys.items()],
            )
            db.executemany(
                "INSERT OR REPLACE INTO identity_customers (customer_id, created_at_position, keys) VALUES (?, ?, ?)",
                [(cid, graph.customers[cid].created_at_position, orjson.dumps(graph.customers[cid].keys)) for cid in resolution.changed_customers],
            )
            gone = [(cid,) for cid in output.removed]
            db.executemany("DELETE FROM identity_customers WHERE customer_id = ?", gone)
            db.executemany("DELETE FROM profiles WHERE customer_id = ?", gone)
            db.executemany("DELETE FROM lifecycle_checks WHERE customer_id = ?", gone)
            saved = [(cid, state_codec.encode(p)) for cid, p in output.profiles.items()] + list((encoded or {}).items())
            db.executemany(_SAVE_STATE, saved)
            db.executemany("DELETE FROM lifecycle_checks WHERE customer_id = ?", [(cid,) for cid, due in output.next_checks.items() if due is None])
            db.executemany(
                "INSERT OR REPLACE INTO lifecycle_checks (customer_id, due) VALUES (?, ?)",
                [(cid, due) for cid, due in output.next_checks.items() if due is not None],
            )
            db.execute("INSERT OR REPLACE INTO tracking (name, position, watermark) VALUES (?, ?, ?)", (self.name, position, watermark))
            db.execute("DELETE FROM unconfirmed WHERE name = ?", (self.name,))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def skip_to(self, position: int) -> None:
        """Moves the tracked position on with no state change (past quarantined events)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO tracking (name, position, watermark) VALUES (?, ?, 0) ON CONFLICT (name) DO UPDATE SET position = excluded.position", (self.name, position)
            )
            self._db.execute("DELETE FROM unconfirmed WHERE name = ?", (self.name,))

    def identifiers_of(self, customer_ids: Iterable[str]) -> list[str]:
        """The identifier keys (``type:value``) that belong to these customers now."""
        return sorted(row[0] for row in select_in(self._db, "SELECT identifier FROM identity_index WHERE customer_id IN ({})", sorted(set(customer_ids))))

    def erase(self, customer_ids: Iterable[str], survivor: str, user_id: str) -> int:
        """Forgets the plaintext of these customers (the survivor and those merged into it): their
        identifiers give way to the erasure token ``user_id``, their profiles keep counts and facts
        only. The file is then vacuumed and its WAL emptied, so no deleted page keeps a copy.
        Returns how many identifiers were removed."""
        ids = sorted(set(customer_ids) | {survivor})
        token_key = f"user_id:{user_id}"
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            removed = 0
            for chunk in chunks(ids):
                removed += db.execute(f"DELETE FROM identity_index WHERE customer_id IN ({','.join('?' * len(chunk))})", chunk).rowcount
            db.execute("INSERT OR REPLACE INTO identity_index (identifier, customer_id) VALUES (?, ?)", (token_key, survivor))
            db.execute("UPDATE identity_customers SET keys = ? WHERE customer_id = ?", (orjson.dumps([token_key]), survivor))
            profiles = self.load_profiles(ids)
            for profile in profiles.values():
                erase(profile, user_id)
            db.executemany("UPDATE profiles SET state = ? WHERE customer_id = ?", [(state_codec.encode(p), cid) for cid, p in profiles.items()])
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed

    def reset(self) -> None:
        """Forgets all projection state and the tracked position: the next run starts from the first event."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for table in ("identity_index", "identity_customers", "profiles", "lifecycle_checks"):
                db.execute(f"DELETE FROM {table}")
            for table in ("tracking", "unconfirmed"):
                db.execute(f"DELETE FROM {table} WHERE name = ?", (self.name,))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()


def _adopt_rowid_profiles(db: sqlite3.Connection) -> None:
    """Moves the states of a file from before into a rowid table. A state is a few kilobytes, and
    SQLite keeps a ``WITHOUT ROWID`` table's rows inside its key's b-tree, which works best for rows
    under a twentieth of a page: there the table took nearly twice the states' size, and a rebuild of
    1M events spent 8× the time reading states and 1.4× saving them (BENCHMARKS.md, issue 23).
    Checked without a lock at every open, moved under ``BEGIN IMMEDIATE`` once."""

    def old() -> bool:
        row = db.execute("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'profiles'").fetchone()
        return "WITHOUT ROWID" in row[0].upper()

    if not old():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if old():
            db.execute(f"CREATE TABLE profiles_moved {_PROFILES_COLUMNS}")
            db.execute("INSERT INTO profiles_moved (customer_id, state) SELECT customer_id, state FROM profiles ORDER BY customer_id")
            db.execute("DROP TABLE profiles")
            db.execute("ALTER TABLE profiles_moved RENAME TO profiles")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
