"""The group writer: concurrent requests share a write, and one the store refuses fails alone."""

import asyncio
import sqlite3

import pytest
from eventsourcing.persistence import IntegrityError

from cdp.api.writer import GroupWriter
from ingestion.deadletter import DeadLetter
from ingestion.validation import Invalid


class Store:
    """A sink that cannot serialise the events named in ``unwritable``, refuses any write holding an
    event named in ``refused`` (as a store refuses a row), and every write once ``down``."""

    def __init__(self, refused: set[str] = set(), down: Exception | None = None, unwritable: set[str] = set()):
        self.refused = refused
        self.down = down
        self.unwritable = unwritable
        self.writes: list[list[str]] = []  # the events of each write tried
        self.stored: list[str] = []
        self.letters: list[DeadLetter] = []

    def serialise(self, event: str) -> str:
        if event in self.unwritable:
            raise Invalid(f"context: cannot be stored ({event})")
        return event.upper()

    def append_serialised(self, events: list[str]) -> tuple[int, int]:
        self.writes.append(list(events))
        if self.down is not None:
            raise self.down
        bad = self.refused.intersection(events)
        if bad:
            raise IntegrityError(f"refused {sorted(bad)[0]}")
        self.stored.extend(events)
        return len(events), 0

    def dead_letter(self, letters: list[DeadLetter]) -> None:
        self.letters.extend(letters)


def write_together(store: Store, requests: list[list[str]]) -> list[BaseException | None]:
    """Each request's events written by its own task; all are queued before the writer starts, so they share its first write."""
    writer = GroupWriter(store, max_pending_events=10_000, max_write_events=10_000)
    letter = DeadLetter("web", "test", "a reason", b"{}")

    async def run() -> list[BaseException | None]:
        tasks = [asyncio.create_task(writer.write(events, [letter])) for events in requests]
        await asyncio.sleep(0)  # every task queues its job
        writer.start()
        return await asyncio.gather(*tasks, return_exceptions=True)

    try:
        return asyncio.run(run())
    finally:
        writer.stop()


def test_a_request_with_an_event_that_cannot_be_serialised_fails_alone_before_the_shared_write():
    store = Store(unwritable={"b2"})
    results = write_together(store, [["a1", "a2"], ["b1", "b2"], ["c1"]])
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], Invalid) and str(results[1]) == "context: cannot be stored (b2)"  # its own error, for its own request
    assert store.writes == [["A1", "A2", "C1"]]  # one shared write of the others, nothing retried
    assert len(store.letters) == 2  # the failed request's dead letters are written with its second try, by the collector


def test_a_request_the_store_refuses_fails_alone_and_the_others_are_stored():
    store = Store(refused={"B2"})
    results = write_together(store, [["a1", "a2"], ["b1", "b2"], ["c1"]])
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], IntegrityError) and str(results[1]) == "refused B2"
    assert store.writes == [["A1", "A2", "B1", "B2", "C1"], ["A1", "A2"], ["B1", "B2"], ["C1"]]  # shared, then one by one
    assert store.stored == ["A1", "A2", "C1"]
    assert len(store.letters) == 2  # the dead letters of the requests stored; the refused one's are retried by its sender


def test_one_request_alone_is_not_tried_twice():
    store = Store(refused={"A1"})
    [result] = write_together(store, [["a1"]])
    assert isinstance(result, IntegrityError) and store.writes == [["A1"]]


@pytest.mark.parametrize("down", [sqlite3.OperationalError("database is locked"), OSError("disk I/O error")])
def test_once_the_store_is_unavailable_the_requests_left_are_not_retried(down: Exception):
    store = Store(down=down)
    results = write_together(store, [["a1"], ["b1"], ["c1"]])
    assert results == [down, down, down]
    assert store.writes == [["A1", "B1", "C1"], ["A1"]]  # one retry finds the store unavailable; no lock timeout per request
