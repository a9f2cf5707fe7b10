"""The source registry: each source's name, kind, connector and write key (kept only as a hash).

A write key is shown once, when its source is added; the registry stores its SHA-256, so a
copy of the data directory does not leak keys. Keys are random (192 bits), so an unsalted
hash is enough to make them unrecoverable. A webhook connector's signing secret is the
sender's (the tool generates it) and must be kept as is to check signatures.
"""

import hashlib
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cdp.errors import CdpError
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


@dataclass(frozen=True)
class Source:
    name: str
    kind: str
    connector: str
    signing_secret: str | None
    created_at: str


class SourceRegistry:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()

    def add(self, name: str, kind: str, connector: str = "segment", signing_secret: str | None = None) -> tuple[Source, str]:
        """Registers a source; returns it and its new write key (shown only now)."""
        if not _NAME.match(name):
            raise CdpError(f"source name {name!r}: use 1-64 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit")
        if kind not in SOURCE_KINDS:
            raise CdpError(f"--kind: {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        key = secrets.token_urlsafe(24)
        source = Source(name, kind, connector, signing_secret, datetime.now(UTC).isoformat(timespec="seconds"))
        try:
            with self._lock:
                self._db.execute(
                    "INSERT INTO sources (name, kind, connector, key_hash, signing_secret, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, kind, connector, _hash(key), signing_secret, source.created_at),
                )
        except sqlite3.IntegrityError:
            raise CdpError(f"a source named {name!r} exists already") from None
        return source, key

    def by_write_key(self, key: str) -> Source | None:
        return self._one("key_hash = ?", _hash(key))

    def by_name(self, name: str) -> Source | None:
        return self._one("name = ?", name)

    def list(self) -> list[Source]:
        with self._lock:
            rows = self._db.execute("SELECT name, kind, connector, signing_secret, created_at FROM sources ORDER BY name").fetchall()
        return [Source(*row) for row in rows]

    def _one(self, where: str, value: str) -> Source | None:
        with self._lock:
            row = self._db.execute(f"SELECT name, kind, connector, signing_secret, created_at FROM sources WHERE {where}", (value,)).fetchone()
        return Source(*row) if row else None

    def close(self) -> None:
        self._db.close()


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
