"""The source registry: each source's name, kind, connector and write key (kept only as a hash).

A write key is shown once, when its source is added or its key rotated; the registry stores its
SHA-256, so a copy of the data directory does not leak keys. Keys are random (192 bits), so an
unsalted hash is enough to make them unrecoverable. A key is found by its hash (timing can only
tell an attacker about hashes of their own guesses) and the hash compared in constant time.
A webhook connector's signing secret is the sender's (the tool generates it) and must be kept as
is to check signatures. Rotating gives a source a new key (the old one stops working); revoking
ends its key and forgets its signing secret, so nothing from it is accepted any more.
"""

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cdp.errors import CdpError
from cdp.sqlite_store import add_missing_columns, open_store
from schemas import SOURCE_KINDS

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    connector TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    signing_secret TEXT,
    created_at TEXT NOT NULL
)
"""
_ADDED_COLUMNS = ("rotated_at", "revoked_at")  # after the first release; added to older registries on open
_COLUMNS = "name, kind, connector, signing_secret, created_at, rotated_at, revoked_at"


@dataclass(frozen=True)
class Source:
    name: str
    kind: str
    connector: str
    signing_secret: str | None
    created_at: str
    rotated_at: str | None = None
    revoked_at: str | None = None


class SourceRegistry:
    def __init__(self, path: Path):
        self._db = open_store(path, _SCHEMA)
        add_missing_columns(self._db, "sources", dict.fromkeys(_ADDED_COLUMNS, "TEXT"))
        self._lock = threading.Lock()
        self._own_writes = 0  # changes made through this handle
        self._data_version = (0, -1.0)  # (SQLite's count of commits by other connections, when read)

    def generation(self) -> tuple[int, int]:
        """Changes when a source is added, re-keyed or revoked: through this handle at once, by
        another process (``cdp sources revoke``) within a second. For caches of accepted keys."""
        version, read_at = self._data_version
        if time.monotonic() - read_at >= 1.0:
            with self._lock:
                version = self._db.execute("PRAGMA data_version").fetchone()[0]
            self._data_version = (version, time.monotonic())
        return self._own_writes, version

    def add(self, name: str, kind: str, connector: str = "segment", signing_secret: str | None = None) -> tuple[Source, str]:
        """Registers a source; returns it and its new write key (shown only now)."""
        if not _NAME.match(name):
            raise CdpError(f"source name {name!r}: use 1-64 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit")
        if kind not in SOURCE_KINDS:
            raise CdpError(f"--kind: {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        key = secrets.token_urlsafe(24)
        source = Source(name, kind, connector, signing_secret, _now())
        try:
            with self._lock:
                self._db.execute(
                    "INSERT INTO sources (name, kind, connector, key_hash, signing_secret, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, kind, connector, _hash(key), signing_secret, source.created_at),
                )
                self._own_writes += 1
        except sqlite3.IntegrityError:
            raise CdpError(f"a source named {name!r} exists already") from None
        return source, key

    def rotate(self, name: str) -> tuple[Source, str]:
        """A new write key for the source (shown only now); the old key stops working."""
        self._active(name)
        key = secrets.token_urlsafe(24)
        with self._lock:
            self._db.execute("UPDATE sources SET key_hash = ?, rotated_at = ? WHERE name = ?", (_hash(key), _now(), name))
            self._own_writes += 1
        return self.by_name(name), key

    def revoke(self, name: str) -> Source:
        """Ends the source's write key and forgets its signing secret; its events stay."""
        self._active(name)
        with self._lock:
            self._db.execute("UPDATE sources SET revoked_at = ?, signing_secret = NULL WHERE name = ?", (_now(), name))
            self._own_writes += 1
        return self.by_name(name)

    def by_write_key(self, key: str) -> Source | None:
        """The source of an active write key; revoked sources answer too (check ``revoked_at``)."""
        digest = _hash(key)
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS}, key_hash FROM sources WHERE key_hash = ?", (digest,)).fetchone()
        return Source(*row[:-1]) if row and hmac.compare_digest(row[-1], digest) else None

    def by_name(self, name: str) -> Source | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM sources WHERE name = ?", (name,)).fetchone()
        return Source(*row) if row else None

    def list(self) -> list[Source]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM sources ORDER BY name").fetchall()
        return [Source(*row) for row in rows]

    def _active(self, name: str) -> Source:
        source = self.by_name(name)
        if source is None:
            raise CdpError(f"no source is named {name!r} (see `cdp sources list`)")
        if source.revoked_at:
            raise CdpError(f"source {name!r}: its write key was revoked at {source.revoked_at}; add a new source")
        return source

    def close(self) -> None:
        self._db.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
