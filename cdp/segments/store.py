"""Saved segments: a small SQLite file under the data directory, one row per segment name."""

import sqlite3
from pathlib import Path

import orjson

from cdp.errors import CdpError
from cdp.segments.model import Segment, parse_segment


class SegmentStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # the HTTP router serves from worker threads; collector processes open it at once (busy timeout as every store)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS segments (name TEXT PRIMARY KEY, definition BLOB NOT NULL, "
            "created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')), updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))"
        )

    def save(self, segment: Segment, replace: bool = False) -> None:
        definition = orjson.dumps(segment.model_dump(mode="json", by_alias=True, exclude_defaults=True))
        try:
            if replace:
                self._db.execute(
                    "INSERT INTO segments (name, definition) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, "
                    "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                    (segment.name, definition),
                )
            else:
                self._db.execute("INSERT INTO segments (name, definition) VALUES (?, ?)", (segment.name, definition))
        except sqlite3.IntegrityError:
            raise CdpError(f"a segment named {segment.name!r} exists; use --replace to change it") from None

    def get(self, name: str) -> Segment:
        row = self._db.execute("SELECT definition FROM segments WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise CdpError(f"no segment named {name!r} (see `cdp segment list`)")
        return parse_segment(orjson.loads(row[0]))

    def list(self) -> list[dict]:
        rows = self._db.execute("SELECT name, definition, created_at, updated_at FROM segments ORDER BY name").fetchall()
        return [{"name": n, "description": orjson.loads(d).get("description", ""), "created_at": c, "updated_at": u} for n, d, c, u in rows]

    def delete(self, name: str) -> None:
        if self._db.execute("DELETE FROM segments WHERE name = ?", (name,)).rowcount == 0:
            raise CdpError(f"no segment named {name!r}")

    def close(self) -> None:
        self._db.close()
