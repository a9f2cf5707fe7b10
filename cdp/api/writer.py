"""Group commit: events of concurrent requests are written together, one transaction per write.

Request handlers hand their events and dead letters to ``GroupWriter.write`` and wait; one
writer thread takes everything queued since its last write (up to ``max_write_events``),
writes the events (one event-store transaction) and then the dead letters (one transaction of
the dead-letter store), and only then releases every waiting request. Throughput so follows
the write size, not the request count. When more than ``max_pending_events`` wait, new
requests are refused with ``Overloaded``.

The two stores are two databases (the event store may be PostgreSQL), so one request's events
and dead letters are two commits, not one. The order makes that safe: if anything fails, or the
process dies, between or during the two commits, no request of the write has been acknowledged
(they get 503 with Retry-After, or a broken connection), so the sender retries; the retry
stores its events again as duplicates of themselves (the event store is idempotent by message
id) and writes the dead letters that were missing. The other order would keep a second copy
of every dead letter on each retry, since dead letters have no identity of their own.

One request never fails another. The writer serialises each request's events (the stored form
but for the encryption, ``Sink.serialise``) apart from the others' before they join the shared
write; a request with an event that cannot be serialised fails alone, with its own error
(``ingestion.validation.Invalid`` naming the field; the collector then dead-letters the items
holding such events and writes the rest, ``Collector._sort_and_write``). This runs in the writer thread, not in the
request handler: the event loop already parses and validates every request, and serialising
there too made it the bottleneck (BENCHMARKS.md, 2026-12-06). If the store still refuses a shared
write (an ``IntegrityError`` on one event, say), its requests are written again one by one, each
in a write of its own, and only those the store refuses again fail, each with its own error. Once
the store is unavailable (locked, disk full, connection lost), the requests not retried yet get
that error without a try: a retry would only wait for the same lock timeout again.
"""

import asyncio
import queue
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Protocol

from eventsourcing.persistence import OperationalError

from cdp.errors import StoreUnavailable
from cdp.privacy.sealing import Serialised
from ingestion.deadletter import DeadLetter
from schemas import Envelope

_UNAVAILABLE = (OSError, StoreUnavailable, sqlite3.OperationalError, OperationalError)  # the store's failures, not a refusal of what was written


class Sink(Protocol):
    def serialise(self, envelope: Envelope) -> Serialised: ...

    def append_serialised(self, events: list[Serialised]) -> tuple[int, int]: ...

    def dead_letter(self, letters: list[DeadLetter]) -> None: ...


class Overloaded(Exception):
    pass


@dataclass
class _Job:
    events: list[Envelope]
    letters: list[DeadLetter]
    done: asyncio.Future
    loop: asyncio.AbstractEventLoop
    serialised: list[Serialised] = field(default_factory=list)  # the events as the writer thread serialised them
    error: Exception | None = None

    @property
    def size(self) -> int:
        return len(self.events) + len(self.letters)


class GroupWriter:
    def __init__(self, sink: Sink, max_pending_events: int, max_write_events: int):
        self._sink = sink
        self._max_pending = max_pending_events
        self._max_write = max_write_events
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._pending = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.writes = 0  # how many shared writes so far

    @property
    def pending(self) -> int:
        return self._pending

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cdp-group-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Writes what is queued, then stops."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def check(self, envelope: Envelope) -> None:
        """Raises ``ingestion.validation.Invalid`` naming the field if the envelope cannot be written."""
        self._sink.serialise(envelope)

    async def write(self, events: list[Envelope], letters: list[DeadLetter]) -> None:
        """Returns once everything given is durably stored; raises ``Invalid`` if one of the events
        cannot be written (nothing of the request is then), else what the store raised writing it."""
        loop = asyncio.get_running_loop()
        job = _Job(events, letters, loop.create_future(), loop)
        with self._lock:
            if self._pending and self._pending + job.size > self._max_pending:
                raise Overloaded(f"{self._pending:,} events are waiting to be written")
            self._pending += job.size
        self._queue.put(job)
        await asyncio.shield(job.done)  # a client that hangs up does not cancel the write

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs, size, stop = [first], first.size, False
            while size < self._max_write:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                jobs.append(job)
                size += job.size
            self._write(jobs, size)
            if stop:
                return

    def _write(self, jobs: list[_Job], size: int) -> None:
        for job in jobs:
            job.error = self._serialise(job)
        ready = [job for job in jobs if job.error is None]
        error = self._commit(ready) if ready else None
        if error is not None and len(ready) > 1:
            self._one_by_one(ready)
        else:
            for job in ready:
                job.error = error
        with self._lock:
            self._pending -= size
        for job in jobs:  # a store error is answered 503 by its request, an Invalid one 400 or dead-lettered
            job.loop.call_soon_threadsafe(_settle, job.done, job.error)

    def _serialise(self, job: _Job) -> Exception | None:
        """Serialises one request's events, apart from the others'; returns what failed."""
        try:
            job.serialised = [self._sink.serialise(event) for event in job.events]
        except Exception as failure:
            return failure
        return None

    def _one_by_one(self, jobs: list[_Job]) -> None:
        """After a shared write failed: each request in a write of its own, until the store is unavailable."""
        unavailable: Exception | None = None
        for job in jobs:
            job.error = unavailable or self._commit([job])
            if isinstance(job.error, _UNAVAILABLE):
                unavailable = job.error

    def _commit(self, jobs: list[_Job]) -> Exception | None:
        """Writes the jobs' events (one transaction), then their dead letters (another); returns what failed."""
        try:
            events = [event for job in jobs for event in job.serialised]
            if events:
                self._sink.append_serialised(events)
            self._sink.dead_letter([letter for job in jobs for letter in job.letters])
        except Exception as failure:
            return failure
        self.writes += 1
        return None


def _settle(future: asyncio.Future, error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
