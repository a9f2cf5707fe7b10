"""The embedded runner: follows the event log in batches and keeps the warehouse up to date.

Per batch: read events after the tracked position, resolve identities, apply the projections,
write their rows to the warehouse, then commit state and position together. Killed anywhere, it
resumes after the last committed batch, and a batch that had begun writing rows is processed again
up to the same position (``StateStore.record_unconfirmed``): the same rows with the same keys and
versions, which the warehouse's ReplacingMergeTree tables collapse.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from cdp.eventstore import EventStore
from cdp.statestore import StateStore
from cdp.warehouse import Warehouse
from projections.identity import batch_keys, resolve
from projections.pipeline import Pipeline, Rules
from projections.touchpoint import Touchpoint


@dataclass(frozen=True)
class Progress:
    position: int
    last_position: int
    processed: int


class EmbeddedRunner:
    def __init__(self, events: EventStore, state: StateStore, warehouse: Warehouse, rules: Rules, batch_size: int, tables: set[str] | None = None):
        """``tables``: write only these warehouse tables (a partial rebuild); all when None."""
        self._events = events
        self._state = state
        self._warehouse = warehouse
        self._rules = rules
        self._pipeline = Pipeline(rules)
        self._batch_size = batch_size
        self._tables = tables
        self.lock = threading.RLock()  # held per batch; whoever rewrites projection state (a forget) takes it too

    def pending(self) -> tuple[int, int]:
        """``(tracked position, last position in the log)``."""
        return self._state.tracked()[0], self._events.last_position()

    def run_batch(self) -> int:
        """Processes the next batch; returns how many events it held (0 when caught up)."""
        with self.lock:
            return self._run_batch()

    def _run_batch(self) -> int:
        position, watermark = self._state.tracked()
        # after a runner died writing the batch that ends at unconfirmed_until(): the same batch again
        notifications = self._events.read(position, self._batch_size, until=self._state.unconfirmed_until())
        if not notifications:
            return 0
        touchpoints = [Touchpoint(n.id, orjson.loads(n.state)) for n in notifications]
        watermark = max(watermark, max(tp.occurred_ms for tp in touchpoints))
        version = notifications[-1].id
        graph = self._state.load_identity(batch_keys(touchpoints, self._rules.identity))
        resolution = resolve(graph, touchpoints, self._rules.identity)
        recheck = self._state.due_checks(watermark)
        involved = set(resolution.assignments.values()) | recheck
        involved.update(customer for merge in resolution.merges for customer in (merge.absorbed, merge.survivor))
        output = self._pipeline.project(self._state.load_profiles(involved), resolution, touchpoints, recheck, watermark, version)
        self._state.record_unconfirmed(version)
        for table, rows in output.rows.items():
            if self._tables is None or table in self._tables:
                self._warehouse.insert(table, rows)
        self._state.commit(graph, resolution, output, version, watermark)
        return len(touchpoints)

    def run(
        self,
        follow: bool = False,
        on_progress: Callable[[Progress], None] = lambda p: None,
        should_stop: Callable[[], bool] = lambda: False,
        poll_seconds: float = 0.5,
    ) -> int:
        """Processes everything pending; with ``follow``, keeps polling for new events until told to stop."""
        processed = 0
        while not should_stop():
            n = self.run_batch()
            processed += n
            if n:
                position, last = self.pending()
                on_progress(Progress(position, last, processed))
            elif follow:
                time.sleep(poll_seconds)
            else:
                break
        return processed
