"""The scale-out deployment against what a real broker does on a first start (issue 24), on Tansu:
a topic made with another partition count is refused; a broker restarted empty while the relay
runs is detected by the relay and by the workers, which stop rather than skip what was lost; an
event near the collector's size limit passes the relay and a worker."""

import asyncio
import uuid
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.scaleout import messages
from cdp.scaleout.relay import Relay, ensure_topic, producer, wait_for_partitions
from cdp.scaleout.state import RelayState, connect
from cdp.scaleout.worker import open_processor
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


def test_a_broker_restarted_empty_is_detected_by_the_relay_and_the_workers(postgres: PostgresServer, clickhouse: ClickHouseServer, tmp_path: Path):
    port = free_port()
    with kafka_broker(port=port) as broker:
        env = environment(tmp_path / "data", fresh_database(postgres, "lost"), clickhouse, broker, f"lost_{uuid.uuid4().hex[:12]}", batch_size=10)
        settings = settings_from(env)
        kafka = settings.kafka

        async def relay_batch(platform: Platform) -> int:
            await ensure_topic(kafka)
            client = producer(kafka)
            await client.start()
            try:
                await wait_for_partitions(client, kafka.topic)
                relay = Relay(platform.events.store, platform.events.sealer, RelayState(connect(settings.event_store.postgres)), platform.warehouse, settings.identity, 10, client, kafka.topic)
                return await relay.run_batch()
            finally:
                await client.stop()

        with Platform(settings) as platform:
            append(platform, visits("first", 10))
            assert asyncio.run(relay_batch(platform)) == 10
            # the workers apply the first batch: every partition reaches its tick
            processor = open_processor(settings, kafka.topic)
            first = asyncio.run(published(broker.bootstrap_servers, kafka.topic, 10 + PARTITIONS))
            by_partition: dict[int, list[messages.Message]] = {}
            for partition, value in first:
                by_partition.setdefault(partition, []).append(messages.decode(value))
            processor.commit(processor.plan(by_partition))
            db = connect(settings.event_store.postgres)
            assert partition_positions(db, kafka.topic) == [10] * PARTITIONS

            append(platform, visits("lost", 10))
            assert asyncio.run(relay_batch(platform)) == 10  # published, then lost with the broker: never applied
    with kafka_broker(port=port) as broker:  # the same address, empty, as a Kafka container recreated without its volume
        with Platform(settings) as platform:
            append(platform, visits("after", 10))
            with pytest.raises(CdpError, match=rf"the Kafka broker lost messages it had acknowledged on topic {kafka.topic} .* Stopped"):
                asyncio.run(relay_batch(platform))
        assert relay_position(db) == 20  # the position does not move past what was lost
        # what the relay published on the empty broker before it stopped starts after position 20, which no partition reached
        after = asyncio.run(published(broker.bootstrap_servers, kafka.topic, 10 + PARTITIONS))
        batch = {partition: [messages.decode(value) for p, value in after if p == partition] for partition, _ in after}
        with pytest.raises(CdpError, match=r"partition \d+: the relay's messages after position 10 up to 20 are missing from the topic"):
            processor.plan(batch)
        assert partition_positions(db, kafka.topic) == [10] * PARTITIONS
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
