"""The scale-out relay and workers go on past an event they cannot open (a worker: or project): the
relay quarantines it and does not publish it, a worker skips it; both record it in PostgreSQL with
the batch."""

import asyncio
import uuid
from pathlib import Path
from types import SimpleNamespace

import orjson
import pytest

from cdp.platform import Platform
from cdp.privacy.keystore import KeyStore, master_key
from cdp.privacy.sealed_errors import opened
from cdp.privacy.sealing import Sealer
from cdp.scaleout import messages
from cdp.scaleout import relay as relay_module
from cdp.scaleout.relay import Relay, ensure_topic, producer, wait_for_partitions
from cdp.scaleout.state import PartitionState, RelayState, connect, quarantined
from cdp.scaleout.worker import PartitionProcessor
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.migrations import migrate
from projections.identity import resolve_batch
from projections.pipeline import Pipeline
from tests.cli import cdp
from tests.integration.scaleout_harness import environment, fresh_database, relayed, settings_from
from tests.integration.test_quarantine import good, store_tampered
from tests.integration.test_scaleout_relay import published
from tests.services.clickhouse import ClickHouseServer
from tests.services.kafka import KafkaBroker
from tests.services.postgres import PostgresServer


def test_the_relay_quarantines_events_it_cannot_open_or_resolve_and_publishes_the_others(
    postgres: PostgresServer, clickhouse: ClickHouseServer, kafka: KafkaBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    env = environment(tmp_path / "data", fresh_database(postgres, "quarantine"), clickhouse, kafka, f"quarantine_{uuid.uuid4().hex[:12]}", batch_size=100)
    settings = settings_from(env)
    kafka_settings = settings.kafka.model_copy(update={"topic": f"quarantine-{uuid.uuid4().hex[:8]}"})

    async def relay_batch(platform: Platform) -> int:
        client = producer(kafka_settings)
        await client.start()
        try:
            await wait_for_partitions(client, kafka_settings.topic)
            state = RelayState(connect(settings.event_store.postgres))
            relay = Relay(platform.events.store, platform.events.sealer, state, platform.warehouse, settings.identity, settings.batch_size, client, kafka_settings.topic)
            return await relay.run_batch()
        finally:
            await client.stop()

    with Platform(settings) as platform:
        asyncio.run(ensure_topic(kafka_settings))
        platform.append([good(1)])
        store_tampered(platform)
        platform.append([good(2), good(3)])

        def resolve_failing_on_good_3(load_identity, touchpoints, rules):  # an identity bug hit by one event
            if any(tp.event["message_id"] == "good-3" for tp in touchpoints):
                raise ValueError("bad identifier c3@example.com")  # quoting a personal value: kept sealed
            return resolve_batch(load_identity, touchpoints, rules)

        monkeypatch.setattr(relay_module, "resolve_batch", resolve_failing_on_good_3)
        assert asyncio.run(relay_batch(platform)) == 4
        db = connect(settings.event_store.postgres)
        assert RelayState(db).tracked()[0] == 4
        kept = [(2, "relay: InvalidTag: "), (4, "relay: ValueError: bad identifier c3@example.com")]
        assert [(q.position, q.error) for q in opened(platform.events.sealer, quarantined(db))] == kept
        assert not any("c3@example.com" in q.error for q in quarantined(db))
        db.close()
    listed = cdp("quarantine", "list", "--format", "json", data_dir=tmp_path / "data", env=env)
    assert [(q["position"], q["error"]) for q in orjson.loads(listed.stdout)] == kept, listed.stderr
    lag = cdp("lag", data_dir=tmp_path / "data", env=env)
    assert "2 events quarantined, skipped (cdp quarantine list)" in " ".join(lag.stdout.decode().split()), lag.stderr
    sent = [m for _, value in asyncio.run(published(kafka.bootstrap_servers, kafka_settings.topic, 1)) for m in messages.unpack(value)]
    assert sorted(m.position for m in sent if m.kind == "event") == [1, 3]


def test_a_worker_skips_events_it_cannot_open_or_project_and_processes_the_rest(postgres: PostgresServer, clickhouse: ClickHouseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    database = f"quarantine_{uuid.uuid4().hex[:12]}"
    settings = settings_from(environment(tmp_path / "data", fresh_database(postgres, "quarantine"), clickhouse, SimpleNamespace(bootstrap_servers="127.0.0.1:9"), database, batch_size=100))
    with Platform(settings) as platform:
        platform.append([good(1)])
        store_tampered(platform)
        platform.append([good(n) for n in range(2, 8)])
        stored = platform.events.store.read(0, 10)
    watermark = 1767268800000
    batch = relayed(0, watermark, [messages.event(n.id, 0, f"customer-{n.id}", n.state) for n in stored]) + messages.unpack(messages.tick(0, 8, watermark))
    warehouse = open_warehouse(settings)
    migrate(warehouse)
    postgres_settings = settings.event_store.postgres
    pipeline = Pipeline(settings)
    update = pipeline.update

    def update_failing_on_good_5(state, touchpoints, *args):  # a projection bug hit by one event
        if any(tp.event["message_id"] == "good-5" for tp in touchpoints):
            raise ValueError("bad amount from c5@example.com")  # quoting a personal value: kept sealed
        return update(state, touchpoints, *args)

    monkeypatch.setattr(pipeline, "update", update_failing_on_good_5)
    sealer = Sealer(KeyStore(settings.key_store_path, master_key(settings)), settings.identity)
    processor = PartitionProcessor(PartitionState(connect(postgres_settings), connect(postgres_settings), "touchpoints"), warehouse, pipeline, sealer)
    processor.commit(processor.plan({0: batch}))
    db = connect(postgres_settings)
    assert [(q.position, q.error) for q in opened(sealer, quarantined(db))] == [(2, "worker: InvalidTag: "), (6, "worker: ValueError: bad amount from c5@example.com")]
    assert not any("c5@example.com" in q.error for q in quarantined(db))
    assert db.execute("SELECT position FROM scaleout_partitions WHERE partition = 0").fetchone()[0] == 8
    db.close()
    kept = [r["message_id"] for r in warehouse.query(f"SELECT message_id FROM `{database}`.events FINAL ORDER BY message_id")]
    assert kept == ["good-1", "good-2", "good-3", "good-4", "good-6", "good-7"]
    warehouse.close()
