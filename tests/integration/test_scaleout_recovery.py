"""A worker killed between writing a batch's rows to ClickHouse and committing it (real PostgreSQL
state, real ClickHouse server): the batch's second processing, with other batch boundaries, leaves
the warehouse as a run that was never killed."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cdp.config import PostgresSettings, Settings, WarehouseSettings
from cdp.privacy.keystore import KeyStore
from cdp.privacy.sealing import Sealer
from cdp.scaleout import messages
from cdp.scaleout.state import PartitionState, connect
from cdp.scaleout.worker import PartitionProcessor
from cdp.warehouse import Warehouse
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.migrations import migrate
from ingestion.validation import validate
from projections.pipeline import Pipeline
from projections.tables import WAREHOUSE_TABLES
from schemas import ENVELOPE_ADAPTER
from tests.crash import Killed, killed
from tests.events import order
from tests.integration.scaleout_harness import fresh_database, relayed, table_rows
from tests.services.clickhouse import ClickHouseServer
from tests.services.postgres import PostgresServer


def ms(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)


def purchase(position: int, customer: str, day: str, watermark: str) -> messages.Message:
    envelope = ENVELOPE_ADAPTER.dump_json(validate(order(day, 40.0, f"o{position}", email=f"{customer}@example.com"), datetime.now(UTC)))
    [message] = relayed(0, ms(watermark), [messages.event(position, 0, customer, envelope)])
    return message


def tick(position: int, watermark: str) -> messages.Message:
    [message] = messages.unpack(messages.tick(0, position, ms(watermark)))
    return message


@dataclass
class Deployment:
    """A PostgreSQL and a warehouse database of their own; ``worker()`` starts a worker on them (a
    processor on fresh PostgreSQL connections, as a new process would)."""

    warehouse: Warehouse
    worker: Callable[[], PartitionProcessor]


@pytest.fixture
def deployments(postgres: PostgresServer, clickhouse: ClickHouseServer, tmp_path: Path) -> Iterator[Callable[[], Deployment]]:
    keys = KeyStore(tmp_path / "keys.sqlite", b"test master key")
    opened: list = []

    def deployment() -> Deployment:
        server = fresh_database(postgres, "recovery")  # the workers' state of one deployment
        pg = PostgresSettings(host=server.host, port=server.port, dbname=server.dbname, user=server.user, password=server.password)
        settings = WarehouseSettings(backend="clickhouse", host=clickhouse.host, port=clickhouse.port, database=f"t_{uuid.uuid4().hex[:12]}")
        warehouse = open_warehouse(Settings(data_dir=tmp_path, warehouse=settings))
        migrate(warehouse)
        opened.append(warehouse)

        def worker() -> PartitionProcessor:
            db, journal = connect(pg), connect(pg)
            opened.extend([db, journal])
            return PartitionProcessor(PartitionState(db, journal, "touchpoints"), warehouse, Pipeline(Settings()), Sealer(keys, Settings().identity))

        return Deployment(warehouse, worker)

    yield deployment
    for resource in opened:
        resource.close()


def run(worker: PartitionProcessor, batch: list[messages.Message]) -> None:
    worker.commit(worker.plan({0: batch}))


def run_and_die_before_commit(worker: PartitionProcessor, batch: list[messages.Message], monkeypatch: pytest.MonkeyPatch) -> None:
    planned = worker.plan({0: batch})
    monkeypatch.setattr(worker._state, "save", killed)  # after the warehouse insert, before the PostgreSQL commit
    with pytest.raises(Killed):
        worker.commit(planned)


def every_table(warehouse: Warehouse) -> dict[str, list[tuple]]:
    return {t.name: table_rows(warehouse, t.name) for t in WAREHOUSE_TABLES}


S = str(uuid.uuid4())
FIRST = [purchase(1, S, "2025-12-01", watermark="2025-12-01")]
JUNE = tick(2, "2026-06-01")
LATE_PURCHASE = purchase(3, S, "2026-02-01", watermark="2026-06-01")  # an order of February, relayed in June


@pytest.mark.parametrize(
    ("killed_batch", "later_batches"),
    [
        # as of June, S (one purchase, in December) is at risk, then churned; processed again with a
        # late purchase of February it is neither: the killed batch's transitions must go
        ([JUNE], [[JUNE, LATE_PURCHASE]]),
        # processed again in two batches: the first does not reach the killed batch's version, so
        # setting right waits for the second
        ([JUNE, LATE_PURCHASE], [[JUNE], [LATE_PURCHASE]]),
    ],
    ids=["history-computed-differently", "reprocessed-in-smaller-batches"],
)
def test_a_batch_written_but_never_committed_leaves_nothing_behind(deployments: Callable[[], Deployment], monkeypatch: pytest.MonkeyPatch, killed_batch, later_batches):
    never_killed = deployments()
    worker = never_killed.worker()
    for batch in [FIRST, *later_batches]:
        run(worker, batch)
    expected = every_table(never_killed.warehouse)

    killed = deployments()
    worker = killed.worker()
    run(worker, FIRST)
    run_and_die_before_commit(worker, killed_batch, monkeypatch)
    worker = killed.worker()
    [(_, version, customers)] = worker._state.unconfirmed(0)
    assert (version, customers) == (killed_batch[-1].position, [S])
    for batch in later_batches:
        run(worker, batch)
    recovered = every_table(killed.warehouse)
    differing = {table: {"recovered": rows, "never killed": expected[table]} for table, rows in recovered.items() if rows != expected[table]}
    assert not differing
    assert worker._state.unconfirmed(0) == []


def test_the_recovery_is_needed(deployments: Callable[[], Deployment], monkeypatch: pytest.MonkeyPatch):
    """The first case's killed batch leaves transitions and tag changes a never-killed run does not have."""
    never_killed = deployments()
    worker = never_killed.worker()
    run(worker, FIRST)
    run(worker, [JUNE, LATE_PURCHASE])
    killed = deployments()
    worker = killed.worker()
    run(worker, FIRST)
    run_and_die_before_commit(worker, [JUNE], monkeypatch)
    for table in ("lifecycle_transitions", "tag_changes"):
        left, expected = table_rows(killed.warehouse, table), table_rows(never_killed.warehouse, table)
        assert set(left) - set(expected), f"{table}: the killed batch left no row to set right"
