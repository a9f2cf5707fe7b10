"""``cdp relay``: publishes the event log to Kafka, each event with the customer identity resolution gives it.

Identity resolution needs the log's total order and is cheap, so it runs here, in one process,
exactly as in the embedded runner (same batches: ``batch_size``). Per batch, holding the batch
lock (``RelayState.batch``, which forgetting also takes): read the stored events after the tracked
position, open them (``Sealer``) to resolve identities, publish every event in its stored, sealed
form with its customer (Kafka never holds a personal value in clear; the workers open them with
the same key store), each partition's share in as few messages as their size allows
(``messages.chunks``: the per-message costs paid per chunk, not per event), and wait for the broker's acks, write the identity tables to the warehouse,
then commit the identity graph and the position in one PostgreSQL transaction. An event that
cannot be decoded, opened or resolved is quarantined (``cdp.quarantine``), recorded in that
transaction, and not published. Killed anywhere, it republishes from its last committed position; the
workers drop what they already applied by position, the warehouse collapses repeated rows. A batch
is recorded before its first message is sent (``RelayState.record_unconfirmed``), so a relay
resuming after a crash publishes exactly that batch again, with the same identities and watermark,
even if events were appended meanwhile (a larger batch could resolve some identities otherwise,
and the workers have applied the first publication).

A broker that loses what it acknowledged (its data not on a kept volume, a topic deleted) is
recognised by the ticks' offsets, which only grow along a partition: the relay then publishes
again every batch it keeps (``RelayState.retained``: until every partition applied it) and every
absorb the workers sent that no survivor folded in, then the batch (docs/operations.md, "A broker
that lost its data").
"""

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka import errors
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from eventsourcing.persistence import Notification

from cdp.batch_core import plan_isolating
from cdp.config import KafkaSettings
from cdp.errors import CdpError
from cdp.eventstore import EventStore
from cdp.gc_pause import collector_paused
from cdp.privacy import sealed_errors
from cdp.privacy.sealing import Sealer
from cdp.quarantine import Quarantined, poisoned
from cdp.scaleout import messages
from cdp.scaleout.state import INFRASTRUCTURE, Published, RelayState
from cdp.warehouse import Warehouse
from projections.identity import IdentityGraph, IdentityRules, Resolution, resolve_batch
from projections.pipeline import identity_rows
from projections.touchpoint import Touchpoint

log = logging.getLogger(__name__)
_KEY_HASH = DefaultPartitioner()

class Relay:
    def __init__(self, events: EventStore, sealer: Sealer, state: RelayState, warehouse: Warehouse, identity: IdentityRules, batch_size: int, producer: AIOKafkaProducer, topic: str):
        self._events = events  # the stored (sealed) events
        self._sealer = sealer
        self._state = state
        self._warehouse = warehouse
        self._identity = identity
        self._batch_size = batch_size
        self._producer = producer
        self._topic = topic
        self._ahead: tuple[int, asyncio.Future[Sequence[Notification]]] | None = None  # the next batch's read: (after, its events)

    async def run_batch(self) -> int:
        """Relays the next batch; returns how many events it held (0 when caught up). The cyclic
        garbage collector is paused for it, as for the runner's batches (``cdp.gc_pause``)."""
        with self._state.batch(), collector_paused():
            return await self._run_batch()

    async def _run_batch(self) -> int:
        position, watermark = self._state.tracked()
        # after a relay died publishing the batch that ends at unconfirmed_until(): the same batch again
        notifications = await self._read(position, self._state.unconfirmed_until())
        if not notifications:
            return 0
        last = notifications[-1].id
        notifications, touchpoints, unreadable = self._readable(notifications)
        watermark = max([watermark, *(tp.occurred_ms for tp in touchpoints)])
        graph, resolution, failed = self._resolved(touchpoints)
        if failed:
            unreadable += [sealed_errors.of(self._sealer, n, failed[n.id]) for n in notifications if n.id in failed]
            notifications = [n for n in notifications if n.id not in failed]
        merges = [(m.position, sub, m.absorbed, m.survivor) for merge_list in _by_position(resolution.merges).values() for sub, m in enumerate(merge_list)]
        batch = Published(position, last, watermark, resolution.assignments, merges)  # resolved: the published events, in log order
        self._state.record_unconfirmed(last)
        self._ahead = (last, asyncio.ensure_future(asyncio.to_thread(self._events.read, last, self._batch_size)))
        rows: dict[str, list[dict]] = defaultdict(list)
        identity_rows(resolution, rows)
        writing = asyncio.ensure_future(asyncio.to_thread(self._warehouse.insert_tables, rows))  # while the broker acks
        try:
            offsets = await self._publish(batch, notifications)
            if offsets is None:  # the broker lost messages: what the workers may miss goes again, then this batch
                await self._publish_retained()
                offsets = await self._publish(batch, notifications)
                if offsets is None:
                    raise self._still_losing()
        finally:
            await asyncio.wait([writing])
        writing.result()  # a failed write stops the batch before its commit
        self._state.commit(graph, resolution, batch, unreadable, self._topic, offsets, len(offsets))
        return len(notifications) + len(unreadable)

    async def _read(self, after: int, until: int | None) -> Sequence[Notification]:
        """The stored events of the batch after ``after``: read while the previous batch was being
        published and committed, when it ended there (a read took 90-250 ms of a ~750 ms batch of
        20,000 events, BENCHMARKS.md, issue 23). The log is append-only and its positions become
        visible in order, so reading early sees a prefix of what reading now would (read again when
        it saw nothing, or failed); the events are still opened under the batch lock, after any
        erasure that shredded their keys."""
        ahead = await self._drop_read_ahead()
        if ahead is not None and ahead[0] == after and until is None and ahead[1].exception() is None and (early := ahead[1].result()):
            return early
        return self._events.read(after, self._batch_size, until=until)

    async def _drop_read_ahead(self) -> tuple[int, asyncio.Future[Sequence[Notification]]] | None:
        """The read ahead, once done (its failure left in it), no longer kept."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            await asyncio.wait([ahead[1]])
            ahead[1].exception()  # retrieved: an early read that failed is done again (``_read``)
        return ahead

    async def _publish(self, batch: Published, notifications: Sequence[Notification]) -> dict[int, int] | None:
        """Publishes a batch (per partition, its events in log order, each after the merges it caused,
        packed into chunks, then a tick to every partition) and waits for every ack; returns the
        ticks' offsets by partition, or None if the broker lost messages it had acknowledged.

        Offsets only grow along a partition, by at least what is sent to it: a tick acknowledged
        below the previous batch's tick plus what this batch sent to its partition means the topic
        restarted (a broker whose data was not on a kept volume, a deleted topic), and the workers
        will never receive what was lost (docs/operations.md, "A broker that lost its data")."""
        partitions = tuple(sorted(await self._producer.partitions_for(self._topic)))
        items: dict[int, list[messages.Item]] = {partition: [] for partition in partitions}
        merges_at: dict[int, list[tuple[int, int, str, str]]] = {}
        for merge in batch.merges:
            merges_at.setdefault(merge[0], []).append(merge)
        assignments = batch.assignments
        for n in notifications:
            customer = assignments.get(n.id)
            if customer is None:  # quarantined when first published
                continue
            merges = merges_at.get(n.id, ())
            for position, sub, absorbed, survivor in merges:
                items[partition_of(absorbed.encode(), partitions)].append(messages.merge_out(position, sub, absorbed, survivor))
            items[partition_of(customer.encode(), partitions)].append(messages.event(n.id, len(merges), customer, n.state))
        tick = messages.tick(batch.since, batch.until, batch.watermark)
        outgoing = {partition: [*messages.chunks(batch.since, batch.watermark, partition_items), tick] for partition, partition_items in items.items()}
        # every message acknowledged before the position moves on
        ticks = await asyncio.gather(*(self._send_in_order(partition, values) for partition, values in outgoing.items()))
        offsets = dict(zip(partitions, ticks, strict=True))
        before = self._state.published_offsets(self._topic)
        lost = sorted(p for p, offset in offsets.items() if p in before and offset < before[p] + len(outgoing[p]))
        if lost:
            log.error(
                "relay: the Kafka broker lost messages it had acknowledged on topic %s (partitions %s restarted below the offsets published): publishing again what the workers have not applied",
                self._topic, ", ".join(map(str, lost)),
            )
            return None
        return offsets

    async def _send_in_order(self, partition: int, values: Sequence[bytes]) -> int:
        """Sends messages (no key: the partition is chosen here) to one partition, in order, as few
        record batches as the producer's batch size allows (one future per batch, not per message);
        waits for their acks and returns the offset of the last message."""
        producer = self._producer
        sent = []

        async def send(builder: BatchBuilder) -> None:
            builder.close()  # complete: sent at once, not after the producer's linger
            sent.append((await producer.send_batch(builder, self._topic, partition=partition), builder.record_count()))

        builder = producer.create_batch()
        for value in values:
            if builder.append(timestamp=None, key=None, value=value) is None:  # full: a batch always takes its first record
                await send(builder)
                builder = producer.create_batch()
                builder.append(timestamp=None, key=None, value=value)
        await send(builder)
        acks = await asyncio.gather(*(future for future, _ in sent))
        return acks[-1].offset + sent[-1][1] - 1  # a batch's ack carries its first record's offset

    def _still_losing(self) -> CdpError:
        return CdpError(f"the Kafka broker keeps losing the messages it acknowledges on topic {self._topic}: stopped (docs/operations.md, \"A broker that lost its data\")")

    async def _publish_retained(self) -> None:
        """Publishes again, in log order, every batch some partition has not applied (the workers
        skip what they applied by position) and every absorb no survivor has folded in yet (folding
        one twice changes nothing), then records where the topic now stands."""
        retained = self._state.retained(self._topic)
        self._state.replace_offsets(self._topic, {})  # the lost topic's offsets say nothing of the new one
        for batch in retained:
            notifications = self._events.read(batch.since, batch.until - batch.since, until=batch.until)
            offsets = await self._publish(batch, notifications)
            if offsets is None:
                raise self._still_losing()
            self._state.replace_offsets(self._topic, offsets)
        absorbs = [await self._producer.send(self._topic, message, key=survivor.encode()) for survivor, message in self._state.undelivered_absorbs(self._topic)]
        await asyncio.gather(*absorbs)
        log.warning("relay: published %d batches and %d absorbs again after the broker lost messages", len(retained), len(absorbs))

    def _readable(self, notifications: Sequence[Notification]) -> tuple[Sequence[Notification], list[Touchpoint], list[Quarantined]]:
        """The events that open, as touchpoints, and those that do not: the batch is opened at once,
        and only if that fails, event by event (an event failing alone is quarantined, not published).
        An event too large for a message (``messages.MAX_EVENT_BYTES``) is quarantined unopened."""
        fitting = [n for n in notifications if len(n.state) <= messages.MAX_EVENT_BYTES]
        unreadable = [
            sealed_errors.of(self._sealer, n, messages.MessageTooLarge(f"{len(n.state):,} bytes stored, at most {messages.MAX_EVENT_BYTES:,} fit a message"))
            for n in notifications if len(n.state) > messages.MAX_EVENT_BYTES
        ] if len(fitting) < len(notifications) else []
        notifications = fitting
        try:
            return notifications, self._touchpoints(notifications), unreadable
        except Exception as error:
            if not poisoned(error, INFRASTRUCTURE):
                raise
        readable, touchpoints = [], []
        for n in notifications:
            try:
                touchpoints.extend(self._touchpoints([n]))
                readable.append(n)
            except Exception as error:
                if not poisoned(error, INFRASTRUCTURE):
                    raise
                unreadable.append(sealed_errors.of(self._sealer, n, error))
                log.warning("relay: event at position %d quarantined: %s (cdp quarantine list)", n.id, type(error).__name__)
        return readable, touchpoints, unreadable

    def _resolved(self, touchpoints: list[Touchpoint]) -> tuple[IdentityGraph, Resolution, dict[int, Exception]]:
        """Resolves the batch's identities. If that fails because of an event, the event ending the
        shortest failing prefix is left out (returned by position, with its error) and the rest
        resolved again (``cdp.batch_core.plan_isolating``); the graph is loaded anew for each try, as
        resolving changes it."""
        failed: dict[int, Exception] = {}

        def plan(count: int, skipped: frozenset[int]) -> tuple[IdentityGraph, Resolution]:
            kept = [tp for index, tp in enumerate(touchpoints[:count]) if index not in skipped]
            return resolve_batch(self._state.load_identity, kept, self._identity)

        def blame(index: int, error: Exception) -> bool:
            failed[touchpoints[index].position] = error
            log.warning("relay: event at position %d quarantined: %s (cdp quarantine list)", touchpoints[index].position, type(error).__name__)
            return True

        if not touchpoints:
            return (*plan(0, frozenset()), failed)
        return (*plan_isolating(plan, len(touchpoints), blame, INFRASTRUCTURE), failed)

    def _touchpoints(self, notifications: Sequence[Notification]) -> list[Touchpoint]:
        opened = [orjson.loads(n.state) for n in notifications]
        self._sealer.open_envelopes(opened, only="identifiers")  # all resolution reads; the stored form is what goes out
        return [Touchpoint(n.id, event) for n, event in zip(notifications, opened, strict=True)]

    async def run(self, follow: bool, should_stop: Callable[[], bool] = lambda: False, poll_seconds: float = 0.2) -> int:
        """Relays everything pending; with ``follow``, keeps polling for new events until told to stop."""
        relayed = 0
        try:
            while not should_stop():
                n = await self.run_batch()
                relayed += n
                if n:
                    continue
                if not follow:
                    break
                await asyncio.sleep(poll_seconds)
        finally:
            await self._drop_read_ahead()
        return relayed


TOPIC_CONFIGS = {"max.message.bytes": str(messages.MAX_REQUEST_BYTES)}


async def ensure_topic(kafka: KafkaSettings) -> None:
    """Creates the touchpoints topic with the configured partition count unless it exists, and
    refuses a topic with another count: customers are placed by key hash, so the count cannot change
    once events flowed, and a topic a client or broker created on its own (often 1 partition) would
    leave all the work to one worker, forever (docs/operations.md, "Topics, keys, partitioning")."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(kafka.topic, num_partitions=kafka.partitions, replication_factor=kafka.replication_factor, topic_configs=TOPIC_CONFIGS)])
        for topic, code, *_ in response.topic_errors:
            if code not in (0, TopicAlreadyExistsError.errno):
                raise CdpError(f"cannot create Kafka topic {topic}: {errors.for_code(code).__name__}")
        described = await admin.describe_topics([kafka.topic])
    finally:
        await admin.close()
    found = len(described[0]["partitions"]) if described else 0
    if found != kafka.partitions:
        raise CdpError(
            f"Kafka topic {kafka.topic} has {found} partitions, kafka.partitions is {kafka.partitions}: the count cannot change once events flowed. "
            "Set kafka.partitions (CDP_KAFKA__PARTITIONS) to the topic's count, or, before any event was relayed, delete the topic and start the relay again"
        )


def _by_position(merges: Sequence) -> dict[int, list]:
    """Merges by the position of the event that caused them, in resolution order."""
    found: dict[int, list] = {}
    for merge in merges:
        found.setdefault(merge.position, []).append(merge)
    return found


@lru_cache(maxsize=1 << 16)
def partition_of(key: bytes, partitions: tuple[int, ...]) -> int:
    """The partition the producer would choose for ``key`` (its default partitioner: murmur2 of the
    key, as every Kafka client), remembered for the customers seen lately: the relay builds its
    record batches per partition itself (``send_batch``), and the pure-Python hash was a third of
    its sending time (BENCHMARKS.md, issue 23). The workers' ``absorb`` messages, sent by key
    through the producer, must land where the relay put the survivor's events."""
    return _KEY_HASH(key, list(partitions), list(partitions))


def producer(kafka: KafkaSettings) -> AIOKafkaProducer:
    """acks from all in-sync replicas; order within a partition is kept (one request in flight per partition)."""
    return AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all", linger_ms=5, max_batch_size=1 << 20, max_request_size=messages.MAX_REQUEST_BYTES)


async def wait_for_partitions(client: AIOKafkaProducer, topic: str, timeout: float = 30) -> None:
    """Metadata of a just-created topic can lag; waits until its partitions are known."""
    deadline = time.monotonic() + timeout
    while not await client.partitions_for(topic):
        if time.monotonic() > deadline:
            raise TimeoutError(f"topic {topic} has no partitions after {timeout:.0f} s")
        await asyncio.sleep(0.2)
