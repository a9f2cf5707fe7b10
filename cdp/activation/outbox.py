"""The outbox (``DATA_DIR/outbox.sqlite3``): every action kept by its derived id, its delivery state
and every attempt (the delivery log), plus the audience bindings and whom each last sent.

Never twice (docs/activation.md): ``add`` ignores an id it keeps already, so the trigger runner, an
audience sync, a replay of the log or a rebuild that derives the same action adds nothing. The
dispatcher ``claim``s due actions under a lease (the attempt is counted then, so a dispatcher killed
mid-send leaves an action that is claimed again once its lease ran out, and sent again with the
same id, which the destination deduplicates by), then records how the attempt ended. An action's
state: ``pending`` (due at ``next_at``, not before ``not_before``: quiet hours), ``sending``
(claimed), and once finished ``delivered`` (confirmed), ``sent`` (accepted), ``skipped`` (no
consent, suppressed: not contactable at send time) or ``dead`` (a dead letter, replayable).
Times are Unix seconds.
"""

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from cdp.sqlite_batches import select_in
from projections.actions import Action

PENDING, SENDING, SENT, DELIVERED, SKIPPED, DEAD = "pending", "sending", "sent", "delivered", "skipped", "dead"
STATUSES = (PENDING, SENDING, SENT, DELIVERED, SKIPPED, DEAD)
FINISHED = (SENT, DELIVERED, SKIPPED, DEAD)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS actions (
    action_id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    destination TEXT NOT NULL,
    template TEXT NOT NULL,
    channel TEXT NOT NULL,
    purpose TEXT NOT NULL,
    cause TEXT NOT NULL,
    cause_time TEXT NOT NULL,
    not_before REAL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    lease_until REAL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS actions_due ON actions (status, next_at);
CREATE INDEX IF NOT EXISTS actions_customer ON actions (customer_id);
CREATE TABLE IF NOT EXISTS attempts (
    action_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at REAL NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_action ON attempts (action_id);
CREATE TABLE IF NOT EXISTS bindings (
    name TEXT PRIMARY KEY,
    segment TEXT NOT NULL,
    destination TEXT NOT NULL,
    template TEXT NOT NULL,
    channel TEXT NOT NULL,
    purpose TEXT NOT NULL,
    fields TEXT NOT NULL,
    every_minutes INTEGER NOT NULL,
    created_at REAL NOT NULL,
    last_sync_at REAL,
    last_sync_position INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS binding_members (
    binding TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (binding, customer_id)
) WITHOUT ROWID;
"""
_ACTION_COLUMNS = "action_id, rule, customer_id, destination, template, channel, purpose, cause, cause_time, not_before, payload"
LOG_COLUMNS = "action_id, rule, customer_id, destination, channel, template, cause, cause_time, status, attempts, last_error, created_at, updated_at"
LOG_NAMES = LOG_COLUMNS.split(", ")


@dataclass(frozen=True)
class Claimed:
    """A claimed action and the number of this attempt (1 for the first)."""

    action: Action
    attempt: int


@dataclass(frozen=True)
class Outcome:
    """How one claimed attempt ended: ``status`` one of ``FINISHED``, or ``PENDING`` to try again at ``next_at``."""

    action_id: str
    attempt: int
    status: str
    detail: str
    next_at: float = 0.0
    released: bool = False  # not attempted (its destination's circuit opened meanwhile): not counted


@dataclass(frozen=True)
class Binding:
    name: str
    segment: str
    destination: str
    template: str
    channel: str
    purpose: str
    fields: tuple[str, ...]
    every_minutes: int  # 0: on demand only
    created_at: float
    last_sync_at: float | None
    last_sync_position: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "segment": self.segment, "destination": self.destination, "template": self.template, "channel": self.channel,
            "purpose": self.purpose, "fields": list(self.fields), "every_minutes": self.every_minutes, "created_at": iso(self.created_at),
            "last_sync_at": iso(self.last_sync_at), "last_sync_position": self.last_sync_position,
        }  # fmt: skip


class Outbox:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an action claimed or finished survives a power cut
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def add(self, actions: Iterable[Action]) -> int:
        """Keeps every action whose id is new; returns how many were new."""
        with self._transaction():
            return self._insert(actions)

    def add_sync(self, binding: str, actions: Sequence[Action], entered: Sequence[str], left: Sequence[str], position: int, at: float) -> int:
        """An audience sync in one transaction: its actions, the binding's members now, and the sync's position."""
        with self._transaction():
            added = self._insert(actions)
            self._db.executemany("INSERT OR IGNORE INTO binding_members (binding, customer_id) VALUES (?, ?)", [(binding, c) for c in entered])
            self._db.executemany("DELETE FROM binding_members WHERE binding = ? AND customer_id = ?", [(binding, c) for c in left])
            self._db.execute("UPDATE bindings SET last_sync_at = ?, last_sync_position = ? WHERE name = ?", (at, position, binding))
            return added

    def claim(self, now: float, limit: int, lease_seconds: float, skip_destinations: Iterable[str] = ()) -> list[Claimed]:
        """Up to ``limit`` due actions (pending and due, or claimed by a dispatcher whose lease ran
        out), oldest first, now claimed until ``now + lease_seconds``; each claim counts an attempt."""
        skipped = sorted(set(skip_destinations))
        marks = ",".join("?" * len(skipped))
        not_skipped = f"AND destination NOT IN ({marks})" if skipped else ""
        with self._transaction():
            rows = self._db.execute(
                f"SELECT {_ACTION_COLUMNS}, attempts FROM actions WHERE ((status = ? AND next_at <= ?) OR (status = ? AND lease_until <= ?)) "
                f"AND (not_before IS NULL OR not_before <= ?) {not_skipped} ORDER BY next_at LIMIT ?",
                (PENDING, now, SENDING, now, now, *skipped, limit),
            ).fetchall()
            self._db.executemany(
                "UPDATE actions SET status = ?, lease_until = ?, attempts = attempts + 1, updated_at = ? WHERE action_id = ?",
                [(SENDING, now + lease_seconds, now, row[0]) for row in rows],
            )
        return [Claimed(action_from_row(row[:-1]), row[-1] + 1) for row in rows]

    def record(self, outcomes: Sequence["Outcome"], at: float) -> None:
        """How the claimed attempts ended, in one transaction: finished, to retry at ``next_at``, or
        ``released`` (not attempted after all: the attempt is not counted)."""
        with self._transaction():
            for o in outcomes:
                if o.status in FINISHED:
                    self._db.execute(
                        "UPDATE actions SET status = ?, lease_until = NULL, last_error = ?, updated_at = ? WHERE action_id = ?",
                        (o.status, "" if o.status in (SENT, DELIVERED) else o.detail, at, o.action_id),
                    )
                else:
                    self._db.execute(
                        "UPDATE actions SET status = ?, lease_until = NULL, next_at = ?, last_error = ?, attempts = attempts - ?, updated_at = ? WHERE action_id = ?",
                        (PENDING, o.next_at, o.detail, int(o.released), at, o.action_id),
                    )
                self._log(o.action_id, o.attempt, "released" if o.released else o.status if o.status in FINISHED else "retry", o.detail, at)

    def replay(self, action_ids: Sequence[str] | None, now: float) -> int:
        """Dead letters back to pending with their attempts reset: the ids given, or every one."""
        with self._transaction():
            if action_ids is None:
                return self._db.execute("UPDATE actions SET status = ?, attempts = 0, next_at = ?, updated_at = ? WHERE status = ?", (PENDING, now, now, DEAD)).rowcount
            return sum(
                self._db.execute("UPDATE actions SET status = ?, attempts = 0, next_at = ?, updated_at = ? WHERE status = ? AND action_id = ?", (PENDING, now, now, DEAD, i)).rowcount
                for i in action_ids
            )

    def deliveries(self, customer_ids: Sequence[str] | None = None, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The delivery log, newest first: one row per action with its state and its last error."""
        where, params = [], []
        if customer_ids is not None:
            where.append(f"customer_id IN ({','.join('?' * len(customer_ids))})")
            params.extend(customer_ids)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            rows = self._db.execute(f"SELECT {LOG_COLUMNS} FROM actions {clause} ORDER BY updated_at DESC, action_id LIMIT ?", (*params, limit)).fetchall()
        return [log_entry(row) for row in rows]

    def attempts(self, action_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT attempt, at, outcome, detail FROM attempts WHERE action_id = ? ORDER BY at, attempt", (action_id,)).fetchall()
        return [attempt_entry(row) for row in rows]

    def statuses(self, action_ids: Sequence[str]) -> dict[str, str]:
        with self._lock:
            return dict(select_in(self._db, "SELECT action_id, status FROM actions WHERE action_id IN ({})", list(action_ids)))

    def counts(self) -> dict[str, int]:
        with self._lock:
            found = dict(self._db.execute("SELECT status, count(*) FROM actions GROUP BY status").fetchall())
        return {s: found.get(s, 0) for s in STATUSES}

    def next_due(self) -> float | None:
        """When the earliest pending action is due (for the dispatcher's wait), None if there is none."""
        with self._lock:
            (at,) = self._db.execute("SELECT min(max(next_at, coalesce(not_before, 0))) FROM actions WHERE status = ?", (PENDING,)).fetchone()
        return at

    # bindings
    def bind(self, binding: Binding) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT INTO bindings (name, segment, destination, template, channel, purpose, fields, every_minutes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (binding.name, binding.segment, binding.destination, binding.template, binding.channel, binding.purpose, orjson.dumps(list(binding.fields)).decode(), binding.every_minutes, binding.created_at),
            )

    def binding(self, name: str) -> Binding | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM bindings WHERE name = ?", (name,)).fetchone()
        return binding_from_row(row) if row else None

    def bindings(self) -> list[Binding]:
        with self._lock:
            return [binding_from_row(row) for row in self._db.execute("SELECT * FROM bindings ORDER BY name").fetchall()]

    def unbind(self, name: str) -> bool:
        with self._transaction():
            self._db.execute("DELETE FROM binding_members WHERE binding = ?", (name,))
            return bool(self._db.execute("DELETE FROM bindings WHERE name = ?", (name,)).rowcount)

    def members(self, binding: str) -> set[str]:
        """Whom the binding's syncs sent as entered and not yet as left."""
        with self._lock:
            return {c for (c,) in self._db.execute("SELECT customer_id FROM binding_members WHERE binding = ?", (binding,))}

    def close(self) -> None:
        self._db.close()

    def _insert(self, actions: Iterable[Action]) -> int:
        before = self._db.total_changes
        now = datetime.now(UTC).timestamp()
        self._db.executemany(
            f"INSERT OR IGNORE INTO actions ({_ACTION_COLUMNS}, status, next_at, created_at, updated_at) VALUES ({', '.join('?' * 15)})",
            [
                (a.action_id, a.rule, a.customer_id, a.destination, a.template, a.channel, a.purpose, a.cause, a.cause_time.isoformat(),
                 a.not_before.timestamp() if a.not_before else None, orjson.dumps(dict(a.payload)).decode(), PENDING, now, now, now)
                for a in actions
            ],
        )  # fmt: skip
        return self._db.total_changes - before

    def _log(self, action_id: str, attempt: int, outcome: str, detail: str, at: float) -> None:
        self._db.execute("INSERT INTO attempts (action_id, attempt, at, outcome, detail) VALUES (?, ?, ?, ?, ?)", (action_id, attempt, at, outcome, detail))

    def _transaction(self):
        return _Transaction(self._db, self._lock)


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` under the handle's lock; rolled back on any error."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock):
        self._db, self._lock = db, lock

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, kind, *_: object) -> None:
        try:
            self._db.execute("ROLLBACK" if kind else "COMMIT")
        finally:
            self._lock.release()


def action_from_row(row: tuple) -> Action:
    action_id, rule, customer_id, destination, template, channel, purpose, cause, cause_time, not_before, payload = row
    return Action(
        action_id, rule, customer_id, destination, template, channel, purpose, cause, datetime.fromisoformat(cause_time),
        datetime.fromtimestamp(not_before, UTC) if not_before is not None else None, orjson.loads(payload),
    )  # fmt: skip


def binding_from_row(row: tuple) -> Binding:
    name, segment, destination, template, channel, purpose, fields, every, created, last_at, last_position = row
    return Binding(name, segment, destination, template, channel, purpose, tuple(orjson.loads(fields)), every, created, last_at, last_position)


def log_entry(row: tuple) -> dict[str, Any]:
    """A delivery-log row (``LOG_COLUMNS``, from either outbox) as the doors show it."""
    return {**dict(zip(LOG_NAMES, row, strict=True)), "created_at": iso(row[-2]), "updated_at": iso(row[-1])}


def attempt_entry(row: tuple) -> dict[str, Any]:
    """An attempt row (``attempt, at, outcome, detail``, from either outbox) as the doors show it."""
    attempt, at, outcome, detail = row
    return {"attempt": attempt, "at": iso(at), "outcome": outcome, "detail": detail}


def iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
