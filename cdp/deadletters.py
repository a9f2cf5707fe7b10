"""The dead-letter store: input that could not become an event, kept with its reason.

Nothing accepted is dropped: a line or request that fails validation is written here durably
(SQLite, WAL, one transaction per batch) before the sender is told it failed, so it can be
inspected, corrected and replayed.

A letter may hold anything, personal data included, so its reason and payload are stored sealed
(AES-256-GCM) with a data key of its own from the key store. Forgetting a person shreds the keys of
the letters that mention them; such a letter then reads as erased (``ERASED_REASON``, no payload).
"""

import base64
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cdp.privacy.keystore import KeyStore, Shredded
from cdp.sqlite_store import add_missing_columns, open_store
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
_ADDED_COLUMNS = {
    "replayed_at": "TEXT",  # when a replay stored it; NULL while kept
    "key_id": "TEXT",  # the data key sealing reason and payload; NULL: not sealed yet
}
_COLUMNS = "id, received_at, source, origin, reason, payload, replayed_at, key_id"
_NONCE = 12
ERASED_REASON = "erased: the person it mentioned was forgotten"


@dataclass(frozen=True)
class StoredDeadLetter(DeadLetter):
    id: int
    received_at: str
    replayed_at: str | None = None


class DeadLetterStore:
    def __init__(self, path: Path, keys: KeyStore):
        self._keys = keys
        self._db = open_store(path, _SCHEMA, secure_delete=True)
        add_missing_columns(self._db, "dead_letters", _ADDED_COLUMNS)
        self._seal_plain_letters()

    def add(self, letters: list[DeadLetter]) -> None:
        if not letters:
            return
        now = datetime.now(UTC).isoformat()
        keys = self._keys.new_keys(len(letters))
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO dead_letters (received_at, source, origin, reason, payload, key_id) VALUES (?, ?, ?, '', ?, ?)",
                [(now, d.source, d.origin, _seal(key, d.reason, d.payload), kid) for d, (kid, key) in zip(letters, keys, strict=True)],
            )

    def list(self, limit: int = 100, source: str | None = None, kept_only: bool = False) -> list[StoredDeadLetter]:
        """The newest first; ``kept_only`` leaves out those a replay has stored."""
        where = " AND ".join(["1"] + (["source = ?"] if source else []) + (["replayed_at IS NULL"] if kept_only else []))
        params = ([source] if source else []) + [limit]
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM dead_letters WHERE {where} ORDER BY id DESC LIMIT ?", params).fetchall()
        return self._opened(rows)

    def get(self, letter_id: int) -> StoredDeadLetter | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM dead_letters WHERE id = ?", (letter_id,)).fetchone()
        return self._opened([row])[0] if row else None

    def keys_mentioning(self, needles: Iterable[str], batch: int = 1000) -> Sequence[str]:
        """The key ids of the letters whose reason or payload contains any of ``needles`` (case-insensitive)."""
        wanted = [n.lower().encode() for n in needles if n]
        found = []
        last = 0
        while rows := self._db.execute(f"SELECT {_COLUMNS} FROM dead_letters WHERE id > ? ORDER BY id LIMIT ?", (last, batch)).fetchall():
            last = rows[-1][0]
            for row, letter in zip(rows, self._opened(rows), strict=True):
                text = (letter.reason.encode() + b"\n" + letter.payload).lower()
                if any(n in text for n in wanted):
                    found.append(row[7])
        return found

    def mark_replayed(self, ids: Sequence[int]) -> None:
        """Records that these letters' events are now in the event store (the letters themselves stay)."""
        now = datetime.now(UTC).isoformat()
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("UPDATE dead_letters SET replayed_at = ? WHERE id = ?", [(now, i) for i in ids])

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]

    def checkpoint(self) -> None:
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self._db.close()

    def _opened(self, rows: Sequence[tuple]) -> Sequence[StoredDeadLetter]:
        keys = self._keys.open_keys(r[7] for r in rows)
        letters = []
        for r in rows:
            key = keys[r[7]]
            reason, payload = (ERASED_REASON, b"") if isinstance(key, Shredded) else _open(key, r[5])
            letters.append(StoredDeadLetter(id=r[0], received_at=r[1], source=r[2], origin=r[3], reason=reason, payload=payload, replayed_at=r[6]))
        return letters

    def _seal_plain_letters(self) -> None:
        """Seals letters kept before sealing existed (once), then scrubs their plaintext from the file."""
        rows = self._db.execute("SELECT id, reason, payload FROM dead_letters WHERE key_id IS NULL").fetchall()
        if not rows:
            return
        keys = self._keys.new_keys(len(rows))
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "UPDATE dead_letters SET reason = '', payload = ?, key_id = ? WHERE id = ?",
                [(_seal(key, reason, payload), kid, letter_id) for (letter_id, reason, payload), (kid, key) in zip(rows, keys, strict=True)],
            )
        self.checkpoint()


def _seal(key: AESGCM, reason: str, payload: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + key.encrypt(nonce, orjson.dumps({"reason": reason, "payload": base64.b64encode(payload).decode()}), None)


def _open(key: AESGCM, sealed: bytes) -> tuple[str, bytes]:
    letter = orjson.loads(key.decrypt(sealed[:_NONCE], sealed[_NONCE:], None))
    return letter["reason"], base64.b64decode(letter["payload"])
