"""The embedded runner: follows the event log in batches and keeps the warehouse up to date.

Per batch: read events after the tracked position, resolve identities, apply the projections,
write their rows to the warehouse, then commit state and position together. Killed anywhere, it
resumes after the last committed batch (several runners on one data directory, in different
processes, take turns batch by batch: ``lock``), and a batch that had begun writing rows is processed again
up to the same position (``StateStore.record_unconfirmed``): the same rows with the same keys and
versions, which the warehouse's ReplacingMergeTree tables collapse.

An event that cannot be opened, decoded or projected is quarantined (``cdp.quarantine``), and the
batch goes on without it; ``retry`` processes quarantined events again after a fix.

The cycle (isolating a poison, writing rows, actions and state) is ``cdp.batch_core``'s, shared
with the scale-out worker; what is the embedded runner's own is reading the log and resolving
identities here. With ``runner.processes`` above 1, the projecting and the warehouse inserts are
split over child processes by customer (``cdp.runner_processes``); the rest stays here.
"""

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from eventsourcing.persistence import Notification

from cdp.batch_core import BatchCore, plan_isolating
from cdp.errors import CdpError
from cdp.gc_pause import collector_paused
from cdp.privacy import sealed_errors
from cdp.privacy.sealing import SealedEventStore
from cdp.process_lock import ProcessLock
from cdp.quarantine import Quarantined, QuarantineStore, poisoned
from cdp.runner_processes import RunnerProcesses
from cdp.statestore import Batch, StateStore
from cdp.tag_definitions import TagDefinitionStore
from cdp.warehouse import Warehouse
from projections.actions import Action
from projections.identity import resolve_batch
from projections.pipeline import Pipeline, Rules
from projections.touchpoint import Touchpoint
from projections.triggers import Trigger


@dataclass(frozen=True)
class Progress:
    position: int
    last_position: int
    processed: int


class EmbeddedRunner:
    def __init__(
        self,
        events: SealedEventStore,
        state: StateStore,
        warehouse: Warehouse,
        rules: Rules,
        batch_size: int,
        quarantine: QuarantineStore,
        tables: set[str] | None = None,
        tag_definitions: TagDefinitionStore | None = None,
        triggers: Callable[[], Sequence[Trigger]] = tuple,
        sink: Callable[[Sequence[Action]], int] = len,
        processes: RunnerProcesses | None = None,
    ):
        """``tables``: write only these warehouse tables (a partial rebuild); all when None.
        ``tag_definitions``: tag definitions applied as data, followed batch by batch (``_follow_tag_definitions``).
        ``triggers``: the enabled trigger rules, read at every batch; ``sink``: takes each batch's actions (the
        outbox) before the batch's position is committed, so none is lost (``projections/triggers``).
        ``processes``: the child processes that project and insert the rows (``runner.processes`` above 1),
        ended by ``close``; None projects here."""
        self._processes = processes
        self._tables = tables
        self._core = BatchCore(processes or warehouse, tables, triggers, sink)
        self._events = events
        self._state = state
        self._quarantine = quarantine
        self._rules = self._configured = rules
        self._pipeline = Pipeline(rules)
        self._batch_size = batch_size
        self._tag_definitions = tag_definitions
        self._tag_version = 0
        # held per batch, by every runner on this data directory (`cdp serve`'s, `cdp run`, a forget's):
        # whoever rewrites projection state (a forget, a rebuild) takes it too
        self.lock = ProcessLock(rules.data_dir / "runner.lock")

    def pending(self) -> tuple[int, int]:
        """``(tracked position, last position in the log)``."""
        return self._state.tracked()[0], self._events.last_position()

    def run_batch(self) -> int:
        """Processes the next batch; returns how many events it held (0 when caught up)."""
        with self.lock, collector_paused():
            return self._run_batch()

    def _run_batch(self) -> int:
        self._follow_tag_definitions()
        position = self._state.tracked()[0]
        # after a runner died writing the batch that ends at unconfirmed_until(): the same batch again
        batch = self._events.read_readable(position, self._batch_size, until=self._state.unconfirmed_until())
        if not batch.stored:
            return 0
        self._quarantine.add(self._quarantined(batch.unreadable))
        self._process(batch.opened, batch.stored[-1].id, {n.id: n for n in batch.stored})
        return len(batch.stored)

    def _follow_tag_definitions(self) -> None:
        """Tag definitions applied since the last batch (`cdp tags apply`, in any process, under this
        lock) reach the pipeline before the next batch: the rules in force are the configured ones
        followed by every applied version (``cdp.tag_definitions``)."""
        if self._tag_definitions is None or self._tag_definitions.version() == self._tag_version:
            return
        self._tag_version = self._tag_definitions.version()
        self._rules = self._tag_definitions.applied_to(self._configured)
        self._pipeline = Pipeline(self._rules)

    def _process(self, touchpoints: Sequence[Touchpoint], end: int, stored: dict[int, Notification]) -> None:
        """Processes these events as one batch ending at position ``end``. An event that makes
        decoding or projecting them fail is quarantined and the others processed
        (``cdp.batch_core.plan_isolating``). ``stored``: the batch's events as stored, by position
        (the quarantine seals the error with their key)."""

        def plan(count: int, skipped: frozenset[int]) -> Batch | None:
            return self._compute([tp for n, tp in enumerate(touchpoints[:count]) if n not in skipped], end)

        def blame(index: int, error: Exception) -> bool:
            self._quarantine.add(self._quarantined([(stored[touchpoints[index].position], error)]))
            return True

        batch = plan_isolating(plan, len(touchpoints), blame)
        if batch is None:
            self._state.skip_to(end)
        else:
            self._core.write(self._state, [batch])

    def _compute(self, touchpoints: list[Touchpoint], version: int, recorded: bool = True) -> Batch | None:
        """The pure part of a batch: resolve identities, project (state is read, not written); None without events."""
        if not touchpoints:
            return None
        watermark = self._state.tracked()[1]
        watermark = max(watermark, max(tp.occurred_ms for tp in touchpoints))
        graph, resolution = resolve_batch(self._state.load_identity, touchpoints, self._rules.identity)
        recheck = self._state.due_checks(watermark)
        self._core.arm(self._pipeline)
        involved = set(resolution.assignments.values()) | recheck
        involved.update(customer for merge in resolution.merges for customer in (merge.absorbed, merge.survivor))
        if self._processes is None:
            output = self._pipeline.project(self._state.load_profiles(involved), resolution, touchpoints, recheck, watermark, version)
            return Batch(graph, resolution, output, version, watermark, recorded)
        output, encoded = self._processes.project(
            self._rules, self._pipeline.triggers, self._tables, self._state.load_states(involved), resolution, touchpoints, recheck, watermark, version
        )
        return Batch(graph, resolution, output, version, watermark, recorded, encoded)

    def retry(self, positions: Iterable[int]) -> list[Quarantined]:
        """Processes these quarantined events again (after a fix), each alone, as if it arrived now: a
        late event at the tracked position, so its rows replace those of the last batch. Those
        processed leave the quarantine; the others stay (with their new error) and are returned."""
        with self.lock:
            self._follow_tag_definitions()
            if self._state.unconfirmed_until() is not None:
                raise CdpError("the runner has a batch to finish first: run `cdp run`, then replay")
            position = self._state.tracked()[0]
            failed: list[Quarantined] = []
            for entry in self._quarantine.list(positions):
                if entry.position > position:
                    failed.append(entry)  # not passed yet (the runner stopped right after quarantining it): tried in its turn
                    continue
                stored = self._events.read_readable(entry.position - 1, 1)
                if stored.unreadable:
                    failed.extend(self._quarantined(stored.unreadable))
                    continue
                try:
                    batch = self._compute(list(stored.opened), position, recorded=False)  # a late event: nothing to read again
                except Exception as error:
                    if not poisoned(error):
                        raise
                    failed.extend(self._quarantined([(stored.stored[0], error)]))
                    continue
                self._core.write(self._state, [batch])
                self._quarantine.remove([entry.position])
            self._quarantine.add([entry for entry in failed if entry.position <= position])
            return self._quarantine.list([entry.position for entry in failed])

    def _quarantined(self, failures: Iterable[tuple[Notification, Exception]]) -> list[Quarantined]:
        """The quarantine records of these events as stored, their errors sealed with the events' keys."""
        return [sealed_errors.of(self._events.sealer, notification, error) for notification, error in failures]

    def run(
        self,
        follow: bool = False,
        on_progress: Callable[[Progress], None] = lambda p: None,
        should_stop: Callable[[], bool] = lambda: False,
        poll_seconds: float = 0.5,
    ) -> int:
        """Processes the events stored when it starts (not those arriving meanwhile, so it ends while
        another process keeps appending); with ``follow``, keeps polling for new events until told to stop."""
        processed, end = 0, None if follow else self._events.last_position()
        while not should_stop():
            n = self.run_batch()
            processed += n
            if n:
                position, last = self.pending()
                on_progress(Progress(position, last, processed))
                if end is not None and position >= end:
                    break
            elif follow:
                time.sleep(poll_seconds)
            else:
                break
        return processed

    def close(self) -> None:
        """Ends the projection processes, if any."""
        if self._processes is not None:
            self._processes.close()
