"""``cdp worker``: a faust-streaming worker running the projections on its share of the partitions.

Faust gives partitioned consumption and rebalancing, batched by ``cdp.scaleout.batching.take``
(up to ``kafka.worker_batch`` relayed items, whole messages); state is not in faust tables but in
PostgreSQL, per partition, committed with the partition's tracked position
(``cdp.scaleout.state``). Per partition and batch: unpack the relay's chunks into their items
(``messages.unpack``), skip the items at or before the tracked ``(position, sub)`` (redelivery, a
relay republishing), open the events (published sealed; the ``Sealer`` on
the shared key store, after the partition's lock is taken, so a customer being forgotten meanwhile
is seen erased, never in clear), build what the embedded runner gives
``Pipeline.update``, publish ``absorb`` messages for customers merged away, write the rows to the
warehouse, then commit. A merged-away customer's state travels to the survivor's partition as
an ``absorb`` message (its personal part sealed: ``cdp.scaleout.transit``), folded in whenever it arrives: ``projections.profile.absorb`` and ``apply``
commute, so the order of an absorb and the survivor's later events does not change the survivor's state.

A batch applies and commits whole messages (``take`` never splits one), so a partition's tracked
position is always a message's last item: a redelivered chunk is skipped whole. The skip is per
item all the same, so a chunk overlapping what was applied (a relay republishing a batch chunked
otherwise) would be right too.

A worker that dies between writing a batch's rows and committing it leaves rows its state never
knew of; the batch's second processing may compute other ones. So each batch first records which
customers it writes (``PartitionState.record_unconfirmed``), and a partition's processing, once
past the version of such a record left behind, writes those customers' rows again and withdraws
their history rows the state does not hold (``Pipeline.rewrite``).

An event that cannot be opened or projected is skipped and quarantined (``cdp.quarantine``) with
its batch. Isolating it, writing the rows and the actions, and committing are ``cdp.batch_core``'s,
shared with the embedded runner; relay messages, absorbs and merges are the worker's own.

If the broker loses messages (docs/operations.md, "A broker that lost its data"), relay messages
whose batch starts after a position the partition never reached wait unapplied until the relay
publishes the lost batches again; absorbs stay in an outbox (``scaleout_absorbs``) from before
they are sent until the survivor folds them in, for the relay to send again.
"""

import asyncio
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Sequence

import faust

from cdp.batch_core import BatchCore, plan_isolating
from cdp.config import Settings
from cdp.eventstore import event_id
from cdp.platform import Platform
from cdp.privacy.keystore import KeyStore, master_key
from cdp.privacy import sealed_errors
from cdp.privacy.sealing import Sealer
from cdp.quarantine import Quarantined, poisoned
from cdp.rates import RateStore, with_rates
from cdp.scaleout import batching, delivery, messages, transit
from cdp.scaleout.recovery import stored_history
from cdp.scaleout.messages import Message
from cdp.scaleout.state import INFRASTRUCTURE, Customers, PartitionState, Planned, connect
from cdp.warehouse import Warehouse
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.migrations import migrate
from projections.actions import Action
from projections.pipeline import Output, Pipeline
from projections.profile import absorb, empty_profile
from projections.touchpoint import Touchpoint
from projections.triggers import Trigger

log = logging.getLogger(__name__)


class PartitionProcessor:
    """One faust batch at a time: its partitions are planned, then written and committed together
    (``cdp.batch_core``). ``triggers``, ``sink``: as the embedded runner's (``BatchCore``)."""

    def __init__(
        self,
        state: PartitionState,
        warehouse: Warehouse,
        pipeline: Pipeline,
        sealer: Sealer,
        triggers: Callable[[], Sequence[Trigger]] = tuple,
        sink: Callable[[Sequence[Action]], int] = len,
    ):
        self._state = state
        self._sealer = sealer
        self._warehouse = warehouse
        self._pipeline = pipeline
        self._core = BatchCore(warehouse, None, triggers, sink)

    def plan(self, batches: dict[int, list[Message]]) -> list[Planned]:
        """Opens the batch's transaction, locks its partitions (in order) and computes what is new in each."""
        try:
            self._core.arm(self._pipeline)
            tracking = self._state.begin(sorted(batches))
            planned = [p for partition in sorted(batches) if (p := self._plan_isolating(partition, batches[partition], *tracking[partition])) is not None]
        except BaseException:
            self._state.rollback()
            raise
        if not planned:
            self._state.rollback()
        return planned

    def commit(self, planned: list[Planned]) -> None:
        """Writes the rows, one insert per table for every partition (deduplicated by the server on a
        retry), then commits every partition's state and position in one transaction."""
        self._core.write(self._state, planned)

    def hold_absorbs(self, planned: list[Planned]) -> None:
        """Puts the batch's absorbs in the outbox before they are sent (``PartitionState.record_absorbs``)."""
        self._state.record_absorbs([absorb for p in planned for absorb in p.outgoing])

    def _plan_isolating(self, partition: int, batch: list[Message], tracked: tuple[int, int], watermark: int) -> Planned | None:
        """``_plan``; an event that makes it fail is skipped and quarantined with the batch (``cdp.batch_core.plan_isolating``)."""
        keys = {m.position: sealed_errors.key_id(m.body["event"]) for m in batch if m.kind == "event"}  # planning opens the events
        blamed: dict[int, Quarantined] = {}  # by index in the batch

        def plan(count: int, skipped: frozenset[int]) -> Planned | None:
            return self._plan(partition, batch[:count], tracked, watermark, {batch[n].position: blamed[n] for n in skipped})

        def blame(index: int, error: Exception) -> bool:
            guilty = batch[index]
            if guilty.kind != "event" or any(batch[n].position == guilty.position for n in blamed):
                return False  # not one event's fault
            blamed[index] = sealed_errors.quarantined(self._sealer, guilty.position, _event_id(guilty.body["event"]), keys.get(guilty.position), error)
            log.warning("partition %d: event at position %d quarantined (cdp quarantine list)", partition, guilty.position)
            return True

        return plan_isolating(plan, len(batch), blame, INFRASTRUCTURE)

    def _plan(self, partition: int, batch: list[Message], tracked: tuple[int, int], watermark: int, skipped: dict[int, Quarantined]) -> Planned | None:
        fresh = _continuing(partition, tracked[0], [m for m in batch if m.kind == "absorb" or m.order > tracked])
        if not fresh:
            return None
        relayed = [m for m in fresh if m.kind != "absorb"]
        unreadable = self._open(partition, fresh) | skipped
        as_of = max([watermark, *(m.body["watermark"] for m in relayed if "watermark" in m.body)])
        due = self._state.due_checks(partition, as_of)
        named = {m.body["customer"] for m in relayed if m.kind == "event"}
        named |= {m.body["survivor"] for m in fresh if m.kind == "absorb"} | {m.body["absorbed"] for m in relayed if m.kind == "merge_out"}
        reach = max([tracked, *(m.order for m in relayed)])
        leftovers = [(record, written) for record, version, written in self._state.unconfirmed(partition) if version <= reach[0]]
        unsure = {customer for _, written in leftovers for customer in written}
        customers = self._state.load(named | due | unsure)
        planned = Planned(partition, customers, Output(), reach, as_of, [record for record, _ in leftovers], quarantined=list(unreadable.values()))
        pipeline, state, out = self._pipeline, customers.profiles, planned.output
        waiting: dict[str, list[Touchpoint]] = defaultdict(list)  # each customer's events not yet folded in, in log order
        customer_of: dict[int, str] = {}
        touched, version = set(due), tracked[0]
        for m in fresh:
            body = m.body
            if m.kind == "event" and m.position in unreadable:
                version = m.position
            elif m.kind == "event":
                waiting[body["customer"]].append(Touchpoint(m.position, body["event"]))
                customer_of[m.position] = body["customer"]
                version = m.position
            elif m.kind == "tick":
                version = m.position
            elif m.kind == "absorb":
                self._absorb(body, customers, touched, planned)
            else:  # merge_out: the absorbed customer's events so far come first, then it leaves; the others' wait for the batch's end
                gone, survivor = body["absorbed"], body["survivor"]
                own = waiting.pop(gone, [])
                pipeline.update(state, own, customer_of, touched & {gone}, as_of, version, out)
                touched.discard(gone)
                version = m.position
                profile = pipeline.retire(state, gone, survivor, m.position, out)
                customers.forwards[gone] = survivor
                absorbed_ids = customers.absorbed.pop(gone, set())
                if profile is not None:
                    planned.outgoing.append((gone, survivor, messages.absorb(m.position, survivor, gone, transit.seal(self._sealer, profile), absorbed_ids)))
        pipeline.update(state, [tp for own in waiting.values() for tp in own], customer_of, touched, as_of, version, out)
        if unsure:  # version is reach's position: at least that of every leftover's rows
            log.warning("partition %d: writing again the rows of %d customers of a batch written but never committed", partition, len(unsure))
            pipeline.rewrite(state, stored_history(self._warehouse, unsure), as_of, version, out)
        return planned

    def _open(self, partition: int, batch: list[Message]) -> dict[int, Quarantined]:
        """Opens the batch's events in place, at once, and only if that fails, one by one; those that
        fail alone are returned by position, to be skipped and quarantined with the batch."""
        events = [m for m in batch if m.kind == "event"]
        try:
            self._sealer.open_envelopes([m.body["event"] for m in events])
            return {}
        except Exception as error:
            if not poisoned(error, INFRASTRUCTURE):
                raise
        unreadable = {}
        for m in events:
            try:
                self._sealer.open_envelopes([m.body["event"]])  # those opened already are left as they are
            except Exception as error:
                if not poisoned(error, INFRASTRUCTURE):
                    raise
                event = m.body["event"]  # not opened: it keeps its sealed part, and so its key id
                unreadable[m.position] = sealed_errors.quarantined(self._sealer, m.position, _event_id(event), sealed_errors.key_id(event), error)
                log.warning("partition %d: event at position %d quarantined: %s (cdp quarantine list)", partition, m.position, type(error).__name__)
        return unreadable

    def _absorb(self, body: dict, customers: Customers, touched: set[str], planned: Planned) -> None:
        survivor, gone = body["survivor"], body["absorbed"]
        onward = customers.forwards.get(survivor)
        if onward is not None:  # the survivor was itself merged away meanwhile: follow the chain (its outbox entry goes with it)
            planned.outgoing.append((gone, onward, messages.absorb(body["position"], onward, gone, body["state"], set(body["absorbed_ids"]))))
            return
        planned.delivered.append(gone)
        seen = customers.absorbed.setdefault(survivor, set())
        if gone in seen:  # a repeated absorb (redelivery, or re-sent by a worker that died before committing)
            return
        seen.update([gone, *body["absorbed_ids"]])
        if survivor not in customers.profiles:
            customers.profiles[survivor] = empty_profile(survivor)
        absorb(customers.profiles[survivor], transit.open_state(self._sealer, body["state"]))
        touched.add(survivor)


def _continuing(partition: int, tracked: int, batch: list[Message]) -> list[Message]:
    """The batch without the relay messages whose relay batch starts after a position the partition
    never reached (``since``, ``cdp.scaleout.messages``): the broker lost the messages between. They
    are left unapplied, the partition's position stays, and the relay, which detects the loss,
    publishes the lost batches again followed by these (docs/operations.md, "A broker that lost its
    data"); applying them now would skip the lost ones for good."""
    reached, kept, waiting = tracked, [], 0
    for m in batch:
        if m.kind == "absorb":
            kept.append(m)
        elif m.body.get("since", 0) > reached:  # messages published before ``since`` existed carry none
            waiting += 1
        else:
            kept.append(m)
            reached = max(reached, m.position)
    if waiting:
        log.warning("partition %d: %d messages start after position %d, which it never reached (the broker lost messages): waiting for the relay to publish them again", partition, waiting, reached)
    return kept


def _event_id(event: object) -> str:
    source, message = (event.get("source_name"), event.get("message_id")) if isinstance(event, dict) else (None, None)
    return event_id(source, message) if isinstance(source, str) and isinstance(message, str) else ""


# Messages faust prefetches into the agent's stream: relay messages are chunks of up to
# ``messages.CHUNK_ITEMS`` events, so faust's default (4,096 messages) would let a worker that is
# behind hold millions of events; 32 chunks keep the next worker batches' messages at hand.
STREAM_BUFFER_MESSAGES = 32


def faust_app(settings: Settings) -> tuple[faust.App, faust.TopicT]:
    """The worker's faust app and its touchpoints topic, before any agent (``create_app`` adds the
    worker's; benchmarks/faust_drain.py a counting one)."""
    kafka = settings.kafka
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        kafka.group,
        broker=";".join(f"kafka://{server.strip()}" for server in kafka.bootstrap_servers.split(",")),
        web_enabled=False,
        web_port=kafka.web_port,  # each worker on one host needs its own, even with the web server off
        web_bind="127.0.0.1",
        datadir=str(settings.data_dir / "faust"),  # faust keeps nothing here without tables, but wants a writable place
        topic_partitions=kafka.partitions,
        topic_replication_factor=kafka.replication_factor,
        producer_acks=-1,
        producer_max_request_size=messages.MAX_REQUEST_BYTES,  # absorb messages carry a customer's whole state
        consumer_max_fetch_size=messages.MAX_REQUEST_BYTES,  # per partition: the largest message fits one fetch
        stream_buffer_maxsize=STREAM_BUFFER_MESSAGES,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=kafka.session_timeout_seconds,
    )
    app.transport = delivery.Transport(app.conf.broker_consumer, app)  # before the topic: its conductor is the transport's
    return app, app.topic(kafka.topic, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw", partitions=kafka.partitions)


def create_app(settings: Settings) -> faust.App:
    """The faust app: one agent over the touchpoints topic, consuming in batches."""
    kafka = settings.kafka
    app, topic = faust_app(settings)

    @app.agent(topic)
    async def project(stream: faust.StreamT) -> None:
        try:
            processor = await asyncio.to_thread(open_processor, settings, kafka.topic)
            async for by_partition in batching.take(stream, kafka.worker_batch, within=kafka.worker_batch_seconds):
                await _project(processor, topic, by_partition)
                del by_partition  # freed while the collector is still paused for the batch (``batching.take``)
        except Exception:
            # faust would restart the agent past the failed batch's messages (fetched, never acknowledged);
            # a later batch would then move the tracked position beyond them. Exiting instead hands the
            # partitions back: they are consumed again from the last committed offset, as after a crash.
            log.exception("the worker stops: a batch failed; its partitions resume from the last committed batch")
            os._exit(70)

    return app


async def _project(processor: PartitionProcessor, topic: faust.TopicT, by_partition: dict[int, list[Message]]) -> None:
    """One batch: planned, its absorbs held and sent (acknowledged before the batch commits; a
    repeat is idempotent), then written and committed."""
    planned = await asyncio.to_thread(processor.plan, by_partition)
    if planned:
        await asyncio.to_thread(processor.hold_absorbs, planned)
        sent = [await topic.send(key=survivor.encode(), value=value) for p in planned for _, survivor, value in p.outgoing]
        await asyncio.gather(*sent)
        await asyncio.to_thread(processor.commit, planned)


# A worker whose insert meets an overloaded server (too many parts, memory) waits for the merges to
# catch up (0.2 s doubling: about 3.5 minutes over these retries) instead of exiting after ~1.4 s.
BUSY_WAREHOUSE_RETRIES = 10


def open_processor(settings: Settings, topic: str) -> PartitionProcessor:
    patient = settings.warehouse.model_copy(update={"retries": max(settings.warehouse.retries, BUSY_WAREHOUSE_RETRIES)})
    warehouse = open_warehouse(settings.model_copy(update={"warehouse": patient}))
    migrate(warehouse, settings.data_dir)
    sealer = Sealer(KeyStore(settings.key_store_path, master_key(settings)), settings.identity)
    postgres = settings.event_store.postgres
    rates = RateStore(settings.rates_path)  # the worker's data directory's copy (docs/operations.md, "Currencies")
    rules = with_rates(settings, rates.table())
    rates.close()
    platform = Platform(settings)  # the enabled triggers and the outbox, in the PostgreSQL database (docs/activation.md)
    state = PartitionState(connect(postgres), connect(postgres), topic)
    return PartitionProcessor(state, warehouse, Pipeline(rules), sealer, triggers=platform.enabled_triggers, sink=platform.action_sink)


def run_worker(settings: Settings, loglevel: str = "warning") -> None:
    """Runs a worker until it is stopped (SIGINT, SIGTERM)."""
    faust.Worker(create_app(settings), loglevel=loglevel, quiet=True).execute_from_commandline()
