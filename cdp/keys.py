"""Read keys: who may read what through the HTTP API, by scope (``segments:write`` also lets a key
save and delete segments; a read key never sends events).

A key looks like ``cdp_rk_<id>_<secret>``. The id (not secret) finds the key; the secret is kept
only as its SHA-256 and compared in constant time. A key is shown once, when created or rotated.
Rotating gives the same key (id, name, scopes) a new secret, and the old secret stops working;
revoking ends the key for good. Random 192-bit secrets make an unsalted hash enough.
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
from cdp.sqlite_store import open_store

SCOPES = ("profiles:read", "pii:read", "segments:read", "segments:write", "analytics:read", "triggers:read", "admin")
ADMIN = "admin"
PREFIX = "cdp_rk_"
_TOKEN = re.compile(r"^cdp_rk_([a-f0-9]{16})_([A-Za-z0-9_-]{32})$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS read_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    rotated_at TEXT,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS ended_sessions (nonce TEXT PRIMARY KEY, until REAL NOT NULL)
"""
_COLUMNS = "id, name, scopes, created_at, rotated_at, revoked_at"


@dataclass(frozen=True)
class ReadKey:
    id: str
    name: str
    scopes: tuple[str, ...]
    created_at: str
    rotated_at: str | None
    revoked_at: str | None

    def allows(self, scope: str) -> bool:
        return ADMIN in self.scopes or scope in self.scopes

    @property
    def actor(self) -> str:
        return f"key:{self.name}"


class KeyRefused(Exception):
    """Why a presented key does not authenticate; ``key`` is set when the key itself was found."""

    def __init__(self, message: str, key: ReadKey | None = None):
        super().__init__(message)
        self.key = key


class KeyRegistry:
    def __init__(self, path: Path):
        self._db = open_store(path, _SCHEMA)
        self._lock = threading.Lock()

    def create(self, name: str, scopes: list[str]) -> tuple[ReadKey, str]:
        """A new key and its token (shown only now)."""
        if not _NAME.match(name):
            raise CdpError(f"key name {name!r}: use 1-64 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit")
        if not scopes:
            raise CdpError(f"--scope: give at least one of {', '.join(SCOPES)}")
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise CdpError(f"--scope: {unknown[0]!r} is not one of {', '.join(SCOPES)}")
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
        key = ReadKey(key_id, name, tuple(dict.fromkeys(scopes)), _now(), None, None)
        try:
            with self._lock:
                self._db.execute(
                    "INSERT INTO read_keys (id, name, scopes, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                    (key.id, name, " ".join(key.scopes), _hash(secret), key.created_at),
                )
        except sqlite3.IntegrityError:
            raise CdpError(f"a read key named {name!r} exists already (rotate it with `cdp keys rotate {name}`)") from None
        return key, _token(key_id, secret)

    def rotate(self, name: str) -> tuple[ReadKey, str]:
        """A new secret for the key; the old one stops working now."""
        key = self._active(name)
        secret, at = secrets.token_urlsafe(24), _now()
        with self._lock:
            self._db.execute("UPDATE read_keys SET secret_hash = ?, rotated_at = ? WHERE id = ?", (_hash(secret), at, key.id))
        return self.by_name(name), _token(key.id, secret)

    def revoke(self, name: str) -> ReadKey:
        key = self._active(name)
        with self._lock:
            self._db.execute("UPDATE read_keys SET revoked_at = ? WHERE id = ?", (_now(), key.id))
        return self.by_name(name)

    def end_session(self, nonce: str, until: float) -> None:
        """Records that the console session of this nonce was signed out, until it would have expired
        (seconds since the epoch): its cookie, copied or not, opens nothing more (``session_ended``)."""
        with self._lock:
            self._db.execute("DELETE FROM ended_sessions WHERE until < ?", (time.time(),))
            self._db.execute("INSERT OR IGNORE INTO ended_sessions (nonce, until) VALUES (?, ?)", (nonce, until))

    def session_ended(self, nonce: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM ended_sessions WHERE nonce = ?", (nonce,)).fetchone() is not None

    def authenticate(self, token: str) -> ReadKey:
        """The key a token belongs to; raises ``KeyRefused`` (never naming the secret) otherwise."""
        match = _TOKEN.match(token)
        if match is None:
            raise KeyRefused("read key: not a read key (expected cdp_rk_<id>_<secret>, from `cdp keys create`)")
        key_id, secret = match.groups()
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS}, secret_hash FROM read_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise KeyRefused(f"read key {key_id}: unknown")
        key = _key(row[:-1])
        if not hmac.compare_digest(_hash(secret), row[-1]):
            raise KeyRefused(f"read key {key.name!r}: wrong secret (rotated at {key.rotated_at}?)" if key.rotated_at else f"read key {key.name!r}: wrong secret", key)
        if key.revoked_at:
            raise KeyRefused(f"read key {key.name!r}: revoked at {key.revoked_at}", key)
        return key

    def by_name(self, name: str) -> ReadKey | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM read_keys WHERE name = ?", (name,)).fetchone()
        return _key(row) if row else None

    def list(self) -> list[ReadKey]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM read_keys ORDER BY name").fetchall()
        return [_key(row) for row in rows]

    def _active(self, name: str) -> ReadKey:
        key = self.by_name(name)
        if key is None:
            raise CdpError(f"no read key is named {name!r} (see `cdp keys list`)")
        if key.revoked_at:
            raise CdpError(f"read key {name!r} was revoked at {key.revoked_at}; create a new one")
        return key

    def close(self) -> None:
        self._db.close()


def key_id_of(token: str) -> str | None:
    """The id part of something shaped like a read key (not secret; for the audit log), else None."""
    match = _TOKEN.match(token)
    return match.group(1) if match else None


def _token(key_id: str, secret: str) -> str:
    return f"{PREFIX}{key_id}_{secret}"


def _key(row: tuple) -> ReadKey:
    key_id, name, scopes, created_at, rotated_at, revoked_at = row
    return ReadKey(key_id, name, tuple(scopes.split()), created_at, rotated_at, revoked_at)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
