"""Tag definitions as versioned data: a small append-only SQLite file under the data directory.

Each version is one ``TagChange`` (projections/tags/definitions.py) with when and by whom it was
applied. No version is ever changed or deleted: the file is the audit trail of every definition,
and the rules in force are the configured ``[tags]`` followed by every version in order, so the
embedded runner, a rebuild and `cdp tags apply` all compute with the same rules.
"""

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel

from cdp.sqlite_store import open_store
from projections.tags.definitions import TagChange, in_force
from projections.tags.rules import TagRules

R = TypeVar("R", bound=BaseModel)
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS tag_definition_versions (version INTEGER PRIMARY KEY, change BLOB NOT NULL, "
    f"applied_at TEXT NOT NULL DEFAULT ({_NOW}), actor TEXT NOT NULL)"
)


@dataclass(frozen=True)
class Version:
    version: int
    applied_at: str
    actor: str
    change: TagChange

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "applied_at": self.applied_at, "actor": self.actor, "change": self.change.as_data()}


class TagDefinitionStore:
    def __init__(self, path: Path):
        self._db = open_store(path, _SCHEMA)
        self._lock = threading.Lock()  # the HTTP router serves from worker threads

    def version(self) -> int:
        """The latest version (0: none yet); cheap enough to ask before every batch."""
        with self._lock:
            return self._db.execute("SELECT COALESCE(MAX(version), 0) FROM tag_definition_versions").fetchone()[0]

    def history(self) -> list[Version]:
        """Every version, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT version, applied_at, actor, change FROM tag_definition_versions ORDER BY version").fetchall()
        return [Version(v, at, actor, TagChange.model_validate(orjson.loads(change))) for v, at, actor, change in rows]

    def rules(self, configured: TagRules) -> TagRules:
        """The tag rules in force: ``configured`` with every version applied."""
        return in_force(configured, [v.change for v in self.history()])

    def applied_to(self, rules: R) -> R:
        """Every projection's rules (``cdp.config.Settings``), with the tag rules in force."""
        return rules.model_copy(update={"tags": self.rules(rules.tags)})

    def append(self, change: TagChange, actor: str) -> Version:
        with self._lock:
            (version, applied_at) = self._db.execute(
                "INSERT INTO tag_definition_versions (change, actor) VALUES (?, ?) RETURNING version, applied_at", (orjson.dumps(change.as_data()), actor)
            ).fetchone()
        return Version(version, applied_at, actor, change)

    def close(self) -> None:
        self._db.close()
