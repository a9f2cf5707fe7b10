"""The embedded runner's projection processes (``runner.processes`` above 1): its batches projected on several cores.

The runner's own process keeps what must stay serial: reading and opening the log, identity
resolution, the record of a batch being written, and the one SQLite commit of every changed state
with the position (``cdp.runner``). Projecting is split over N child processes, started once and
kept for the runner's life: customers are placed as the scale-out relay places them (the Kafka
producer's partition function over ``kafka.partitions``, ``cdp.scaleout.relay.partition_of``), and
partition p goes to child p % N. Per batch, each child is sent its customers' events and saved
states (the state codec's bytes, cheap to ship), projects them with its own ``Pipeline``, keeps its
rows and returns the new states, next checks and actions; when the runner writes the batch, every
child inserts its rows over its own warehouse connection (``insert_tables``), in parallel.

Merges: as on the scale-out path, the absorbed customer is retired (``Pipeline.retire``: its rows
withdrawn) and its state absorbed into the survivor before the survivor's events are applied.
Here every state is in the runner's one store, so the handover needs no message: the customers a
batch merges together (a chain A → B → C included) are projected by the child of the last
survivor, with the batch's merges among them, by ``Pipeline.project`` itself. The rows, states and
actions are therefore exactly those of one process (tests/integration/test_runner_processes.py).

A child that fails (a poison event) sends its error back, and the runner isolates the event as
with one process (``cdp.batch_core.plan_isolating``); a child that dies fails the batch before
anything is committed (``RunnerProcessStopped``, an infrastructure error), and a child whose runner
dies reads the end of its pipe and exits.
"""

import multiprocessing
import pickle
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from pydantic import BaseModel, RootModel

from cdp.config import Settings
from cdp.errors import CdpError, ConfigError
from cdp.gc_pause import collector_paused
from cdp.quarantine import describe
from cdp.warehouse import Warehouse
from cdp.warehouse.backends import open_warehouse
from projections import state_codec
from projections.actions import Action
from projections.identity import Resolution
from projections.pipeline import Output, Pipeline, Rules
from projections.touchpoint import Touchpoint
from projections.triggers import Trigger


class RunnerProcessStopped(CdpError):
    """A projection process died: the batch fails, nothing of it is committed, and the next run does it again."""


def _portable(value: Any) -> Any:
    """Settings as they can cross a pipe, their values untouched (validating a dump again would turn a
    default ``1`` into ``1.0``, and a row's digest with it): the fields alone, without what a model
    caches in its ``__dict__`` (functions among them), and as ``Settings`` rather than the class
    ``cdp.config.load_settings`` makes for a configuration file."""
    if isinstance(value, RootModel):
        return type(value).model_construct(_portable(value.root))
    if isinstance(value, BaseModel):
        model = Settings if isinstance(value, Settings) else type(value)
        return model.model_construct(value.model_fields_set, **{name: _portable(getattr(value, name)) for name in type(value).model_fields})
    if isinstance(value, list):
        return [_portable(item) for item in value]
    if isinstance(value, dict):
        return {key: _portable(item) for key, item in value.items()}
    return value


def _no_resolution() -> Resolution:
    return Resolution(assignments={}, merges=[], changed_keys={}, changed_customers=set(), removed_customers=set(), refusals=[])


@dataclass
class Share:
    """One child's share of a batch: its customers' saved states and events, and what resolving them
    found (the merges among them, their changed identifiers and refusals)."""

    states: dict[str, bytes] = field(default_factory=dict)
    resolution: Resolution = field(default_factory=_no_resolution)
    touchpoints: list[Touchpoint] = field(default_factory=list)
    recheck: set[str] = field(default_factory=set)


@dataclass
class Part:
    """What one child planned of a batch; its rows stay with it until ``insert_tables``."""

    states: dict[str, bytes] = field(default_factory=dict)  # changed states, encoded
    removed: set[str] = field(default_factory=set)
    next_checks: dict[str, int | None] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)


class RunnerProcesses:
    """The child processes of one runner (``settings.runner.processes`` of them); ``close`` ends them."""

    def __init__(self, settings: Settings):
        try:  # here, not at the top: aiokafka comes with the scaleout extra, which a plain install lacks
            from cdp.scaleout.relay import partition_of
        except ImportError as error:
            raise ConfigError("runner.processes above 1 places customers with the scale-out relay's partition function (aiokafka's): pip install 'cdp[scaleout]'") from error
        self._partition_of = partition_of
        self._partitions = tuple(range(settings.kafka.partitions))
        self._settings = settings
        self._children: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
        self._rules: Rules | None = None

    def _start(self) -> None:
        """Starts the children, at the first batch (a command that only asks the runner where it is starts none)."""
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no copy of the runner's open stores and locks
        settings = _portable(self._settings)
        for k in range(self._settings.runner.processes):
            mine, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(theirs, settings), name=f"cdp-projection-{k}", daemon=True)
            process.start()
            theirs.close()
            self._children.append((process, mine))

    def project(
        self, rules: Rules, triggers: Sequence[Trigger], tables: set[str] | None, states: dict[str, bytes],
        resolution: Resolution, touchpoints: list[Touchpoint], recheck: set[str], as_of: int, version: int,
    ) -> tuple[Output, dict[str, bytes]]:
        """``Pipeline.project`` of a batch across the children: its output without rows (each child
        keeps its own, of ``tables`` or all, for ``insert_tables``) and the changed states, encoded."""
        if not self._children:
            self._start()
            self._rules = None
        if rules is not self._rules:  # the configured rules, or tag definitions applied since (``cdp.runner``)
            self._ask([("rules", _portable(rules))] * len(self._children))
            self._rules = rules
        child = self._placement(resolution)
        shares = [Share() for _ in range(self._settings.runner.processes)]
        for customer, state in states.items():
            shares[child(customer)].states[customer] = state
        for tp in touchpoints:
            share = shares[child(resolution.assignments[tp.position])]
            share.resolution.assignments[tp.position] = resolution.assignments[tp.position]
            share.touchpoints.append(tp)
        for merge in resolution.merges:
            shares[child(merge.survivor)].resolution.merges.append(merge)
        for key, (customer, position) in resolution.changed_keys.items():
            shares[child(customer)].resolution.changed_keys[key] = (customer, position)
        for refusal in resolution.refusals:
            shares[child(refusal.customer)].resolution.refusals.append(refusal)
        for customer in recheck:
            shares[child(customer)].recheck.add(customer)
        out, encoded = Output(), {}
        for part in self._ask([("project", tuple(triggers), tables, share, as_of, version) for share in shares]):
            encoded.update(part.states)
            out.removed |= part.removed
            out.next_checks.update(part.next_checks)
            out.actions.extend(part.actions)
        out.actions.sort(key=lambda action: action.customer_id)  # one process derives them customer by customer, in this order
        return out, encoded

    def insert_tables(self, rows: dict[str, list[dict]]) -> None:
        """Every child inserts the rows of its last planned batch (the first child ``rows`` too), in parallel."""
        self._ask([("insert", rows if k == 0 else {}) for k in range(len(self._children))])

    def _placement(self, resolution: Resolution):
        """customer → child: the child of its partition, or, for the customers the batch merges
        together, the child of the last survivor among them (it retires and absorbs the others)."""
        group: dict[str, str] = {}

        def root(customer: str) -> str:
            while group.get(customer, customer) != customer:
                customer = group[customer]
            return customer

        for merge in resolution.merges:
            group[root(merge.absorbed)] = root(merge.survivor)
        last_survivor = {root(merge.survivor): merge.survivor for merge in resolution.merges}
        count = self._settings.runner.processes

        def child(customer: str) -> int:
            placed = last_survivor.get(root(customer), customer) if group else customer
            return self._partition_of(placed.encode(), self._partitions) % count

        return child

    def _ask(self, requests: list[tuple]) -> list:
        """Sends each child its request, then waits for every answer (so none is left unread);
        raises the first child's error. A child that cannot be reached ends them all (an answer
        left unread would answer the next request): the next batch starts new ones."""
        try:
            for (process, connection), request in zip(self._children, requests):
                connection.send(request)
            answers = [connection.recv() for _, connection in self._children]
        except Exception as error:  # the runner's failure or a dead child, never an event's: nothing is quarantined for it
            stopped = [process.name for process, _ in self._children if not process.is_alive()]
            self.close()
            raise RunnerProcessStopped(f"projection processes stopped ({', '.join(stopped) or describe(error)}): the batch is done again") from error
        for ok, answer in answers:
            if not ok:
                raise answer
        return [answer for _, answer in answers]

    def close(self) -> None:
        """Ends the children: each reads the end of its pipe and exits (or is killed after 10 s)."""
        for process, connection in self._children:
            connection.close()  # the child reads the end of its pipe and exits
        for process, _ in self._children:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        self._children = []


def _serve(connection: Connection, settings: Settings) -> None:
    """A child: answers the runner's requests until its pipe closes. Interrupting the runner (Ctrl-C
    reaches its whole process group) stops the runner, which closes the pipes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    child = _Child(settings)
    try:
        while True:
            try:
                request = connection.recv()
            except EOFError:
                break
            try:
                answer = (True, child.answer(*request))
            except Exception as error:
                answer = (False, _sendable(error))
            try:
                connection.send(answer)
            except OSError:  # the runner is gone
                break
    finally:
        child.close()


class _Child:
    """A child's pipeline, warehouse connection and the rows of its last planned batch."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._pipeline: Pipeline | None = None
        self._warehouse: Warehouse | None = None
        self._rows: dict[str, list[dict]] = {}

    def answer(self, kind: str, *request: object) -> object:
        if kind == "rules":
            self._pipeline = Pipeline(request[0])
            return None
        if kind == "project":
            assert self._pipeline is not None, "rules come first"
            part, self._rows = _project(self._pipeline, *request)
            return part
        self._warehouse = self._warehouse or open_warehouse(self._settings)
        for table, extra in request[0].items():
            self._rows.setdefault(table, []).extend(extra)
        self._warehouse.insert_tables(self._rows)
        self._rows = {}
        return None

    def close(self) -> None:
        if self._warehouse is not None:
            self._warehouse.close()


def _project(pipeline: Pipeline, triggers: tuple[Trigger, ...], tables: set[str] | None, share: Share, as_of: int, version: int) -> tuple[Part, dict[str, list[dict]]]:
    pipeline.triggers = triggers
    with collector_paused():
        loaded = {customer: state_codec.decode(state) for customer, state in share.states.items()}
        out = pipeline.project(loaded, share.resolution, share.touchpoints, share.recheck, as_of, version)
        rows = {table: table_rows for table, table_rows in out.rows.items() if table_rows and (tables is None or table in tables)}
        part = Part({customer: state_codec.encode(profile) for customer, profile in out.profiles.items()}, out.removed, out.next_checks, out.actions)
    return part, rows


class ProjectionFailed(Exception):
    """An error of a projection process that cannot be sent back as it is (it does not pickle)."""


def _sendable(error: Exception) -> Exception:
    """``error``, or a ``ProjectionFailed`` describing it when it cannot cross the pipe."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return ProjectionFailed(describe(error))
