"""Saved segments: a small SQLite file under the data directory holding every saved version of each
segment's definition, with when and by whom it was saved. The newest version is the segment; the
earlier ones are its history (what a campaign was sent to last month). Deleting a segment forgets
its history too; a segment another one is built on (``cdp.segments.references``) is not deleted,
and every save keeps references one level deep, in its own transaction."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from cdp.errors import CdpError, QueryRefused, SegmentInvalid
from cdp.refusals import refusal
from cdp.segments.model import Segment, parse_segment
from cdp.segments.references import expanded, refers, saving_problems
from cdp.segments.values import KnownValues, check_values
from cdp.sqlite_store import open_store

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS segment_versions (name TEXT NOT NULL, version INTEGER NOT NULL, definition BLOB NOT NULL, "
    f"saved_at TEXT NOT NULL DEFAULT ({_NOW}), actor TEXT NOT NULL, PRIMARY KEY (name, version))"
)
_NEWEST = "version = (SELECT max(version) FROM segment_versions AS v WHERE v.name = segment_versions.name)"


class SegmentExists(CdpError):
    """A segment of that name is saved already."""


class NoSuchSegment(CdpError):
    """No segment of that name is saved."""


# how evaluating a saved segment can fail through no fault of the caller's: deleted meanwhile, no
# longer valid (a store edited by hand), or its query refused by the warehouse (a server of the
# user's with a smaller max_query_size); the 360° view and the dispatcher leave such a segment out
NOT_EVALUABLE = (NoSuchSegment, SegmentInvalid, QueryRefused)


class SegmentInUse(CdpError):
    """Other saved segments are built on this one."""


@dataclass(frozen=True)
class Version:
    """One saved version of a segment's definition."""

    version: int
    saved_at: str
    actor: str
    segment: Segment

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "saved_at": self.saved_at, "actor": self.actor, "definition": definition_of(self.segment)}


def definition_of(segment: Segment) -> dict[str, Any]:
    """The definition as its author would write it (JSON types, no defaults spelled out)."""
    return segment.model_dump(mode="json", by_alias=True, exclude_defaults=True)


class SegmentStore:
    """``known``: the values conditions may name now (``values.known_values`` of the rules in force),
    against which every segment is checked where it is evaluated."""

    def __init__(self, path: Path, known: Callable[[], KnownValues]):
        self._known = known
        self._db = open_store(path, _SCHEMA)
        self._lock = threading.Lock()  # the HTTP router serves from worker threads
        with self._transaction():  # CLI processes open it at once: one adopts
            self._adopt_unversioned()

    def create(self, segment: Segment, actor: str) -> Version:
        """Saves the first version; raises ``SegmentExists`` if the name is taken, ``SegmentInvalid``
        if its references do not hold (``check``)."""
        with self._transaction():
            if self._latest(segment.name) is not None:
                raise refusal(SegmentExists, "segment_exists", name=segment.name)
            saving_problems(segment, self._read_newest, self._users(segment.name))
            return self._append(segment, 1, actor)

    def update(self, segment: Segment, actor: str) -> Version:
        """Saves a new version; raises ``NoSuchSegment`` if none of that name is saved."""
        with self._transaction():
            latest = self._latest(segment.name)
            if latest is None:
                raise _missing(segment.name)
            saving_problems(segment, self._read_newest, self._users(segment.name))
            return self._append(segment, latest + 1, actor)

    def get(self, name: str) -> Segment:
        """The segment as it is evaluated: its newest version with the saved segments it refers to
        expanded (``expand``); raises ``NoSuchSegment``, or ``SegmentInvalid`` if a reference no longer
        holds or a value it names is no longer known (a tag rule removed since it was saved)."""
        return self.expand(self.checked(self.written(name)))

    def written(self, name: str) -> Segment:
        """The newest version as its writer saved it; raises ``NoSuchSegment``."""
        segment = self._newest(name)
        if segment is None:
            raise _missing(name)
        return segment

    def expand(self, segment: Segment) -> Segment:
        """``segment`` (saved or not) with every saved segment it refers to expanded, as saved now;
        refuses a reference to one whose values are no longer known, naming it, rather than
        evaluating it to no customer."""
        return expanded(segment, self._newest, check=self.checked)

    def checked(self, segment: Segment) -> Segment:
        """``segment``, or ``SegmentInvalid`` naming the first value it names that is no longer known
        (``values.check_values``)."""
        return check_values(segment, self._known())

    def check(self, segment: Segment) -> None:
        """Raises ``SegmentInvalid`` if saving ``segment`` now would break the one level of references
        (``references.saving_problems``); ``create`` and ``update`` check again as they save."""
        with self._lock:
            saving_problems(segment, self._read_newest, self._users(segment.name))

    def history(self, name: str) -> list[Version]:
        """Every saved version, oldest first; raises ``NoSuchSegment``."""
        with self._lock:
            rows = self._db.execute("SELECT version, saved_at, actor, definition FROM segment_versions WHERE name = ? ORDER BY version", (name,)).fetchall()
        if not rows:
            raise _missing(name)
        return [Version(v, at, actor, parse_segment(orjson.loads(d))) for v, at, actor, d in rows]

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name, definition, version, first, saved_at FROM (SELECT *, min(saved_at) OVER (PARTITION BY name) AS first, "
                "row_number() OVER (PARTITION BY name ORDER BY version DESC) AS n FROM segment_versions) WHERE n = 1 ORDER BY name"
            ).fetchall()
        return [
            {"name": n, "description": orjson.loads(d).get("description", ""), "version": v, "created_at": c, "updated_at": u} for n, d, v, c, u in rows
        ]

    def delete(self, name: str) -> None:
        """Forgets the segment and its history; raises ``NoSuchSegment``, or ``SegmentInUse`` while
        the newest version of another segment refers to it."""
        with self._transaction():
            users = self._users(name)
            if users:
                raise refusal(SegmentInUse, "segment_in_use", name=name, users=[u.name for u in users])
            if self._db.execute("DELETE FROM segment_versions WHERE name = ?", (name,)).rowcount == 0:
                raise _missing(name)

    def close(self) -> None:
        self._db.close()

    def _newest(self, name: str) -> Segment | None:
        with self._lock:
            return self._read_newest(name)

    def _read_newest(self, name: str) -> Segment | None:
        """Under the lock (a transaction's or ``_newest``'s)."""
        row = self._db.execute(f"SELECT definition FROM segment_versions WHERE {_NEWEST} AND name = ?", (name,)).fetchone()
        return None if row is None else parse_segment(orjson.loads(row[0]))

    def _users(self, name: str) -> "list[Segment]":  # a string: the method ``list`` shadows the type here
        """The other saved segments built on ``name`` (their newest versions); under the lock. Only
        the definitions whose stored JSON holds the reference's text are parsed (every save asks)."""
        reference = orjson.dumps({"segment": name})[1:-1]  # "segment":"vip", as definition_of stores it
        newest = self._db.execute(f"SELECT definition FROM segment_versions WHERE {_NEWEST} AND name != ? AND instr(definition, ?) > 0", (name, reference)).fetchall()
        return [segment for segment in (parse_segment(orjson.loads(d)) for (d,) in newest) if name in refers(segment)]

    def _latest(self, name: str) -> int | None:
        return self._db.execute("SELECT max(version) FROM segment_versions WHERE name = ?", (name,)).fetchone()[0]

    def _append(self, segment: Segment, version: int, actor: str) -> Version:
        (saved_at,) = self._db.execute(
            "INSERT INTO segment_versions (name, version, definition, actor) VALUES (?, ?, ?, ?) RETURNING saved_at",
            (segment.name, version, orjson.dumps(definition_of(segment)), actor),
        ).fetchone()
        return Version(version, saved_at, actor, segment)

    def _adopt_unversioned(self) -> None:
        """A data directory from before versions kept one row per segment (table ``segments``): each
        becomes its segment's version 1, saved when it was last updated, by an unknown actor."""
        if self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'segments'").fetchone():
            self._db.execute("INSERT OR IGNORE INTO segment_versions (name, version, definition, saved_at, actor) SELECT name, 1, definition, updated_at, '' FROM segments")
            self._db.execute("DROP TABLE segments")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One writer at a time: this process's threads by the lock, other processes by ``BEGIN IMMEDIATE``."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")


def _missing(name: str) -> NoSuchSegment:
    return refusal(NoSuchSegment, "no_segment", name=name[:100], cut="…" if len(name) > 100 else "")
