"""The event store: an append-only log of touchpoints on ``eventsourcing``'s recorders.

Each touchpoint is one stored event whose originator id is derived from its source and message
id, so the same message appended twice is stored once. The notification log (SQLite rowid or
PostgreSQL notification id) gives every event its position in one total order.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, IntegrityError, Notification, StoredEvent

from cdp.config import Settings
from cdp.errors import StoreUnavailable

TOPIC = "cdp.touchpoint:v1"
EVENT_NAMESPACE = uuid.UUID("0b4c8a2e-6f1d-4d4e-9a55-7f8e2c1d3b90")
_MAX_RETRIES = 5


def event_id(source_name: str, message_id: str) -> uuid.UUID:
    return uuid.uuid5(EVENT_NAMESPACE, f"{source_name}/{message_id}")


@dataclass(frozen=True)
class Appended:
    stored: int
    duplicates: int


class EventStore:
    """Appends touchpoints (already validated, as JSON bytes) and reads them back in log order."""

    def __init__(self, recorder: ApplicationRecorder, existing_ids: "ExistingIds", close: Callable[[], None]):
        self._recorder = recorder
        self._existing_ids = existing_ids
        self.close = close

    def append(self, events: Iterable[tuple[str, str, bytes]]) -> Appended:
        """Stores ``(source_name, message_id, envelope JSON)`` triples in one transaction.

        Messages already stored, or repeated within the batch, are skipped and counted as duplicates.
        """
        batch: dict[uuid.UUID, bytes] = {}
        offered = 0
        for source_name, message_id, body in events:
            offered += 1
            batch.setdefault(event_id(source_name, message_id), body)
        for _ in range(_MAX_RETRIES):
            existing = self._existing_ids(list(batch))
            fresh = {k: v for k, v in batch.items() if k not in existing}
            if not fresh:
                return Appended(0, offered)
            try:
                self._recorder.insert_events([StoredEvent(k, 1, TOPIC, v) for k, v in fresh.items()])
            except IntegrityError:
                continue  # a concurrent writer stored one of them between our check and insert
            return Appended(len(fresh), offered - len(fresh))
        raise StoreUnavailable("could not append: concurrent writers kept conflicting")

    def read(self, after: int, limit: int) -> Sequence[Notification]:
        return self._recorder.select_notifications(start=after, limit=limit, inclusive_of_start=False)

    def last_position(self) -> int:
        return self._recorder.max_notification_id() or 0



class ExistingIds:
    """Which of some event ids are stored already, in one query per chunk."""

    chunk = 500

    def __init__(self, datastore: Any, table: str, placeholder: str, encode: Any):
        self._datastore = datastore
        self._table = table
        self._placeholder = placeholder
        self._encode = encode

    def __call__(self, ids: list[uuid.UUID]) -> set[uuid.UUID]:
        found: set[uuid.UUID] = set()
        with self._datastore.transaction(commit=False) as cursor:
            for start in range(0, len(ids), self.chunk):
                chunk = [self._encode(i) for i in ids[start : start + self.chunk]]
                marks = ",".join([self._placeholder] * len(chunk))
                cursor.execute(f"SELECT originator_id FROM {self._table} WHERE originator_id IN ({marks})", chunk)
                found.update(uuid.UUID(str(row["originator_id"])) for row in cursor.fetchall())
        return found


def open_event_store(settings: Settings) -> EventStore:
    """Opens (creating if need be) the event store that the settings select."""
    config = settings.event_store
    if config.backend == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(settings.event_store_path), "SQLITE_LOCK_TIMEOUT": "30"}
        placeholder, encode = "?", lambda i: i.hex
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
        placeholder, encode = "%s", lambda i: i
    try:
        factory = InfrastructureFactory.construct(env=env)
        recorder = factory.application_recorder()
    except Exception as error:  # the driver's own errors differ per backend
        raise StoreUnavailable(f"cannot open the {config.backend} event store: {error}") from None
    return EventStore(recorder, ExistingIds(factory.datastore, recorder.events_table_name, placeholder, encode), factory.close)
