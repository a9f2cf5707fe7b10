"""The relay on real engines: only one runs on an event store (identity resolution needs the log's
total order), and one killed after publishing a batch but before committing it publishes exactly
that batch again, whatever was appended meanwhile."""

import asyncio
import threading
import uuid
from collections import Counter
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from cdp.config import PostgresSettings
from cdp.platform import Platform
from cdp.scaleout import messages
from cdp.scaleout.relay import Relay, ensure_topic, producer, wait_for_partitions
from cdp.scaleout.state import Published, RelayState, connect
from projections.identity import CustomerIdentity, IdentityGraph, Resolution
from tests.crash import Killed, killed
from tests.events import event
from tests.integration.scaleout_harness import append, environment, fresh_database, settings_from
from tests.services.clickhouse import ClickHouseServer
from tests.services.kafka import KafkaBroker
from tests.services.postgres import PostgresServer
from tests.waiting import wait_until


def test_a_second_relay_is_refused_until_the_first_is_gone(postgres: PostgresServer):
    settings = PostgresSettings(host=postgres.host, port=postgres.port, dbname=postgres.dbname, user=postgres.user, password=postgres.password)
    first = connect(settings)
    assert RelayState(first).claim()
    second = connect(settings)
    assert not RelayState(second).claim()
    backend = first.info.backend_pid
    first.close()  # a relay that dies (even SIGKILLed) drops its connection, and the lock with it
    # the server releases it as the session's backend exits, just after the disconnect
    wait_until(lambda: second.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s", (backend,)).fetchone()[0] == 0, seconds=30)
    second.commit()
    assert RelayState(second).claim()
    second.close()


def test_the_identity_graph_is_stored_and_loaded_back_as_resolved(postgres: PostgresServer):
    """The identity commit and load pass their rows as JSON (``cdp.scaleout.state._json``): identifiers with quotes,
    backslashes and other scripts come back as they were, each customer's keys stored as ``orjson.dumps`` wrote them."""
    db = connect(PostgresSettings(**fresh_database(postgres, "identity").__dict__))
    state = RelayState(db)
    keys = sorted(["email:李@例子.中国", 'social:wechat:"quoted"\\back', "user_id:\u2028x"])
    graph = IdentityGraph(dict.fromkeys(keys, "c1"), {"c1": CustomerIdentity(7, keys)})
    resolution = Resolution({1: "c1"}, [], {key: ("c1", 1) for key in keys}, {"c1"}, set())
    state.commit(graph, resolution, Published(0, 1, 5, {1: "c1"}, []), [], "topic", {0: 1}, 1)
    assert db.execute("SELECT keys, created_at_position FROM scaleout_identity_customers").fetchone() == (orjson.dumps(keys), 7)
    loaded = state.load_identity([*keys, "email:someone@else.cn"])
    assert loaded.index == dict.fromkeys(keys, "c1") and loaded.customers == {"c1": CustomerIdentity(7, keys)}
    db.close()


def visits(days: list[str]) -> list[dict]:
    return [event("page_viewed", day, email=f"v{i}@example.com") for i, day in enumerate(days)]


async def published(bootstrap_servers: str, topic: str, batches: int) -> list[tuple[int, bytes]]:
    """The messages on the topic as ``(partition, value)``, every partition from its start to the
    tick ending the ``batches``-th relay batch published on it, in topic order per partition (the
    broker's end offsets are not relied on: Tansu's "latest" can be one short)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        found: list[tuple[int, bytes]] = []
        ticks: Counter = Counter()
        async with asyncio.timeout(60):
            while not ticks or len(ticks) < len(consumer.partitions_for_topic(topic) or ()) or min(ticks.values()) < batches:
                for part, records in (await consumer.getmany(timeout_ms=1000)).items():
                    for record in records:
                        if ticks[part.partition] < batches:
                            found.append((part.partition, record.value))
                            ticks[part.partition] += messages.unpack(record.value)[-1].kind == "tick"
        return found
    finally:
        await consumer.stop()


def test_a_relay_killed_before_its_commit_publishes_the_same_batch_again(
    postgres: PostgresServer, clickhouse: ClickHouseServer, kafka: KafkaBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    env = environment(tmp_path / "data", fresh_database(postgres, "relay"), clickhouse, kafka, f"relay_{uuid.uuid4().hex[:12]}", batch_size=100)
    settings = settings_from(env)
    topic = f"relay-{uuid.uuid4().hex[:8]}"
    kafka_settings = settings.kafka.model_copy(update={"topic": topic})

    async def relay_batch(platform: Platform) -> int:
        client = producer(kafka_settings)
        await client.start()
        try:
            await wait_for_partitions(client, topic)
            state = RelayState(connect(settings.event_store.postgres))
            relay = Relay(platform.events.store, platform.events.sealer, state, platform.warehouse, settings.identity, settings.batch_size, client, topic)
            return await relay.run_batch()
        finally:
            await client.stop()

    with Platform(settings) as platform:
        asyncio.run(ensure_topic(kafka_settings))
        append(platform, visits(["2026-01-01", "2026-01-02", "2026-01-03"]))
        with monkeypatch.context() as patch:
            patch.setattr(RelayState, "commit", killed)  # after the messages are acknowledged, before the PostgreSQL commit
            with pytest.raises(Killed):
                asyncio.run(relay_batch(platform))
        append(platform, visits(["2026-03-01", "2026-03-02"]))  # a later watermark, had they joined the batch
        assert asyncio.run(relay_batch(platform)) == 3
        assert asyncio.run(relay_batch(platform)) == 2
        assert asyncio.run(relay_batch(platform)) == 0

    counts = Counter(asyncio.run(published(kafka.bootstrap_servers, topic, 3)))
    first = {message for message in counts if max(m.position for m in messages.unpack(message[1])) <= 3}
    # the first batch's chunks and ticks were published twice, identically (the workers drop the repeat by position)
    assert {counts[message] for message in first} == {2} and {counts[message] for message in counts.keys() - first} == {1}
    events = Counter(m.position for (_, value), n in counts.items() for m in messages.unpack(value) for _ in range(n) if m.kind == "event")
    assert events == {1: 2, 2: 2, 3: 2, 4: 1, 5: 1}
    ticks = Counter(m.position for (_, value), n in counts.items() for m in messages.unpack(value) for _ in range(n) if m.kind == "tick")
    assert ticks == {3: 2 * kafka_settings.partitions, 5: kafka_settings.partitions}


def test_the_next_batch_read_while_one_is_published_loses_and_repeats_nothing(
    postgres: PostgresServer, clickhouse: ClickHouseServer, kafka: KafkaBroker, tmp_path: Path
):
    """The relay reads the next batch while it publishes one (``Relay._read``). Events appended after
    that early read are relayed by the batch after it; an early read that failed, or saw nothing, is
    read again. Every event goes out once, in log order."""
    env = environment(tmp_path / "data", fresh_database(postgres, "ahead"), clickhouse, kafka, f"ahead_{uuid.uuid4().hex[:12]}", batch_size=2)
    settings = settings_from(env)
    topic = f"ahead-{uuid.uuid4().hex[:8]}"
    kafka_settings = settings.kafka.model_copy(update={"topic": topic})
    reads: list[tuple[int, int]] = []  # (after, events read)
    read_after: dict[int, threading.Event] = {}

    with Platform(settings) as platform:
        store = platform.events.store
        real_read = store.read

        def read(after: int, limit: int, until: int | None = None):
            try:
                if after == 5 and not any(a == 5 for a, _ in reads):
                    reads.append((5, -1))
                    raise OSError("the connection was lost")  # the first read after 5: the early one
                found = real_read(after, limit, until)
                reads.append((after, len(found)))
                return found
            finally:
                read_after.setdefault(after, threading.Event()).set()

        store.read = read

        async def relay_with_appends() -> list[int]:
            client = producer(kafka_settings)
            await client.start()
            try:
                await wait_for_partitions(client, topic)
                relay = Relay(store, platform.events.sealer, RelayState(connect(settings.event_store.postgres)), platform.warehouse, settings.identity, settings.batch_size, client, topic)
                sizes = [await relay.run_batch()]  # 1-2, and 3 read early
                await asyncio.to_thread(read_after.setdefault(2, threading.Event()).wait, 10)
                append(platform, visits(["2026-02-01", "2026-02-02"]))  # 4-5: after the early read
                sizes += [await relay.run_batch(), await relay.run_batch()]  # 3 as read early; then 4-5, and the early read fails
                await asyncio.to_thread(read_after.setdefault(5, threading.Event()).wait, 10)
                append(platform, visits(["2026-03-01"]))  # 6: read again; then the early read sees nothing, and is done again
                sizes += [await relay.run_batch(), await relay.run_batch()]
                return sizes
            finally:
                await client.stop()

        asyncio.run(ensure_topic(kafka_settings))
        append(platform, visits(["2026-01-01", "2026-01-02", "2026-01-03"]))
        assert asyncio.run(relay_with_appends()) == [2, 1, 2, 1, 0]
    assert reads.count((2, 1)) == 1 and reads.count((5, -1)) == 1 and reads.count((5, 1)) == 1 and reads.count((6, 0)) == 2

    found = asyncio.run(published(kafka.bootstrap_servers, topic, 4))
    events = [(partition, m.position) for partition, value in found for m in messages.unpack(value) if m.kind == "event"]
    assert sorted(position for _, position in events) == [1, 2, 3, 4, 5, 6]
    for partition in {p for p, _ in events}:
        positions = [position for p, position in events if p == partition]
        assert positions == sorted(positions)
