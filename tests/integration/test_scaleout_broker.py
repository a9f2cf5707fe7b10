"""The scale-out deployment against what a real broker does on a first start (issue 24), on Tansu:
a topic made with another partition count is refused; a broker restarted empty while the relay
runs is detected and recovered, every event projected exactly once; an event near the collector's
size limit passes the relay and a worker."""

import asyncio
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from cdp.config import Settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.scaleout import messages
from cdp.scaleout.relay import Relay, ensure_topic, producer, wait_for_partitions
from cdp.scaleout.state import RelayState, connect, quarantined
from cdp.scaleout.worker import PartitionProcessor, open_processor
from projections import state_codec
from tests.events import event
from tests.integration.scaleout_harness import PARTITIONS, Processes, append, environment, fresh_database, partition_positions, relay_position, settings_from, wait_until
from tests.integration.test_scaleout_relay import published
from tests.services.clickhouse import ClickHouseServer
from tests.services.kafka import KafkaBroker, kafka_broker
from tests.services.ports import free_port
from tests.services.postgres import PostgresServer


def visits(prefix: str, count: int) -> list[dict]:
    return [event("page_viewed", "2026-01-01", email=f"{prefix}{i}@example.com") for i in range(count)]


def test_a_topic_with_another_partition_count_is_refused(kafka: KafkaBroker, postgres: PostgresServer, clickhouse: ClickHouseServer, tmp_path: Path):
    settings = settings_from(environment(tmp_path, postgres, clickhouse, kafka, "unused", batch_size=100))
    topic = f"one-{uuid.uuid4().hex[:8]}"

    async def create_with_one_partition() -> None:  # what a broker or client auto-creating it would have made
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        finally:
            await admin.close()

    asyncio.run(create_with_one_partition())
    with pytest.raises(CdpError, match=rf"Kafka topic {topic} has 1 partitions, kafka.partitions is {PARTITIONS}: the count cannot change"):
        asyncio.run(ensure_topic(settings.kafka.model_copy(update={"topic": topic})))
    asyncio.run(ensure_topic(settings.kafka.model_copy(update={"topic": topic, "partitions": 1})))  # the count it has: accepted


async def relay_batch(platform: Platform, settings: Settings) -> int:
    """One relay batch, as ``cdp relay`` runs it."""
    kafka = settings.kafka
    await ensure_topic(kafka)
    client = producer(kafka)
    await client.start()
    try:
        await wait_for_partitions(client, kafka.topic)
        relay = Relay(platform.events.store, platform.events.sealer, RelayState(connect(settings.event_store.postgres)), platform.warehouse, settings.identity, settings.batch_size, client, kafka.topic)
        return await relay.run_batch()
    finally:
        await client.stop()


def apply(processor: PartitionProcessor, found: list[tuple[int, bytes]], only: set[int] | None = None) -> list[tuple[str, bytes]]:
    """Applies messages as the workers would (each partition's in topic order; ``only`` those
    partitions); returns the absorbs to send, as ``(key, message)``."""
    by_partition: dict[int, list[messages.Message]] = {}
    for partition, value in found:
        if only is None or partition in only:
            by_partition.setdefault(partition, []).extend(messages.unpack(value))
    planned = processor.plan(by_partition)
    if planned:
        processor.hold_absorbs(planned)  # as the worker's agent does, before sending them
        processor.commit(planned)
    return [(survivor, value) for p in planned for _, survivor, value in p.outgoing]


async def send_absorbs(bootstrap_servers: str, topic: str, absorbs: list[tuple[str, bytes]]) -> None:
    client = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await client.start()
    try:
        await asyncio.gather(*[await client.send(topic, value, key=key.encode()) for key, value in absorbs])
    finally:
        await client.stop()


def test_a_broker_restarted_empty_is_recovered_with_every_event_projected_once(postgres: PostgresServer, clickhouse: ClickHouseServer, tmp_path: Path):
    """Batch 1 is applied everywhere; batch 2 merges customer a into s, and only a's partition applies
    it (its absorb to s is sent); then the broker restarts empty, losing batch 2 on the other
    partitions and the absorb. Batch 3 reveals the loss to the relay, which publishes batch 2 and the
    absorb again, then batch 3; the workers skip what they applied and wait for what was lost."""
    port = free_port()
    with kafka_broker(port=port) as broker:
        env = environment(tmp_path / "data", fresh_database(postgres, "lost"), clickhouse, broker, f"lost_{uuid.uuid4().hex[:12]}", batch_size=10)
        settings = settings_from(env)
        kafka = settings.kafka

        with Platform(settings) as platform:
            append(platform, [event("page_viewed", "2026-01-01", email="a@example.com"), event("page_viewed", "2026-01-01", user_id="s"), *visits("first", 2)])
            assert asyncio.run(relay_batch(platform, settings)) == 4
            processor = open_processor(settings, kafka.topic)
            first = asyncio.run(published(broker.bootstrap_servers, kafka.topic, 1))
            assert apply(processor, first) == []
            db = connect(settings.event_store.postgres)
            assert partition_positions(db, kafka.topic) == [4] * PARTITIONS

            append(platform, [event("page_viewed", "2026-01-02", email="a@example.com", user_id="s"), *visits("second", 1)])  # merges a into s
            assert asyncio.run(relay_batch(platform, settings)) == 2
            second = [(p, value) for p, value in asyncio.run(published(broker.bootstrap_servers, kafka.topic, 2)) if messages.unpack(value)[0].position > 4]
            [(absorbed_partition, merge)] = [(p, m) for p, value in second for m in messages.unpack(value) if m.kind == "merge_out"]
            absorbed, survivor = merge.body["absorbed"], merge.body["survivor"]
            absorbs = apply(processor, second, only={absorbed_partition})
            assert [key for key, _ in absorbs] == [survivor]
            asyncio.run(send_absorbs(broker.bootstrap_servers, kafka.topic, absorbs))  # acknowledged, then lost with the broker
    with kafka_broker(port=port) as broker:  # the same address, empty: a Kafka container recreated without its volume
        with Platform(settings) as platform:
            append(platform, visits("third", 3))
            assert asyncio.run(relay_batch(platform, settings)) == 3
            assert relay_position(db) == 9
        # batch 3, then batch 2 and the absorb again, then batch 3 again
        found = asyncio.run(published(broker.bootstrap_servers, kafka.topic, 3))
        assert [m.kind for _, value in found for m in messages.unpack(value)].count("absorb") == 1
        assert [m.position for _, value in found for m in messages.unpack(value) if m.kind == "event"].count(5) == 1  # batch 2's events, published again once
        assert [m.position for _, value in found for m in messages.unpack(value) if m.kind == "event"].count(7) == 2  # batch 3's, before and after
        for message in found:  # one at a time, in topic order: a live worker sees batch 3 before the relay republishes
            assert apply(processor, [message]) == []
        assert partition_positions(db, kafka.topic) == [9] * PARTITIONS
        warehouse = Platform(settings).warehouse
        copies = warehouse.query(f"SELECT position, count() AS copies FROM `{warehouse.database}`.events GROUP BY position ORDER BY position")  # raw rows, no FINAL
        assert copies == [{"position": p, "copies": 1} for p in range(1, 10)]
        state = db.execute("SELECT state FROM scaleout_profiles WHERE customer_id = %s", (survivor,)).fetchone()[0]
        assert state_codec.decode(bytes(state))["by_event_type"] == {"page_viewed": 3}  # a's event (absorbed), s's, and the merging one
        assert db.execute("SELECT count(*) FROM scaleout_profiles WHERE customer_id = %s", (absorbed,)).fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM scaleout_absorbs").fetchone()[0] == 0  # the absorb was folded in
        assert db.execute("SELECT max(until) FROM scaleout_relay_batches").fetchone()[0] == 9  # applied batches forgotten but the last
        db.close()


def test_an_event_near_the_size_limit_passes_the_relay_and_a_worker(postgres: PostgresServer, clickhouse: ClickHouseServer, kafka: KafkaBroker, tmp_path: Path):
    env = environment(tmp_path / "data", fresh_database(postgres, "large"), clickhouse, kafka, f"large_{uuid.uuid4().hex[:12]}", batch_size=100)
    big = event("page_viewed", "2026-01-02", email="big@example.com", properties={"page_text": "x" * (1024 * 1024 - 4096)})  # just under the collector's 1 MiB
    with Platform(settings_from(env)) as platform:
        append(platform, [*visits("small", 3), big])
        warehouse = platform.warehouse
        processes = Processes(env, tmp_path)
        processes.start_relay()
        processes.start_worker(1)
        db = connect(settings_from(env).event_store.postgres)
        try:
            wait_until(lambda: partition_positions(db) == [4] * PARTITIONS, 180, processes, "every partition to apply the large event")
        finally:
            processes.stop()
            db.close()
        rows = warehouse.query(f"SELECT position, length(properties) > 1000000 AS large FROM `{warehouse.database}`.events FINAL ORDER BY position")
        assert rows == [{"position": p, "large": int(p == 4)} for p in (1, 2, 3, 4)]


def test_a_stored_event_too_large_for_any_message_is_quarantined_by_the_relay(
    postgres: PostgresServer, clickhouse: ClickHouseServer, kafka: KafkaBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    env = environment(tmp_path / "data", fresh_database(postgres, "huge"), clickhouse, kafka, f"huge_{uuid.uuid4().hex[:12]}", batch_size=100)
    settings = settings_from(env | {"CDP_KAFKA__TOPIC": f"huge-{uuid.uuid4().hex[:8]}"})  # the module's broker: a topic of its own
    # validation keeps events under 1 MiB, far below a message's 16 MiB: a lower limit stands for an event stored larger
    monkeypatch.setattr(messages, "MAX_EVENT_BYTES", 256 * 1024)
    huge = event("page_viewed", "2026-01-02", email="huge@example.com", properties={"page_text": "x" * (512 * 1024)})
    with Platform(settings) as platform:
        append(platform, [*visits("before", 1), huge, *visits("after", 1)])
        assert asyncio.run(relay_batch(platform, settings)) == 3
    db = connect(settings.event_store.postgres)
    try:
        [kept] = quarantined(db)
        assert kept.position == 2 and kept.error.startswith("relay: ")  # sealed: its message names the sizes
    finally:
        db.close()
    found = asyncio.run(published(kafka.bootstrap_servers, settings.kafka.topic, 1))
    assert sorted(m.position for _, value in found for m in messages.unpack(value) if m.kind == "event") == [1, 3]
