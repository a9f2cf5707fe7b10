"""One batch core for the embedded runner (``cdp.runner``) and the scale-out worker (``cdp.scaleout.worker``).

Both run the same cycle: plan a batch (load state, resolve or route, project: pure, state is read,
not written), isolate an event that makes planning fail (``plan_isolating``), then write it
(``BatchCore.write``): record the write as unconfirmed, insert the rows into the warehouse, hand
the batch's actions to the sink (the outbox), and commit state and position together. What a batch
is (log events resolved here, or relay messages resolved by the relay) stays with each runner;
where its state lives is behind the ``TrackingState`` port (SQLite ``StateStore``, PostgreSQL
``PartitionState``), and so is how a batch written but never committed is set right, because the
two genuinely differ: the embedded runner is the only writer of its log, so it reads the same
batch again up to the recorded position and writes the same rows; a worker's partition moves
between processes and its relay messages are not re-read by position, so it records which
customers it wrote and rewrites their rows once past that version (docs/architecture.md).
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from cdp.quarantine import INFRASTRUCTURE, poisoned
from projections.actions import Action
from projections.pipeline import Output, Pipeline
from projections.triggers import Trigger

R = TypeVar("R")


class Planned(Protocol):
    """A batch computed and not yet committed: its rows and actions are in ``output``."""

    output: Output


B = TypeVar("B", bound=Planned, contravariant=True)


class TrackingState(Protocol[B]):
    """What the core needs from a runner's state beyond loading it (which the plan does)."""

    def begin_write(self, batches: Sequence[B]) -> None:
        """Records, committed at once, what a recovery needs should the rows be written and the batches never committed."""

    def finish_write(self, batches: Sequence[B]) -> None:
        """Commits the batches' state changes with their positions (atomically), and deletes the record of ``begin_write``."""

    def abandon(self) -> None:
        """Rolls back what is staged and not committed (a failed write)."""


class Inserts(Protocol):
    """Where a batch's rows go: the warehouse, or the embedded runner's projection processes, which hold them (``cdp.runner_processes``)."""

    def insert_tables(self, rows: dict[str, list[dict]]) -> None:
        """Inserts each table's rows."""


class BatchCore:
    """The writing half of a batch, and the trigger rules each batch reads.

    ``tables``: write only these warehouse tables (a partial rebuild); all when None. ``triggers``:
    the enabled trigger rules, read at every batch (``arm``); ``sink``: takes each write's actions
    (the outbox) before its state commits, so none is lost (``projections/triggers``)."""

    def __init__(
        self,
        warehouse: Inserts,
        tables: set[str] | None = None,
        triggers: Callable[[], Sequence[Trigger]] = tuple,
        sink: Callable[[Sequence[Action]], int] = len,
    ):
        self.warehouse = warehouse
        self._tables = tables
        self._triggers = triggers
        self._sink = sink

    def arm(self, pipeline: Pipeline) -> None:
        """Gives the pipeline the trigger rules enabled now, before a batch is planned."""
        pipeline.triggers = tuple(self._triggers())

    def write(self, state: TrackingState[B], batches: Sequence[B]) -> None:
        """Writes planned batches: one insert per table for all of them (the tables in parallel,
        ``Warehouse.insert_tables``), their actions to the sink, then their state in one commit."""
        rows: dict[str, list[dict]] = defaultdict(list)
        for batch in batches:
            for table, table_rows in batch.output.rows.items():
                if self._tables is None or table in self._tables:
                    rows[table].extend(table_rows)
        try:
            state.begin_write(batches)
            self.warehouse.insert_tables(rows)
            actions = [action for batch in batches for action in batch.output.actions]
            if actions:
                self._sink(actions)
            state.finish_write(batches)
        except BaseException:
            state.abandon()
            raise


def plan_isolating(
    plan: Callable[[int, frozenset[int]], R],
    count: int,
    blame: Callable[[int, Exception], bool],
    infrastructure: tuple[type[BaseException], ...] = INFRASTRUCTURE,
) -> R:
    """``plan(count, skipped)`` of a batch of ``count`` items (``plan(n, skipped)``: its first ``n``,
    without the items at the indexes ``skipped``). If it fails because of an item, that item, the
    last of the shortest failing prefix (bisection), is handed to ``blame`` with its error (it
    quarantines it, or returns False when the item is not an event that can be blamed: the error
    is then raised) and the batch planned again without it. Planning only reads state, so trying
    again changes nothing; a batch that plans once costs nothing more."""
    skipped: frozenset[int] = frozenset()
    while True:
        try:
            return plan(count, skipped)
        except Exception as error:
            if not poisoned(error, infrastructure):
                raise
            guilty, cause = _shortest_failing_prefix(plan, count, skipped, error, infrastructure)
            if guilty in skipped or not blame(guilty, cause):
                raise
            skipped |= {guilty}


def _shortest_failing_prefix(
    plan: Callable[[int, frozenset[int]], object], count: int, skipped: frozenset[int], error: Exception, infrastructure: tuple[type[BaseException], ...]
) -> tuple[int, Exception]:
    """The index of the item ending the shortest prefix whose planning fails (the whole batch
    fails with ``error``), and that prefix's error."""
    low, high = 1, count
    while low < high:
        middle = (low + high) // 2
        try:
            plan(middle, skipped)
            low = middle + 1
        except Exception as failure:
            if not poisoned(failure, infrastructure):
                raise
            high, error = middle, failure
    return high - 1, error
