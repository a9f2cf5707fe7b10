"""The worker's partition processing on real PostgreSQL state: redelivered messages are skipped by
position, also when a worker restarts between the chunks of a relay batch; an absorb counts once
however often it arrives, and an absorb for a survivor merged away meanwhile is forwarded along
the chain; a merge_out folds in the absorbed customer's events alone, the others' once, at the
batch's end."""

from collections import defaultdict
from datetime import UTC, datetime

import uuid

import orjson
import pytest

from cdp.config import PostgresSettings, Settings
from cdp.privacy.keystore import KeyStore
from cdp.privacy.sealing import Sealer
from cdp.scaleout import messages
from cdp.scaleout.state import PartitionState, connect
from cdp.scaleout.worker import PartitionProcessor, Planned
from ingestion.validation import validate
from projections.pipeline import Pipeline
from schemas import ENVELOPE_ADAPTER
from tests.events import order
from tests.integration.scaleout_harness import relayed
from tests.services.postgres import PostgresServer

WATERMARK = 1_767_225_600_000  # 2026-01-01


class Rows:
    """A warehouse that keeps what it was given."""

    database = "test"

    def __init__(self):
        self.rows: dict[str, list[dict]] = defaultdict(list)

    def insert(self, table: str, rows: list[dict]) -> None:
        self.rows[table].extend(rows)

    def insert_tables(self, rows: dict[str, list[dict]]) -> None:
        for table, table_rows in rows.items():
            self.insert(table, table_rows)


@pytest.fixture
def processor(postgres: PostgresServer, tmp_path) -> PartitionProcessor:
    settings = PostgresSettings(host=postgres.host, port=postgres.port, dbname=postgres.dbname, user=postgres.user, password=postgres.password)
    topic = f"t{uuid.uuid4().hex}"  # partitions of a topic of their own
    sealer = Sealer(KeyStore(tmp_path / "keys.sqlite", b"test master key"), Settings().identity)
    return PartitionProcessor(PartitionState(connect(settings), connect(settings), topic), Rows(), Pipeline(Settings()), sealer)


def purchase(position: int, customer: str, amount: float) -> messages.Message:
    envelope = ENVELOPE_ADAPTER.dump_json(validate(order("2025-12-01", amount, f"o{position}", email=f"{customer}@example.com"), datetime.now(UTC)))
    [message] = relayed(0, WATERMARK, [messages.event(position, 0, customer, envelope)])
    return message


def purchase_item(position: int, sub: int, customer: str, amount: float) -> messages.Item:
    return messages.event(position, sub, customer, orjson.dumps(purchase(position, customer, amount).body["event"]))


def new_id() -> str:
    return str(uuid.uuid4())


def run(processor: PartitionProcessor, batches: dict[int, list[messages.Message]]) -> list[Planned]:
    planned = processor.plan(batches)
    if planned:
        processor.commit(planned)
    return planned


def revenue(processor: PartitionProcessor, customer: str) -> float:
    rows = [r for r in processor._warehouse.rows["profiles"] if r["customer_id"] == customer]
    return rows[-1]["revenue"] if not rows[-1]["is_deleted"] else -1


def test_redelivered_relay_messages_are_skipped(processor: PartitionProcessor):
    a = new_id()
    run(processor, {0: [purchase(1, a, 10), purchase(2, a, 5)]})
    assert run(processor, {0: [purchase(1, a, 10), purchase(2, a, 5)]}) == []  # all at or before the tracked position
    run(processor, {0: [purchase(2, a, 5), purchase(3, a, 1)]})
    assert revenue(processor, a) == 16


def test_an_absorb_counts_once_and_follows_a_chain(processor: PartitionProcessor):
    a, s, t = new_id(), new_id(), new_id()
    run(processor, {0: [purchase(1, a, 10)], 1: [purchase(2, s, 100)], 2: [purchase(3, t, 1000)]})
    # a merged into s: a's partition retires it and sends its state to s
    [planned] = run(processor, {0: relayed(0, WATERMARK, [messages.merge_out(4, 0, a, s)])})
    [(gone, key, absorb_a)] = planned.outgoing
    assert (gone, key) == (a, s) and revenue(processor, a) == -1
    run(processor, {1: messages.unpack(absorb_a)})
    run(processor, {1: messages.unpack(absorb_a)})  # redelivered
    assert revenue(processor, s) == 110
    # s merged into t; an old copy of a's absorb reaches s afterwards: forwarded to t, where it is known
    [planned] = run(processor, {1: relayed(0, WATERMARK, [messages.merge_out(5, 0, s, t)])})
    [(gone, key, absorb_s)] = planned.outgoing
    assert (gone, key) == (s, t) and orjson.loads(absorb_s)["absorbed_ids"] == [a]
    [planned] = run(processor, {1: messages.unpack(absorb_a)})
    [(gone, key, forwarded)] = planned.outgoing
    assert (gone, key) == (a, t) and orjson.loads(forwarded)["survivor"] == t
    run(processor, {2: messages.unpack(absorb_s)})
    run(processor, {2: messages.unpack(forwarded)})
    assert revenue(processor, t) == 1110


def test_a_worker_restarted_between_the_chunks_of_a_relay_batch_applies_each_event_once(processor: PartitionProcessor, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch):
    a = new_id()
    monkeypatch.setattr(messages, "CHUNK_ITEMS", 2)
    items = [messages.event(p.position, p.sub, a, orjson.dumps(p.body["event"])) for p in (purchase(n, a, amount) for n, amount in enumerate([1, 2, 4, 8, 16], start=1))]
    chunks = [*messages.chunks(0, WATERMARK, items), messages.tick(0, 5, WATERMARK)]
    assert [[m.position for m in messages.unpack(chunk)] for chunk in chunks] == [[1, 2], [3, 4], [5], [5]]
    run(processor, {0: messages.unpack(chunks[0])})  # the first chunk's batch commits; the worker dies
    topic, pg = processor._state.topic, PostgresSettings(host=postgres.host, port=postgres.port, dbname=postgres.dbname, user=postgres.user, password=postgres.password)
    with connect(pg) as db:
        assert db.execute("SELECT position, sub FROM scaleout_partitions WHERE topic = %s", (topic,)).fetchone() == (2, 0)  # the chunk's last item
    restarted = PartitionProcessor(PartitionState(connect(pg), connect(pg), topic), processor._warehouse, Pipeline(Settings()), processor._sealer)  # fresh connections, as a new process
    [planned] = run(restarted, {0: [m for chunk in chunks for m in messages.unpack(chunk)]})  # Kafka delivers from the last acknowledged offset: the first chunk again
    assert planned.tracked == (5, messages.TICK_SUB)
    assert revenue(processor, a) == 31  # 1 + 2 + 4 + 8 + 16: each once
    assert run(restarted, {0: messages.unpack(chunks[1])}) == []  # a chunk redelivered later: skipped whole


def test_a_merge_out_folds_in_the_absorbed_customers_events_alone_and_the_others_once(processor: PartitionProcessor):
    a, b, s = new_id(), new_id(), new_id()
    run(processor, {1: [purchase(1, s, 100)]})
    # b buys on both sides of a's merge into s (caused by the event at position 4, assigned to s)
    items = [purchase_item(2, 0, b, 1), purchase_item(3, 0, a, 10), messages.merge_out(4, 0, a, s), purchase_item(4, 1, s, 1000), purchase_item(5, 0, b, 2)]
    [planned] = run(processor, {0: relayed(0, WATERMARK, items)})
    assert [r["revenue"] for r in processor._warehouse.rows["profiles"] if r["customer_id"] == b] == [3]  # projected once, with both purchases
    [(gone, key, absorb_a)] = planned.outgoing
    assert (gone, key) == (a, s)
    run(processor, {1: messages.unpack(absorb_a)})
    assert revenue(processor, s) == 1110  # a's purchase, folded in before it left, travelled with its state
