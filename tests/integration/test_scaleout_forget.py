"""Forgetting a customer on the scale-out deployment (issues #8 + #9), on real engines.

PostgreSQL event store and runner state, the Tansu broker, a ClickHouse server; ``cdp relay`` and
one ``cdp worker`` as OS processes. A small workload and one person (two customers merged) are projected, then
``cdp forget`` runs while the relay and the worker keep following the log. Afterwards no file
under the data directory, no row of PostgreSQL, no message on the Kafka topic (read from the
beginning: events and the absorbed state) and no warehouse row holds the person's email, phone or name; the counts stay, and the
profile shows erased once the worker has processed the erasure event.
"""

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from cdp.platform import Platform
from cdp.scaleout import messages
from cdp.scaleout.state import connect
from cdp.workload import generate_events
from tests.cli import cdp
from tests.e2e import test_forget as embedded
from tests.integration.scaleout_harness import PARTITIONS, Processes, append, environment, fresh_database, settings_from, wait_for_quiet
from tests.services.clickhouse import ClickHouseServer
from tests.services.kafka import KafkaBroker
from tests.services.postgres import PostgresServer

EMAIL, PHONE = embedded.EMAIL, embedded.PHONE
PERSON = embedded.person_events()  # two customers (one by a WeChat handle), merged by the last event
NEEDLES = [*embedded.needles(), b"zq_wx"]  # the handle is all the merged-away customer's profile names
COUNTS = ("orders", "revenue", "events_total", "events_sales", "first_seen", "last_seen")


@pytest.fixture(scope="module")
def forgotten(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer, clickhouse: ClickHouseServer, kafka: KafkaBroker) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("scaleout_forget")
    server = fresh_database(postgres, "forget")
    env = environment(root / "data", server, clickhouse, kafka, f"forget_{uuid.uuid4().hex[:8]}", batch_size=500)
    settings = settings_from(env)
    processes = Processes(env, root)
    with Platform(settings) as platform:
        workload = list(generate_events(1500, seed=7))
        # the WeChat customer's last event and the merging one in different relay batches, so the merge sends an absorb
        assert append(platform, [*workload[:1000], *PERSON[:-1], *workload[1000:], PERSON[-1]]) == 1500 + len(PERSON)
        last = platform.events.last_position()
        warehouse = platform.warehouse
        db = connect(settings.event_store.postgres)
        try:
            processes.start_worker(1)
            processes.start_relay()
            wait_for_quiet(db, warehouse, last, processes, timeout=180, quiet_seconds=2)
            before = {"profile": profile(EMAIL, env), "postgres": postgres_holding(db), "kafka": topic_holding(kafka, settings.kafka.topic)}
            result = cdp("forget", EMAIL, "--json", data_dir=root / "data", env=env)
            assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
            receipts = orjson.loads(result.stdout)
            wait_for_quiet(db, warehouse, platform.events.last_position(), processes, timeout=120, quiet_seconds=2)
        finally:
            processes.stop()
        yield {
            "env": env,
            "data": root / "data",
            "before": before,
            "receipts": receipts,
            "postgres": postgres_holding(db),
            "kafka": topic_holding(kafka, settings.kafka.topic),
            "warehouse": embedded.warehouse_holding(warehouse),
        }
        db.close()


def profile(identifier: str, env: dict) -> dict:
    result = cdp("profile", identifier, "--json", data_dir=Path(env["CDP_DATA_DIR"]), env=env)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    return orjson.loads(result.stdout)


def hits(text: bytes) -> list[str]:
    return [n.decode(errors="replace") for n in NEEDLES if n in text]


def postgres_holding(db: psycopg.Connection) -> dict[str, list[str]]:
    """Every table of the database (event store and scale-out state) whose rows hold one of the person's values."""
    found = {}
    tables = [t for (t,) in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    for table in tables:
        rows = db.execute(f'SELECT * FROM "{table}"')
        text = b"\n".join(orjson.dumps([v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in row]) for row in rows)
        if found_here := hits(text):
            found[table] = found_here
    db.commit()
    return found


def topic_holding(kafka: KafkaBroker, topic: str) -> tuple[list[str], Counter, set[str]]:
    """The person's values found in any message of the topic, consumed from the beginning of every
    partition; how many messages of each kind it holds; the customers whose state an absorb carried."""

    async def consume() -> tuple[list[str], Counter, set[str]]:
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            end = await consumer.end_offsets(partitions)
            found, kinds, absorbed = set(), Counter(), set()
            while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    for record in records:
                        for message in messages.unpack(record.value):
                            kinds[message.kind] += 1
                            absorbed.update([message.body["absorbed"]] if message.kind == "absorb" else [])
                        found.update(hits(record.value))
            return sorted(found), kinds, absorbed
        finally:
            await consumer.stop()

    return asyncio.run(consume())


def test_before_forgetting_the_person_is_in_postgres_and_never_in_clear_on_the_topic(forgotten: dict):
    before = forgotten["before"]
    assert before["profile"]["emails"] == [EMAIL]
    assert set(before["postgres"]) >= {"scaleout_identity_index", "scaleout_profiles"}  # the scan sees plaintext where it is
    found, kinds, absorbed = before["kafka"]
    assert kinds["event"] == 1500 + len(PERSON)
    assert set(forgotten["receipts"][0]["customers_merged_in"]) <= absorbed  # the person's merged-away state travelled
    assert found == []  # the relay publishes events sealed, the workers absorbed state with its personal part sealed


def test_forgetting_leaves_no_copy_in_postgres_kafka_the_warehouse_or_the_data_dir(forgotten: dict):
    assert forgotten["postgres"] == {}
    assert forgotten["kafka"][0] == []
    assert forgotten["warehouse"] == {}
    assert embedded.files_holding(forgotten["data"]) == {}


def test_the_profile_shows_erased_and_counts_stay(forgotten: dict):
    (receipt,) = forgotten["receipts"]
    before = forgotten["before"]["profile"]
    assert receipt["customer_id"] == before["customer_id"]
    assert receipt["identifiers_found"] == {"anonymous_id": 1, "email": 1, "phone": 1, "social": 1}
    assert receipt["state_store"]["identifiers_removed"] == 4
    after = profile(before["customer_id"], forgotten["env"])
    assert after["emails"] == [] and after["phones"] == [] and after["anonymous_ids"] == []
    assert orjson.loads(after["traits"]) == {"erased": True}  # the worker processed the erasure event
    assert after["user_ids"] == [receipt["erasure_event_identifier"].removeprefix("user_id:")]
    for count in COUNTS:
        assert after[count] == before[count], count
