"""The event store: an append-only log of touchpoints in ``eventsourcing``'s stored-events table.

Each touchpoint is one stored event whose originator id is derived from its source and message
id, so the same message appended twice is stored once. The notification log (SQLite rowid or
PostgreSQL notification id) gives every event its position in one total order, and every reader
runs eventsourcing's notification select, with plain rows (``SQLiteSelect``, ``PostgresSelect``).

Appending differs per backend. SQLite: one ``INSERT OR IGNORE ... executemany`` into
eventsourcing's own table (same schema), in one transaction; rows ignored as already stored are
the duplicates. SQLite serialises writers (also across processes), so rowids become visible in
order. PostgreSQL: under eventsourcing's EXCLUSIVE table lock, which keeps notification ids
visible in order, one query for the ids already stored, then one insert of the others (``PostgresInsert``).
"""

import fcntl
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, InterfaceError, Notification, OperationalError
from eventsourcing.utils import retry

from cdp.config import Settings
from cdp.errors import StoreUnavailable
from schemas.derived_ids import uuid5_hex

TOPIC = "cdp.touchpoint:v1"
EVENT_NAMESPACE = uuid.UUID("0b4c8a2e-6f1d-4d4e-9a55-7f8e2c1d3b90")
_NAMESPACE_BYTES = EVENT_NAMESPACE.bytes


def event_id(source_name: str, message_id: str) -> str:
    """The originator id, as 32 hex digits: ``uuid5(EVENT_NAMESPACE, "<source>/<message id>")``
    computed without building ``UUID`` objects (this runs once per event on the ingest path)."""
    return uuid5_hex(_NAMESPACE_BYTES, f"{source_name}/{message_id}")


@dataclass(frozen=True)
class Appended:
    stored: int
    duplicates: int


class Insert(Protocol):
    def __call__(self, rows: list[tuple[str, bytes]]) -> int:
        """Stores ``(event id, body)`` rows not stored yet, in one transaction; returns how many it stored."""


class Select(Protocol):
    def __call__(self, after: int, limit: int, until: int | None) -> Sequence[Notification]:
        """Up to ``limit`` notifications after ``after`` (and at most ``until``), in log order."""


class EventStore:
    """Appends touchpoints (already validated, as JSON bytes) and reads them back in log order."""

    def __init__(self, recorder: ApplicationRecorder, insert: Insert, select: Select, close: Callable[[], None]):
        self._recorder = recorder
        self._insert = insert
        self._select = select
        self.close = close

    def append(self, events: Iterable[tuple[str, str, bytes]]) -> Appended:
        """Stores ``(source_name, message_id, envelope JSON)`` triples in one transaction.

        Messages already stored, or repeated within the batch, are skipped and counted as duplicates.
        """
        rows = [(event_id(source_name, message_id), body) for source_name, message_id, body in events]
        stored = self._insert(rows) if rows else 0
        return Appended(stored, len(rows) - stored)

    def read(self, after: int, limit: int, until: int | None = None) -> Sequence[Notification]:
        """Up to ``limit`` events after position ``after`` (and at most ``until``), in log order."""
        return self._select(after, limit, until)

    def last_position(self) -> int:
        return self._recorder.max_notification_id() or 0


_WRITER_PRAGMAS = (
    # Event ids are hashes, so each insert lands on a random page of the primary-key index and every
    # commit writes most of the pages it touched to the WAL again. A cache that holds the index and a
    # WAL checkpointed every 10,000 pages (40 MiB; SQLite's default is 1,000) instead of every commit
    # or so cut the append cost at 500k-600k stored events from 30 to 24 µs CPU and 59 to 39 µs wall
    # per event (python -m benchmarks.eventstore_insert).
    "PRAGMA cache_size = -65536",  # KiB
    "PRAGMA wal_autocheckpoint = 10000",
)


class SQLiteInsert:
    """``INSERT OR IGNORE`` of all rows with one ``executemany``; the rows it changed are those stored.

    Collector processes appending to one file queue on an exclusive ``flock`` of a lock file next
    to it: the kernel wakes the next one as soon as a commit is done, where SQLite's own busy
    handler would sleep and poll (up to 100 ms a try). Writers that skip the lock file (``cdp
    import``) still wait on SQLite's lock timeout, so correctness never depends on it.
    """

    def __init__(self, datastore: Any, table: str, lock_path: Path):
        self._datastore = datastore
        self._statement = f"INSERT OR IGNORE INTO {table} (originator_id, originator_version, topic, state) VALUES (?, 1, '{TOPIC}', ?)"
        self._lock = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)

    def __call__(self, rows: list[tuple[str, bytes]]) -> int:
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        try:
            with self._datastore.transaction(commit=True) as cursor:
                for pragma in _WRITER_PRAGMAS:  # per connection; the pool may hand out another one
                    cursor.sqlite_cursor.execute(pragma)
                cursor.sqlite_cursor.executemany(self._statement, rows)
                return cursor.sqlite_cursor.rowcount
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._lock)


class PostgresInsert:
    """The rows whose ids are not stored yet (first one wins within a batch), in one transaction that
    holds eventsourcing's EXCLUSIVE table lock (its ``lock_table_statements``: notification ids
    become visible in the order they are given) and sends its recorder's ``NOTIFY``, as the
    recorder's own ``insert_events`` does. Under the lock no other writer can store one of the ids,
    so the ids already stored are looked up in the same transaction.

    The recorder's own insert is not used: it sends the events as one text-format array of its
    composite type, which psycopg builds in Python (~60 µs of CPU per event), and in pipeline mode,
    where a write of more than ~5 MB hangs for ever with the table lock held, every other writer
    waiting behind it (BENCHMARKS.md, "PostgreSQL appends"). Here the ids and bodies go as two
    binary arrays, in plain statements (no pipeline mode)."""

    statement_bytes = 64 * 1024 * 1024  # bodies per insert statement: PostgreSQL takes at most 1 GB in one parameter (a `cdp import` batch of 2,000 events of up to 1 MiB each)

    def __init__(self, recorder: Any, datastore: Any):
        from psycopg.sql import SQL, Identifier  # here: the embedded default (SQLite) never loads psycopg

        self._datastore = datastore
        self._lock = recorder.lock_table_statements
        self._notify = SQL("NOTIFY {}").format(Identifier(recorder.channel_name))
        table = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(recorder.events_table_name))
        self._existing = SQL("SELECT originator_id FROM {} WHERE originator_id = ANY(%b::uuid[])").format(table)
        self._insert = SQL(
            "INSERT INTO {} (originator_id, originator_version, topic, state) SELECT id, 1, %b, state FROM unnest(%b::uuid[], %b::bytea[]) AS e(id, state)"
        ).format(table)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def __call__(self, rows: list[tuple[str, bytes]]) -> int:
        batch: dict[uuid.UUID, bytes] = {}
        for key, body in rows:
            batch.setdefault(uuid.UUID(key), body)
        with self._datastore.get_connection() as connection, connection.transaction(), connection.cursor() as cursor:
            for statement in self._lock:
                cursor.execute(statement, prepare=True)
            cursor.execute(self._existing, (list(batch),))  # one round trip: the ids go as one binary array
            for row in cursor.fetchall():
                del batch[row["originator_id"]]
            if not batch:
                return 0
            cursor.execute(self._notify)
            for part in _parts(list(batch.items()), self.statement_bytes):  # one transaction: positions still in the order given
                cursor.execute(self._insert, (TOPIC, [key for key, _ in part], [body for _, body in part]))
            return len(batch)


def _parts(rows: list[tuple[uuid.UUID, bytes]], most_bytes: int) -> Iterator[list[tuple[uuid.UUID, bytes]]]:
    """The rows in order, in runs whose bodies hold at most ``most_bytes`` (a larger body alone)."""
    part: list[tuple[uuid.UUID, bytes]] = []
    size = 0
    for row in rows:
        if part and size + len(row[1]) > most_bytes:
            yield part
            part, size = [], 0
        part.append(row)
        size += len(row[1])
    if part:
        yield part


_NO_END = (1 << 63) - 1  # the largest position either store can give (BIGINT notification ids, 64-bit SQLite rowids)


def _bounds(after: int, limit: int, until: int | None) -> tuple[int, int, int]:
    """The parameters of both selects' ``position > ? AND position <= ? ... LIMIT ?``."""
    return after, _NO_END if until is None else until, limit


class PostgresSelect:
    """eventsourcing's notification select on PostgreSQL (the same statement on the recorder's
    table, retried on the same errors), with a binary cursor and plain rows: the recorder's own
    builds a dict per row and copies each state, 8 µs of CPU per event where this takes 3 (the
    scale-out relay reads every event, BENCHMARKS.md, "the relay (issue 23)")."""

    def __init__(self, recorder: ApplicationRecorder, datastore: Any):
        from psycopg.rows import tuple_row  # here: the embedded default (SQLite) never loads psycopg
        from psycopg.sql import SQL, Identifier

        self._datastore = datastore
        self._rows = tuple_row
        self._statement = SQL(
            "SELECT originator_id, originator_version, topic, state, notification_id FROM {}.{} WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id LIMIT %s"
        ).format(Identifier(datastore.schema), Identifier(recorder.events_table_name))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def __call__(self, after: int, limit: int, until: int | None) -> Sequence[Notification]:
        with self._datastore.get_connection() as connection, connection.cursor(binary=True, row_factory=self._rows) as cursor:
            cursor.execute(self._statement, _bounds(after, limit, until), prepare=True)
            return [Notification(*row) for row in cursor.fetchall()]  # the columns in Notification's field order


class SQLiteSelect:
    """eventsourcing's notification select on SQLite (the same statement on the recorder's table),
    with plain rows and each originator id as stored (its 32 hex digits, which ``Notification``
    allows): the recorder's own builds a ``sqlite3.Row`` and a ``UUID`` per event, 12.7 µs of CPU
    per event where this takes 5.3 (the embedded runner reads every event, BENCHMARKS.md, "the
    embedded runner's read (issue 23)")."""

    def __init__(self, datastore: Any, table: str):
        self._datastore = datastore
        self._statement = f"SELECT originator_id, originator_version, topic, state, rowid FROM {table} WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?"

    def __call__(self, after: int, limit: int, until: int | None) -> Sequence[Notification]:
        with self._datastore.transaction(commit=False) as cursor:
            rows = cursor.sqlite_cursor
            rows.row_factory = None  # this transaction's own cursor: tuples, not the connection's sqlite3.Row
            rows.execute(self._statement, _bounds(after, limit, until))
            return [Notification(*row) for row in rows.fetchall()]  # the columns in Notification's field order


_SCHEMA_LOCK = 0x63647045  # PostgreSQL advisory lock: processes starting together create the tables once


@contextmanager
def _creating_alone(settings: Settings) -> Iterator[None]:
    """On PostgreSQL, holds an advisory lock while the recorder creates its tables: concurrent
    ``CREATE TABLE IF NOT EXISTS`` of one table fails in all but one session (the collector and the
    relay of the compose deployment start together). SQLite serialises them itself."""
    if settings.event_store.backend != "postgres":
        yield
        return
    import psycopg  # here: the embedded default (SQLite) never loads it

    pg = settings.event_store.postgres
    with psycopg.connect(host=pg.host, port=pg.port, dbname=pg.dbname, user=pg.user, password=pg.password.get_secret_value(), autocommit=True) as db:
        db.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        yield  # unlocked as the session ends


def open_event_store(settings: Settings) -> EventStore:
    """Opens (creating if need be) the event store that the settings select."""
    config = settings.event_store
    if config.backend == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(settings.event_store_path), "SQLITE_LOCK_TIMEOUT": "30"}
    else:
        pg = config.postgres
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": pg.host,
            "POSTGRES_PORT": str(pg.port),
            "POSTGRES_DBNAME": pg.dbname,
            "POSTGRES_USER": pg.user,
            "POSTGRES_PASSWORD": pg.password.get_secret_value(),
        }
    try:
        with _creating_alone(settings):
            factory = InfrastructureFactory.construct(env=env)
            recorder = factory.application_recorder()
    except Exception as error:  # the driver's own errors differ per backend
        raise StoreUnavailable(f"cannot open the {config.backend} event store: {error}") from None
    if config.backend == "postgres":
        return EventStore(recorder, PostgresInsert(recorder, factory.datastore), PostgresSelect(recorder, factory.datastore), factory.close)
    insert = SQLiteInsert(factory.datastore, recorder.events_table_name, settings.event_store_path.with_name(settings.event_store_path.name + "-append.lock"))

    def close() -> None:
        insert.close()
        factory.close()

    return EventStore(recorder, insert, SQLiteSelect(factory.datastore, recorder.events_table_name), close)
