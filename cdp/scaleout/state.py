"""The scale-out runners' state in PostgreSQL, each batch committed with its tracked position.

This is the tracking-record pattern of ``cdp.statestore`` on a shared, transactional store: the
relay keeps the identity graph and the log position it has published up to; every topic partition
keeps its customers' profile state, their time-driven checks, where merged-away customers went,
and the last relay position and watermark it applied. A batch's changes and its position commit
in one transaction, so a process killed anywhere resumes after its last committed batch, and a
redelivered message (at-least-once Kafka, a relay republishing after a crash) is recognised by
its position. No faust tables: see docs/operations.md.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import psycopg

from cdp.config import PostgresSettings
from cdp.quarantine import INFRASTRUCTURE as LOCAL_INFRASTRUCTURE, Quarantined
from projections import state_codec
from projections.identity import CustomerIdentity, IdentityGraph, Resolution
from projections.pipeline import Output
from projections.profile import Profile, erase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scaleout_relay (name TEXT PRIMARY KEY, position BIGINT NOT NULL, watermark BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS scaleout_relay_offsets (topic TEXT NOT NULL, partition INT NOT NULL, "offset" BIGINT NOT NULL, PRIMARY KEY (topic, partition));
CREATE TABLE IF NOT EXISTS scaleout_relay_batches (topic TEXT NOT NULL, since BIGINT NOT NULL, until BIGINT NOT NULL, watermark BIGINT NOT NULL, assignments BYTEA NOT NULL, merges BYTEA NOT NULL, PRIMARY KEY (topic, since));
CREATE TABLE IF NOT EXISTS scaleout_absorbs (topic TEXT NOT NULL, absorbed TEXT NOT NULL, survivor TEXT NOT NULL, message BYTEA NOT NULL, PRIMARY KEY (topic, absorbed));
CREATE TABLE IF NOT EXISTS scaleout_relay_unconfirmed (name TEXT PRIMARY KEY, until BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS scaleout_identity_index (identifier TEXT PRIMARY KEY, customer_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scaleout_identity_customers (customer_id TEXT PRIMARY KEY, created_at_position BIGINT NOT NULL, keys BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS scaleout_partitions (topic TEXT NOT NULL, partition INT NOT NULL, position BIGINT NOT NULL, sub INT NOT NULL, watermark BIGINT NOT NULL, PRIMARY KEY (topic, partition));
CREATE TABLE IF NOT EXISTS scaleout_profiles (customer_id TEXT PRIMARY KEY, state BYTEA NOT NULL, absorbed BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS scaleout_checks (customer_id TEXT PRIMARY KEY, topic TEXT NOT NULL, partition INT NOT NULL, due BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS scaleout_checks_due ON scaleout_checks (topic, partition, due);
CREATE TABLE IF NOT EXISTS scaleout_forwards (customer_id TEXT PRIMARY KEY, survivor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scaleout_unconfirmed (id BIGSERIAL PRIMARY KEY, topic TEXT NOT NULL, partition INT NOT NULL, version BIGINT NOT NULL, customers BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS scaleout_quarantine (position BIGINT PRIMARY KEY, stage TEXT NOT NULL, event_id TEXT NOT NULL, error TEXT NOT NULL, quarantined_at TEXT NOT NULL, attempts INT NOT NULL);
"""
# quarantined events (``cdp.quarantine``): the relay's are not published, a worker's are skipped; kept with the batch that skips them,
# their errors sealed (``cdp.privacy.sealed_errors``: ``quarantined`` gives them as kept, ``stage: `` first)
_QUARANTINE = (
    "INSERT INTO scaleout_quarantine (position, stage, event_id, error, quarantined_at, attempts) VALUES (%s, %s, %s, %s, %s, 1) "
    "ON CONFLICT (position) DO UPDATE SET stage = EXCLUDED.stage, error = EXCLUDED.error, attempts = scaleout_quarantine.attempts + 1"
)
_SCHEMA_LOCK = 0x63647053  # advisory lock: concurrent first starts create the tables once
_RELAY_LOCK = 0x63647052  # advisory lock held by the one running relay
_BATCH_LOCK = 0x63647042  # advisory lock held by the relay through each batch, and by forgetting
RELAY = "relay"  # the relay's row in scaleout_relay
INFRASTRUCTURE = (*LOCAL_INFRASTRUCTURE, psycopg.Error)  # errors that stop the relay or a worker rather than quarantine an event


def connect(settings: PostgresSettings) -> psycopg.Connection:
    db = psycopg.connect(host=settings.host, port=settings.port, dbname=settings.dbname, user=settings.user, password=settings.password.get_secret_value())
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        db.execute(_SCHEMA)
    return db


def relay_has_run(settings: PostgresSettings) -> bool:
    """Whether this PostgreSQL database holds a scale-out relay's state (the deployment projects with relay and workers)."""
    with psycopg.connect(host=settings.host, port=settings.port, dbname=settings.dbname, user=settings.user, password=settings.password.get_secret_value()) as db:
        if not db.execute("SELECT to_regclass('scaleout_relay') IS NOT NULL").fetchone()[0]:
            return False
        return db.execute("SELECT EXISTS (SELECT 1 FROM scaleout_relay)").fetchone()[0]


@dataclass(frozen=True)
class Published:
    """A relay batch as published: after ``since`` up to ``until``, each published event's customer
    (by position) and the merges it announced, ``(position, sub, absorbed, survivor)``. Kept until
    every partition applied it, to publish it again if the broker loses it."""

    since: int
    until: int
    watermark: int
    assignments: dict[int, str]
    merges: list[tuple[int, int, str, str]]


class RelayState:
    """The identity graph and the relay's tracked position and watermark."""

    def __init__(self, db: psycopg.Connection, name: str = RELAY):
        self._db = db
        self.name = name

    def claim(self) -> bool:
        """Takes the relay's lock for as long as this connection lives; False if another relay holds it."""
        claimed = self._db.execute("SELECT pg_try_advisory_lock(%s)", (_RELAY_LOCK,)).fetchone()[0]
        self._db.commit()
        return claimed

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Holds the batch lock from reading a batch to committing it (``ScaleoutErasure`` waits for it)."""
        db = self._db
        db.execute("SELECT pg_advisory_lock(%s)", (_BATCH_LOCK,))
        db.commit()
        try:
            yield
        finally:
            db.rollback()
            db.execute("SELECT pg_advisory_unlock(%s)", (_BATCH_LOCK,))
            db.commit()

    def tracked(self) -> tuple[int, int]:
        row = self._db.execute("SELECT position, watermark FROM scaleout_relay WHERE name = %s", (self.name,)).fetchone()
        self._db.commit()
        return (row[0], row[1]) if row else (0, 0)

    def unconfirmed_until(self) -> int | None:
        """The last position of a batch the relay had begun publishing when it died, if any."""
        row = self._db.execute("SELECT until FROM scaleout_relay_unconfirmed WHERE name = %s", (self.name,)).fetchone()
        self._db.commit()
        return row[0] if row else None

    def record_unconfirmed(self, until: int) -> None:
        """Records, committed at once, that a batch ending at ``until`` is about to be published."""
        self._db.execute("INSERT INTO scaleout_relay_unconfirmed (name, until) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET until = EXCLUDED.until", (self.name, until))
        self._db.commit()

    def load_identity(self, keys: Iterable[str]) -> IdentityGraph:
        db = self._db
        index = dict(db.execute("SELECT identifier, customer_id FROM scaleout_identity_index WHERE identifier = ANY(ARRAY(SELECT json_array_elements_text(%s::json)))", (_json(list(keys)),)).fetchall())
        rows = db.execute(
            "SELECT customer_id, created_at_position, keys FROM scaleout_identity_customers WHERE customer_id = ANY(ARRAY(SELECT json_array_elements_text(%s::json)))",
            (_json(sorted(set(index.values()))),),
        ).fetchall()
        db.commit()
        return IdentityGraph(index, {cid: CustomerIdentity(created, orjson.loads(keys)) for cid, created, keys in rows})

    def published_offsets(self, topic: str) -> dict[int, int]:
        """partition → the offset the broker acknowledged for the last committed batch's tick."""
        rows = self._db.execute('SELECT partition, "offset" FROM scaleout_relay_offsets WHERE topic = %s', (topic,)).fetchall()
        self._db.commit()
        return dict(rows)

    def retained(self, topic: str) -> list[Published]:
        """The batches published on ``topic`` that some partition has not applied yet, in log order."""
        rows = self._db.execute("SELECT since, until, watermark, assignments, merges FROM scaleout_relay_batches WHERE topic = %s ORDER BY since", (topic,)).fetchall()
        self._db.commit()
        return [Published(since, until, watermark, {int(p): c for p, c in orjson.loads(assignments).items()}, [tuple(m) for m in orjson.loads(merges)]) for since, until, watermark, assignments, merges in rows]

    def undelivered_absorbs(self, topic: str) -> list[tuple[str, bytes]]:
        """``(survivor, absorb message)`` the workers sent on ``topic`` and no survivor has folded in yet."""
        rows = self._db.execute("SELECT survivor, message FROM scaleout_absorbs WHERE topic = %s ORDER BY absorbed", (topic,)).fetchall()
        self._db.commit()
        return rows

    def replace_offsets(self, topic: str, offsets: dict[int, int]) -> None:
        """Records these ticks' offsets on ``topic`` as the only ones (after the broker lost the topic)."""
        with self._db.transaction(), self._db.cursor() as cur:
            cur.execute("DELETE FROM scaleout_relay_offsets WHERE topic = %s", (topic,))
            _record_offsets(cur, topic, offsets)

    def commit(
        self, graph: IdentityGraph, resolution: Resolution, batch: Published, quarantined: Sequence[Quarantined], topic: str, offsets: dict[int, int], partitions: int
    ) -> None:
        """Saves one batch's identity changes, the events it quarantined, the position published up
        to, its ticks' offsets on ``topic`` (by partition) and what it published, atomically; forgets
        the published batches every one of the ``partitions`` has applied."""
        position, watermark = batch.until, batch.watermark
        with self._db.transaction(), self._db.cursor() as cur:
            _quarantine(cur, "relay", quarantined)
            _record_offsets(cur, topic, offsets)
            cur.execute(
                "INSERT INTO scaleout_relay_batches (topic, since, until, watermark, assignments, merges) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (topic, since) DO NOTHING",
                (topic, batch.since, batch.until, batch.watermark, orjson.dumps(batch.assignments, option=orjson.OPT_NON_STR_KEYS), orjson.dumps(batch.merges)),
            )
            cur.execute(
                "DELETE FROM scaleout_relay_batches WHERE topic = %s AND until <= (SELECT CASE WHEN count(*) >= %s THEN min(position) ELSE 0 END FROM scaleout_partitions WHERE topic = %s)",
                (topic, partitions, topic),
            )
            # one statement per table, its rows as JSON arrays: a batch's thousands of rows in one round trip each
            changed = resolution.changed_keys
            cur.execute(
                "INSERT INTO scaleout_identity_index (identifier, customer_id) SELECT * FROM ROWS FROM (json_array_elements_text(%s::json), json_array_elements_text(%s::json)) "
                "ON CONFLICT (identifier) DO UPDATE SET customer_id = EXCLUDED.customer_id",
                (_json(list(changed)), _json([customer for customer, _ in changed.values()])),
            )
            ids = list(resolution.changed_customers)
            customers = [graph.customers[cid] for cid in ids]
            cur.execute(  # a json array element as text is what orjson wrote: each customer's keys stored as orjson.dumps(keys)
                "INSERT INTO scaleout_identity_customers (customer_id, created_at_position, keys) "
                "SELECT c, p::bigint, convert_to(k::text, 'UTF8') FROM ROWS FROM (json_array_elements_text(%s::json), json_array_elements_text(%s::json), json_array_elements(%s::json)) AS r(c, p, k) "
                "ON CONFLICT (customer_id) DO UPDATE SET created_at_position = EXCLUDED.created_at_position, keys = EXCLUDED.keys",
                (_json(ids), _json([c.created_at_position for c in customers]), _json([c.keys for c in customers])),
            )
            cur.execute("DELETE FROM scaleout_identity_customers WHERE customer_id = ANY(%s)", (sorted(resolution.removed_customers),))
            cur.execute(
                "INSERT INTO scaleout_relay (name, position, watermark) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, watermark = EXCLUDED.watermark",
                (self.name, position, watermark),
            )
            cur.execute("DELETE FROM scaleout_relay_unconfirmed WHERE name = %s", (self.name,))


def _json(values: list) -> str:
    """A statement's array parameter as JSON text, which PostgreSQL unpacks (``json_array_elements_text``):
    psycopg writes a list parameter element by element in Python, ~4 µs each, where orjson writes
    the whole list at once (the relay's identity load and commit, BENCHMARKS.md, "the relay (issue 23)")."""
    return orjson.dumps(values).decode()


def _record_offsets(cur: psycopg.Cursor, topic: str, offsets: dict[int, int]) -> None:
    cur.executemany(
        'INSERT INTO scaleout_relay_offsets (topic, partition, "offset") VALUES (%s, %s, %s) ON CONFLICT (topic, partition) DO UPDATE SET "offset" = EXCLUDED."offset"',
        [(topic, partition, offset) for partition, offset in offsets.items()],
    )


def _run_if(cur: psycopg.Cursor, sql: str, params: tuple, rows: int = 0) -> None:
    """Runs a statement over arrays unless its array (``params[rows]``) is empty: a batch of thousands of rows in one round trip, none for nothing."""
    if params[rows]:
        cur.execute(sql, params)


def _quarantine(cur: psycopg.Cursor, stage: str, entries: Sequence[Quarantined]) -> None:
    now = datetime.now(UTC).isoformat()
    cur.executemany(_QUARANTINE, [(e.position, stage, e.event_id, e.error, now) for e in entries])


def quarantined(db: psycopg.Connection) -> list[Quarantined]:
    """The events the relay and the workers quarantined, in log order."""
    rows = db.execute("SELECT position, event_id, stage || ': ' || error, quarantined_at, attempts FROM scaleout_quarantine ORDER BY position").fetchall()
    db.commit()
    return [Quarantined(*row) for row in rows]


def partition_progress(db: psycopg.Connection, topic: str) -> list[tuple[int, int, int]]:
    """``(partition, position, watermark)`` each partition has applied, in partition order."""
    rows = db.execute("SELECT partition, position, watermark FROM scaleout_partitions WHERE topic = %s ORDER BY partition", (topic,)).fetchall()
    db.commit()
    return rows


@dataclass
class Customers:
    """The loaded state of some customers of one partition."""

    profiles: dict[str, Profile] = field(default_factory=dict)
    absorbed: dict[str, set[str]] = field(default_factory=dict)  # customer → every customer merged into it, transitively
    forwards: dict[str, str] = field(default_factory=dict)  # merged-away customer → the customer it went to


@dataclass
class Planned:
    """A partition's batch, computed and not yet committed (``cdp.batch_core.Planned``)."""

    partition: int
    customers: Customers
    output: Output
    tracked: tuple[int, int]  # (position, sub) of the last relay message applied
    watermark: int
    confirmed: list[int]  # unconfirmed-write records this batch sets right, and its own once recorded (``begin_write``)
    outgoing: list[tuple[str, str, bytes]] = field(default_factory=list)  # (absorbed, survivor: the key, absorb message)
    quarantined: list[Quarantined] = field(default_factory=list)  # events it skips
    delivered: list[str] = field(default_factory=list)  # the absorbed customers of the absorbs it folds in


class PartitionState:
    """Topic partitions' customers; the worker's ``cdp.batch_core.TrackingState``. ``begin`` locks the batch's partitions' tracking rows in its
    transaction (opened by the first statement), so a partition briefly held by two workers during
    a rebalance is processed by one at a time, the second seeing the first's position; ``save``
    stages their changes, ``commit`` ends the transaction for every partition of the batch.

    Unconfirmed writes: before a batch's rows go to the warehouse, ``record_unconfirmed`` commits
    (on a second connection, outside the batch's transaction) which customers they are for and the
    highest version they carry; the batch's commit deletes the record. A record that stays belongs
    to a batch whose worker died between the two: whoever processes the partition next sets those
    customers' rows right (``projections.history_tables``) once it has reached that version, and
    deletes it then. While a worker holds a partition's lock, every record of the partition is
    such a leftover: a live batch holds the lock from before its record until its commit.
    """

    def __init__(self, db: psycopg.Connection, journal: psycopg.Connection, topic: str):
        self._db = db
        self._journal = journal
        self.topic = topic

    def begin(self, partitions: Sequence[int]) -> dict[int, tuple[tuple[int, int], int]]:
        """Locks the batch's partitions (in order); returns each one's tracked ``((position, sub), watermark)``."""
        db = self._db
        db.execute(
            "INSERT INTO scaleout_partitions (topic, partition, position, sub, watermark) SELECT %s, p, 0, 0, 0 FROM unnest(%s::int[]) AS p ON CONFLICT DO NOTHING",
            (self.topic, sorted(partitions)),
        )
        rows = db.execute(
            "SELECT partition, position, sub, watermark FROM scaleout_partitions WHERE topic = %s AND partition = ANY(%s) ORDER BY partition FOR UPDATE",
            (self.topic, sorted(partitions)),
        ).fetchall()
        return {partition: ((position, sub), watermark) for partition, position, sub, watermark in rows}

    def due_checks(self, partition: int, as_of: int) -> set[str]:
        rows = self._db.execute("SELECT customer_id FROM scaleout_checks WHERE topic = %s AND partition = %s AND due <= %s", (self.topic, partition, as_of))
        return {row[0] for row in rows}

    def unconfirmed(self, partition: int) -> list[tuple[int, int, list[str]]]:
        """``(id, version, customers)`` of the partition's writes whose batch never committed."""
        rows = self._db.execute("SELECT id, version, customers FROM scaleout_unconfirmed WHERE topic = %s AND partition = %s ORDER BY id", (self.topic, partition))
        return [(record, version, orjson.loads(customers)) for record, version, customers in rows]

    def record_unconfirmed(self, writes: list[tuple[int, int, list[str]]]) -> list[int]:
        """Commits ``(partition, version, customers)`` of the rows about to be written (one a
        partition, in one statement); their ids, in order."""
        with self._journal.transaction():
            rows = self._journal.execute(
                "INSERT INTO scaleout_unconfirmed (topic, partition, version, customers) SELECT %s, * FROM unnest(%s::int[], %s::bigint[], %b::bytea[]) "
                "RETURNING partition, id",
                (self.topic, [partition for partition, _, _ in writes], [version for _, version, _ in writes], [orjson.dumps(customers) for _, _, customers in writes]),
            ).fetchall()
        ids = dict(rows)
        return [ids[partition] for partition, _, _ in writes]

    def begin_write(self, batches: Sequence[Planned]) -> None:
        records = self.record_unconfirmed([(p.partition, p.tracked[0], sorted(p.output.profiles.keys() | p.output.removed)) for p in batches])
        for p, record in zip(batches, records, strict=True):
            p.confirmed.append(record)

    def finish_write(self, batches: Sequence[Planned]) -> None:
        self.save(batches)
        self.commit()

    def abandon(self) -> None:
        self.rollback()

    def record_absorbs(self, sent: Sequence[tuple[str, str, bytes]]) -> None:
        """Commits ``(absorbed, survivor, message)`` of the absorbs about to be sent to the outbox
        (on the second connection, so before any survivor can fold one in and delete it), for the
        relay to send again if the broker loses them (``RelayState.undelivered_absorbs``)."""
        with self._journal.transaction(), self._journal.cursor() as cur:
            cur.executemany(
                "INSERT INTO scaleout_absorbs (topic, absorbed, survivor, message) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (topic, absorbed) DO UPDATE SET survivor = EXCLUDED.survivor, message = EXCLUDED.message",
                [(self.topic, absorbed, survivor, message) for absorbed, survivor, message in sent],
            )

    def load(self, customer_ids: Iterable[str]) -> Customers:
        ids = sorted(set(customer_ids))
        found = Customers()
        for cid, state, absorbed in self._db.execute("SELECT customer_id, state, absorbed FROM scaleout_profiles WHERE customer_id = ANY(%s)", (ids,)):
            found.profiles[cid] = state_codec.decode(state)
            found.absorbed[cid] = set(orjson.loads(absorbed))
        found.forwards.update(self._db.execute("SELECT customer_id, survivor FROM scaleout_forwards WHERE customer_id = ANY(%s)", (ids,)).fetchall())
        return found

    def save(self, batches: Sequence[Planned]) -> None:
        """Stages the partitions' state changes, their new positions, the events they quarantined,
        the deletion of their ``confirmed`` unconfirmed-write records and of their ``delivered``
        absorbs (folded in: by absorbed customer) from the outbox, in the open transaction. One
        statement per table for every partition of the batch, the rows as arrays (``unnest``): a
        customer belongs to one partition, so no two partitions change the same row."""
        removed = {cid for p in batches for cid in p.output.removed}
        forwards = {cid: survivor for p in batches for cid, survivor in p.customers.forwards.items() if cid in p.output.removed}
        profiles = {
            cid: (state_codec.encode(profile), orjson.dumps(sorted(p.customers.absorbed.get(cid, ()))))
            for p in batches
            for cid, profile in p.output.profiles.items()
            if cid not in p.output.removed
        }
        checks = {cid: (p.partition, due) for p in batches for cid, due in p.output.next_checks.items() if cid not in p.output.removed}
        cleared = [cid for cid, (_, due) in checks.items() if due is None]
        due = {cid: partition_due for cid, partition_due in checks.items() if partition_due[1] is not None}
        with self._db.cursor() as cur:
            _quarantine(cur, "worker", [entry for p in batches for entry in p.quarantined])
            _run_if(cur, "DELETE FROM scaleout_absorbs WHERE topic = %s AND absorbed = ANY(%s)", (self.topic, [gone for p in batches for gone in p.delivered]), rows=1)
            _run_if(cur, "DELETE FROM scaleout_unconfirmed WHERE id = ANY(%s)", ([record for p in batches for record in p.confirmed],))
            _run_if(cur, "DELETE FROM scaleout_profiles WHERE customer_id = ANY(%s)", (sorted(removed),))
            _run_if(cur, "DELETE FROM scaleout_checks WHERE customer_id = ANY(%s)", (sorted(removed) + cleared,))
            _run_if(
                cur,
                "INSERT INTO scaleout_forwards (customer_id, survivor) SELECT * FROM unnest(%s::text[], %s::text[]) "
                "ON CONFLICT (customer_id) DO UPDATE SET survivor = EXCLUDED.survivor",
                (list(forwards), list(forwards.values())),
            )
            _run_if(
                cur,
                "INSERT INTO scaleout_profiles (customer_id, state, absorbed) SELECT * FROM unnest(%s::text[], %b::bytea[], %b::bytea[]) "
                "ON CONFLICT (customer_id) DO UPDATE SET state = EXCLUDED.state, absorbed = EXCLUDED.absorbed",
                (list(profiles), [state for state, _ in profiles.values()], [absorbed for _, absorbed in profiles.values()]),
            )
            _run_if(
                cur,
                "INSERT INTO scaleout_checks (customer_id, topic, partition, due) SELECT c, %s, p, d FROM unnest(%s::text[], %s::int[], %s::bigint[]) AS u(c, p, d) "
                "ON CONFLICT (customer_id) DO UPDATE SET due = EXCLUDED.due",
                (self.topic, list(due), [partition for partition, _ in due.values()], [when for _, when in due.values()]),
                rows=1,
            )
            cur.execute(
                "UPDATE scaleout_partitions SET position = u.position, sub = u.sub, watermark = u.watermark "
                "FROM unnest(%s::int[], %s::bigint[], %s::int[], %s::bigint[]) AS u(partition, position, sub, watermark) "
                "WHERE scaleout_partitions.topic = %s AND scaleout_partitions.partition = u.partition",
                ([p.partition for p in batches], [p.tracked[0] for p in batches], [p.tracked[1] for p in batches], [p.watermark for p in batches], self.topic),
            )

    def commit(self) -> None:
        self._db.commit()

    def rollback(self) -> None:
        self._db.rollback()


class ScaleoutErasure:
    """Forgetting on the scale-out deployment: the relay's identity graph and the workers' profiles,
    read and erased in ONE PostgreSQL transaction (the ``StateStore`` methods forgetting uses).

    Why this cannot race a running relay or worker: on entering, the transaction takes the relay's
    batch lock (``RelayState.batch``: the relay holds it from reading a batch until its identity
    commit) and every topic partition's tracking row ``FOR UPDATE`` (a worker holds its
    partitions' rows from loading their customers until its commit), creating the rows of
    partitions no worker has begun yet. So it waits for the batches in flight to commit, and no new
    batch starts until it has committed: a relay batch never overwrites the erased identifiers with
    a graph it loaded before, a worker never saves a profile it loaded before the erasure. The data
    keys are shredded while these locks are held, so the events that the relay and the workers open
    afterwards (those in the log or on the topic, not processed yet) open as erased and resolve to
    the erasure token, which the identity index then already names. Lock order: the batch lock,
    then the partition rows by (topic, partition), which is the order workers lock their rows in,
    and neither the relay nor a worker ever holds what the other waits for: no deadlock.

    PostgreSQL keeps the replaced row versions as dead tuples until vacuumed: ``__exit__`` runs
    ``VACUUM`` on the tables it changed (docs/operations.md says what WAL and free space may keep).
    """

    _VACUUMED = ("scaleout_identity_index", "scaleout_identity_customers", "scaleout_profiles")

    def __init__(self, settings: PostgresSettings, topic: str, partitions: int):
        self._settings = settings
        self._topic = topic
        self._partitions = partitions
        self._db: psycopg.Connection | None = None

    def __enter__(self) -> "ScaleoutErasure":
        self._db = db = connect(self._settings)
        db.execute("SELECT pg_advisory_xact_lock(%s)", (_BATCH_LOCK,))
        with db.cursor() as cur:
            cur.executemany(
                "INSERT INTO scaleout_partitions (topic, partition, position, sub, watermark) VALUES (%s, %s, 0, 0, 0) ON CONFLICT DO NOTHING",
                [(self._topic, p) for p in range(self._partitions)],
            )
            cur.execute("SELECT 1 FROM scaleout_partitions ORDER BY topic, partition FOR UPDATE")
        return self

    def __exit__(self, error_type: type | None, *_: object) -> None:
        db = self._db
        try:
            if error_type is None:
                db.commit()
                db.autocommit = True
                for table in self._VACUUMED:
                    db.execute(f"VACUUM {table}")
            else:
                db.rollback()
        finally:
            db.close()

    def tracked(self) -> tuple[int, int]:
        """The relay's ``(position, watermark)``: no worker has written a warehouse row of a later position."""
        row = self._db.execute("SELECT position, watermark FROM scaleout_relay WHERE name = %s", (RELAY,)).fetchone()
        return (row[0], row[1]) if row else (0, 0)

    def identifiers_of(self, customer_ids: Iterable[str]) -> list[str]:
        rows = self._db.execute("SELECT identifier FROM scaleout_identity_index WHERE customer_id = ANY(%s)", (sorted(set(customer_ids)),))
        return sorted(row[0] for row in rows)

    def load_profiles(self, customer_ids: Iterable[str]) -> dict[str, Profile]:
        rows = self._db.execute("SELECT customer_id, state FROM scaleout_profiles WHERE customer_id = ANY(%s)", (sorted(set(customer_ids)),))
        return {cid: state_codec.decode(state) for cid, state in rows}

    def erase(self, customer_ids: Iterable[str], survivor: str, user_id: str) -> int:
        """As ``StateStore.erase``: identifiers give way to the erasure token, profiles keep counts and facts."""
        ids = sorted(set(customer_ids) | {survivor})
        token_key = f"user_id:{user_id}"
        db = self._db
        removed = db.execute("DELETE FROM scaleout_identity_index WHERE customer_id = ANY(%s)", (ids,)).rowcount
        db.execute("INSERT INTO scaleout_identity_index (identifier, customer_id) VALUES (%s, %s) ON CONFLICT (identifier) DO UPDATE SET customer_id = EXCLUDED.customer_id", (token_key, survivor))
        db.execute("UPDATE scaleout_identity_customers SET keys = %s WHERE customer_id = %s", (orjson.dumps([token_key]), survivor))
        profiles = self.load_profiles(ids)
        for profile in profiles.values():
            erase(profile, user_id)
        with db.cursor() as cur:
            cur.executemany("UPDATE scaleout_profiles SET state = %s WHERE customer_id = %s", [(state_codec.encode(p), cid) for cid, p in profiles.items()])
        return removed
