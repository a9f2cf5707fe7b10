"""Configured destinations (``DATA_DIR/destinations.sqlite``): name, kind, validated settings and the
secret, sealed with a data key of the key store (``cdp.activation.secrets``). Listings never include
the secret, only whether one is set.
"""

import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from cdp.activation.destinations import Context, Destination, destination_kind, parse_settings
from cdp.activation.secrets import SecretBox
from cdp.errors import CdpError
from cdp.refusals import refusal
from cdp.sqlite_store import open_store

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS destinations (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    settings TEXT NOT NULL,
    key_id TEXT,
    secret BLOB,
    created_at TEXT NOT NULL
)
"""


class NoSuchDestination(CdpError):
    pass


class DestinationExists(CdpError):
    pass


@dataclass(frozen=True)
class DestinationRecord:
    name: str
    kind: str
    settings: dict[str, Any]
    has_secret: bool
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "settings": self.settings, "secret": "set" if self.has_secret else "none", "created_at": self.created_at}


class DestinationRegistry:
    def __init__(self, path: Path, box: SecretBox):
        self._db = open_store(path, _SCHEMA)
        self._box = box
        self._lock = threading.Lock()

    def add(self, name: str, kind: str, settings: dict[str, Any], secret: str | None) -> DestinationRecord:
        """Validates and keeps a destination; errors name the field (``name``, ``kind``, ``settings.url``, ``secret``)."""
        if not NAME.match(name):
            raise refusal(CdpError, "bad_name", given=name[:70])
        plugin = destination_kind(kind)
        parsed = parse_settings(plugin, settings)
        if secret is not None and not secret.strip():
            secret = None
        if plugin.needs_secret and secret is None:
            raise refusal(CdpError, "secret_needed", kind=kind, help=plugin.secret_help)
        plugin.check(parsed, secret)
        record = DestinationRecord(name, kind, parsed.model_dump(mode="json"), secret is not None, datetime.now(UTC).isoformat(timespec="seconds"))
        try:
            with self._lock:
                self._db.execute(
                    "INSERT INTO destinations (name, kind, settings, key_id, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, kind, orjson.dumps(record.settings).decode(), *(self._box.seal(name, secret) if secret is not None else (None, None)), record.created_at),
                )
        except sqlite3.IntegrityError:
            raise refusal(DestinationExists, "destination_exists", name=name) from None
        return record

    def get(self, name: str) -> DestinationRecord:
        row = self._row(name)
        return DestinationRecord(row[0], row[1], orjson.loads(row[2]), row[3] is not None, row[4])

    def list(self) -> list[DestinationRecord]:
        with self._lock:
            rows = self._db.execute("SELECT name, kind, settings, secret, created_at FROM destinations ORDER BY name").fetchall()
        return [DestinationRecord(r[0], r[1], orjson.loads(r[2]), r[3] is not None, r[4]) for r in rows]

    def remove(self, name: str) -> None:
        with self._lock:
            if not self._db.execute("DELETE FROM destinations WHERE name = ?", (name,)).rowcount:
                raise refusal(NoSuchDestination, "no_destination", name=name[:70])

    def open(self, name: str, timeout_seconds: float, outbound_dir: Path) -> Destination:
        """The destination ready to send: its plugin with its settings and its secret, opened."""
        row = self._row(name)
        plugin = destination_kind(row[1])
        secret = self._box.open(name, row[5], row[3]) if row[3] is not None else None
        return plugin(parse_settings(plugin, orjson.loads(row[2])), Context(name, secret, timeout_seconds, outbound_dir))

    def close(self) -> None:
        self._db.close()

    def _row(self, name: str) -> tuple:
        with self._lock:
            row = self._db.execute("SELECT name, kind, settings, secret, created_at, key_id FROM destinations WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise refusal(NoSuchDestination, "no_destination", name=name[:70])
        return row
