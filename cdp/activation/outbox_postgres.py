"""The outbox in PostgreSQL, for the scale-out deployment (docs/operations.md, "Scale-out"): the
same actions, delivery log and audience bindings as ``cdp.activation.outbox``, in the database the
scale-out state uses, so every worker adds the actions it derives and dispatchers on several hosts
share them.

Never twice holds across hosts: ``add`` keeps an id once (``ON CONFLICT DO NOTHING``: a worker
taking over a partition, or a relay republishing, derives the same ids again and adds none), and
``claim`` locks the due rows it takes with ``FOR UPDATE SKIP LOCKED`` and leases them in the same
statement, so two dispatchers claiming at once never get the same action; one killed mid-send
leaves its claims to be taken again once the lease ran out, as with the SQLite outbox.
"""

import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from cdp.activation.outbox import DEAD, DELIVERED, FINISHED, LOG_COLUMNS, PENDING, SENDING, SENT, STATUSES, Binding, Claimed, Outcome, action_from_row, attempt_entry, binding_from_row, log_entry
from cdp.config import PostgresSettings
from cdp.postgres import connect
from projections.actions import Action

_SCHEMA = """
CREATE TABLE IF NOT EXISTS activation_actions (
    action_id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    destination TEXT NOT NULL,
    template TEXT NOT NULL,
    channel TEXT NOT NULL,
    purpose TEXT NOT NULL,
    cause TEXT NOT NULL,
    cause_time TEXT NOT NULL,
    not_before DOUBLE PRECISION,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at DOUBLE PRECISION NOT NULL,
    lease_until DOUBLE PRECISION,
    last_error TEXT NOT NULL DEFAULT '',
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS activation_actions_due ON activation_actions (status, next_at);
CREATE INDEX IF NOT EXISTS activation_actions_customer ON activation_actions (customer_id);
CREATE TABLE IF NOT EXISTS activation_attempts (
    action_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS activation_attempts_action ON activation_attempts (action_id);
CREATE TABLE IF NOT EXISTS activation_bindings (
    name TEXT PRIMARY KEY,
    segment TEXT NOT NULL,
    destination TEXT NOT NULL,
    template TEXT NOT NULL,
    channel TEXT NOT NULL,
    purpose TEXT NOT NULL,
    fields TEXT NOT NULL,
    every_minutes INTEGER NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    last_sync_at DOUBLE PRECISION,
    last_sync_position BIGINT
);
CREATE TABLE IF NOT EXISTS activation_binding_members (
    binding TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (binding, customer_id)
);
"""
_SCHEMA_LOCK = 0x6364704F  # advisory lock: concurrent first starts create the tables once
_ACTION_COLUMNS = "action_id, rule, customer_id, destination, template, channel, purpose, cause, cause_time, not_before, payload"
_BINDING_COLUMNS = "name, segment, destination, template, channel, purpose, fields, every_minutes, created_at, last_sync_at, last_sync_position"
# due: pending and due, or claimed by a dispatcher whose lease ran out; rows another dispatcher is claiming right now are skipped
_CLAIM = f"""
WITH due AS (
    SELECT action_id FROM activation_actions
    WHERE ((status = %(pending)s AND next_at <= %(now)s) OR (status = %(sending)s AND lease_until <= %(now)s))
      AND (not_before IS NULL OR not_before <= %(now)s) AND NOT (destination = ANY(%(skipped)s))
    ORDER BY next_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
)
UPDATE activation_actions AS a SET status = %(sending)s, lease_until = %(lease)s, attempts = a.attempts + 1, updated_at = %(now)s
FROM due WHERE a.action_id = due.action_id
RETURNING {', '.join(f'a.{c}' for c in _ACTION_COLUMNS.split(', '))}, a.attempts, a.next_at
"""


class PostgresOutbox:
    """``cdp.activation.outbox.Outbox``'s interface on PostgreSQL; one connection, used by one thread at a time."""

    def __init__(self, settings: PostgresSettings):
        self._db = connect(settings, _SCHEMA, _SCHEMA_LOCK)
        self._lock = threading.Lock()

    def add(self, actions: Iterable[Action]) -> int:
        """Keeps every action whose id is new; returns how many were new."""
        with self._lock, self._db.transaction():
            return self._insert(actions)

    def add_sync(self, binding: str, actions: Sequence[Action], entered: Sequence[str], left: Sequence[str], position: int, at: float) -> int:
        """An audience sync in one transaction: its actions, the binding's members now, and the sync's position."""
        with self._lock, self._db.transaction():
            added = self._insert(actions)
            with self._db.cursor() as cursor:
                cursor.executemany("INSERT INTO activation_binding_members (binding, customer_id) VALUES (%s, %s) ON CONFLICT DO NOTHING", [(binding, c) for c in entered])
                cursor.executemany("DELETE FROM activation_binding_members WHERE binding = %s AND customer_id = %s", [(binding, c) for c in left])
            self._db.execute("UPDATE activation_bindings SET last_sync_at = %s, last_sync_position = %s WHERE name = %s", (at, position, binding))
            return added

    def claim(self, now: float, limit: int, lease_seconds: float, skip_destinations: Iterable[str] = ()) -> list[Claimed]:
        """Up to ``limit`` due actions, oldest first, now claimed until ``now + lease_seconds``; each
        claim counts an attempt. Rows another dispatcher is claiming meanwhile are not waited for."""
        params = {"pending": PENDING, "sending": SENDING, "now": now, "lease": now + lease_seconds, "skipped": sorted(set(skip_destinations)), "limit": limit}
        with self._lock, self._db.transaction():
            rows = self._db.execute(_CLAIM, params).fetchall()
        rows.sort(key=lambda row: (row[-1], row[0]))
        return [Claimed(action_from_row(row[:-2]), row[-2]) for row in rows]

    def record(self, outcomes: Sequence[Outcome], at: float) -> None:
        """How the claimed attempts ended, in one transaction (``Outbox.record``)."""
        with self._lock, self._db.transaction():
            for o in outcomes:
                if o.status in FINISHED:
                    self._db.execute(
                        "UPDATE activation_actions SET status = %s, lease_until = NULL, last_error = %s, updated_at = %s WHERE action_id = %s",
                        (o.status, "" if o.status in (SENT, DELIVERED) else o.detail, at, o.action_id),
                    )
                else:
                    self._db.execute(
                        "UPDATE activation_actions SET status = %s, lease_until = NULL, next_at = %s, last_error = %s, attempts = attempts - %s, updated_at = %s WHERE action_id = %s",
                        (PENDING, o.next_at, o.detail, int(o.released), at, o.action_id),
                    )
                outcome = "released" if o.released else o.status if o.status in FINISHED else "retry"
                self._db.execute("INSERT INTO activation_attempts (action_id, attempt, at, outcome, detail) VALUES (%s, %s, %s, %s, %s)", (o.action_id, o.attempt, at, outcome, o.detail))

    def replay(self, action_ids: Sequence[str] | None, now: float) -> int:
        """Dead letters back to pending with their attempts reset: the ids given, or every one."""
        only = "" if action_ids is None else " AND action_id = ANY(%s)"
        with self._lock, self._db.transaction():
            params = (PENDING, now, now, DEAD) if action_ids is None else (PENDING, now, now, DEAD, list(action_ids))
            return self._db.execute(f"UPDATE activation_actions SET status = %s, attempts = 0, next_at = %s, updated_at = %s WHERE status = %s{only}", params).rowcount

    def deliveries(self, customer_ids: Sequence[str] | None = None, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The delivery log, newest first: one row per action with its state and its last error."""
        where, params = [], []
        if customer_ids is not None:
            where.append("customer_id = ANY(%s)")
            params.append(list(customer_ids))
        if status is not None:
            where.append("status = %s")
            params.append(status)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            rows = self._db.execute(f"SELECT {LOG_COLUMNS} FROM activation_actions {clause} ORDER BY updated_at DESC, action_id LIMIT %s", (*params, limit)).fetchall()
        return [log_entry(row) for row in rows]

    def attempts(self, action_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT attempt, at, outcome, detail FROM activation_attempts WHERE action_id = %s ORDER BY at, attempt", (action_id,)).fetchall()
        return [attempt_entry(row) for row in rows]

    def statuses(self, action_ids: Sequence[str]) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT action_id, status FROM activation_actions WHERE action_id = ANY(%s)", (list(action_ids),)).fetchall())

    def counts(self) -> dict[str, int]:
        with self._lock:
            found = dict(self._db.execute("SELECT status, count(*) FROM activation_actions GROUP BY status").fetchall())
        return {s: found.get(s, 0) for s in STATUSES}

    def next_due(self) -> float | None:
        """When the earliest pending action is due (for the dispatcher's wait), None if there is none."""
        with self._lock:
            (at,) = self._db.execute("SELECT min(greatest(next_at, coalesce(not_before, 0))) FROM activation_actions WHERE status = %s", (PENDING,)).fetchone()
        return at

    # bindings
    def bind(self, binding: Binding) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO activation_bindings (name, segment, destination, template, channel, purpose, fields, every_minutes, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (binding.name, binding.segment, binding.destination, binding.template, binding.channel, binding.purpose, orjson.dumps(list(binding.fields)).decode(), binding.every_minutes, binding.created_at),
            )

    def binding(self, name: str) -> Binding | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_BINDING_COLUMNS} FROM activation_bindings WHERE name = %s", (name,)).fetchone()
        return binding_from_row(row) if row else None

    def bindings(self) -> list[Binding]:
        with self._lock:
            return [binding_from_row(row) for row in self._db.execute(f"SELECT {_BINDING_COLUMNS} FROM activation_bindings ORDER BY name").fetchall()]

    def unbind(self, name: str) -> bool:
        with self._lock, self._db.transaction():
            self._db.execute("DELETE FROM activation_binding_members WHERE binding = %s", (name,))
            return bool(self._db.execute("DELETE FROM activation_bindings WHERE name = %s", (name,)).rowcount)

    def members(self, binding: str) -> set[str]:
        """Whom the binding's syncs sent as entered and not yet as left."""
        with self._lock:
            return {c for (c,) in self._db.execute("SELECT customer_id FROM activation_binding_members WHERE binding = %s", (binding,))}

    def close(self) -> None:
        self._db.close()

    def _insert(self, actions: Iterable[Action]) -> int:
        now = datetime.now(UTC).timestamp()
        rows = [
            (a.action_id, a.rule, a.customer_id, a.destination, a.template, a.channel, a.purpose, a.cause, a.cause_time.isoformat(),
             a.not_before.timestamp() if a.not_before else None, orjson.dumps(dict(a.payload)).decode(), PENDING, now, now, now)
            for a in actions
        ]  # fmt: skip
        if not rows:
            return 0
        columns = f"{_ACTION_COLUMNS}, status, next_at, created_at, updated_at"
        with self._db.cursor() as cursor:
            cursor.executemany(f"INSERT INTO activation_actions ({columns}) VALUES ({', '.join(['%s'] * 15)}) ON CONFLICT (action_id) DO NOTHING RETURNING action_id", rows, returning=True)
            added = 0
            while True:
                added += len(cursor.fetchall())
                if not cursor.nextset():
                    return added

