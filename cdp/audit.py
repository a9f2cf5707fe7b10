"""The audit log: who read or changed what, when, and whether it was allowed.

An append-only SQLite store of its own (``DATA_DIR/audit.sqlite``): triggers refuse UPDATE and
DELETE, and each record carries the SHA-256 of the previous record's hash and its own fields, so
editing, removing or reordering records (with the triggers dropped) breaks the chain, which
``verify`` finds. Keep the head hash ``verify`` prints somewhere else to detect a rewritten chain.

Records never hold secrets or personal data: actors are key ids/names or ``cli:<os user>``,
targets are customer ids, segment names or key names; callers pass identifiers only as hashes.
"""

import getpass
import hashlib
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from cdp.sqlite_store import open_store

GENESIS = "0" * 64
_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END;
"""
_COLUMNS = "seq, at, actor, action, target, outcome, detail, prev_hash, hash"


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    actor: str
    action: str
    target: str
    outcome: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Verification:
    records: int
    head: str
    broken_at: int | None = None  # the first record whose hash or link does not match
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


class AuditLog:
    def __init__(self, path: Path):
        self._db = open_store(path, _SCHEMA)
        self._lock = threading.Lock()

    def record(self, actor: str, action: str, target: str, outcome: str, detail: dict[str, Any] | None = None) -> AuditRecord:
        """Appends one record (e.g. ``record("cli:ana", "customer.forget", "c-42", "done", {...})``)."""
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        detail_json = orjson.dumps(detail or {}, option=orjson.OPT_SORT_KEYS).decode()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # other processes append too: read the head and append atomically
            try:
                row = self._db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
                digest = _digest(prev, seq, at, actor, action, target, outcome, detail_json)
                self._db.execute(f"INSERT INTO audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (seq, at, actor, action, target, outcome, detail_json, prev, digest))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return AuditRecord(seq, at, actor, action, target, outcome, detail or {}, prev, digest)

    def query(self, since: datetime | None = None, actor: str | None = None, action: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """The latest ``limit`` records matching the filters (``action`` may end in ``*``), oldest first."""
        where, params = ["1 = 1"], []
        if since is not None:
            where.append("at >= ?")
            params.append(since.astimezone(UTC).isoformat(timespec="milliseconds"))
        if actor:
            where.append("actor = ?")
            params.append(actor)
        if action:
            where.append("action GLOB ?" if action.endswith("*") else "action = ?")
            params.append(action)
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM audit WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?", (*params, limit)).fetchall()
        return [_record(row) for row in reversed(rows)]

    def verify(self) -> Verification:
        """Walks the chain from the first record; names the first record that does not match."""
        prev, count = GENESIS, 0
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY seq").fetchall()
        for seq, at, actor, action, target, outcome, detail, prev_hash, digest in rows:
            count += 1
            if seq != count:
                return Verification(count, prev, seq, f"record {seq} follows record {count - 1}: records were removed or reordered")
            if prev_hash != prev:
                return Verification(count, prev, seq, f"record {seq} does not link to the hash of record {seq - 1}")
            if _digest(prev_hash, seq, at, actor, action, target, outcome, detail) != digest:
                return Verification(count, prev, seq, f"record {seq} was changed after it was written")
            prev = digest
        return Verification(count, prev)

    def close(self) -> None:
        self._db.close()


def cli_actor() -> str:
    """The actor of a CLI command: ``cli:<os user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def identifier_digest(identifier: str) -> str:
    """How an identifier someone looked up (an email, a phone) appears in the log: hashed, never in clear."""
    return "sha256:" + hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _digest(prev: str, seq: int, at: str, actor: str, action: str, target: str, outcome: str, detail: str) -> str:
    fields = orjson.dumps([prev, seq, at, actor, action, target, outcome, detail])
    return hashlib.sha256(fields).hexdigest()


def _record(row: tuple) -> AuditRecord:
    seq, at, actor, action, target, outcome, detail, prev_hash, digest = row
    return AuditRecord(seq, at, actor, action, target, outcome, orjson.loads(detail), prev_hash, digest)
