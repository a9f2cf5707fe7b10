"""The warehouse contract on a real ClickHouse server (clickhouse-driver), and the server backend's own paths:
retries after a lost connection, deduplication of a retried insert, compression, an unreachable server."""

import uuid
from collections.abc import Callable

import pytest
from clickhouse_driver import Client
from clickhouse_driver.errors import NetworkError

from cdp.config import Settings, WarehouseSettings
from cdp.errors import WarehouseUnavailable
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.clickhouse_backend import ClickHouseWarehouse
from cdp.warehouse.migrations import migrate
from projections.tables import events
from tests.integration.wh_contract import WarehouseContract, event_row
from tests.services.clickhouse import ClickHouseServer


def server_settings(server: ClickHouseServer, **overrides) -> WarehouseSettings:
    return WarehouseSettings(backend="clickhouse", host=server.host, port=server.port, database=f"t_{uuid.uuid4().hex[:12]}", **overrides)


class TestClickHouseWarehouse(WarehouseContract):
    @pytest.fixture
    def reopen(self, clickhouse: ClickHouseServer, tmp_path) -> Callable[[], ClickHouseWarehouse]:
        settings = server_settings(clickhouse)
        return lambda: open_warehouse(Settings(data_dir=tmp_path, warehouse=settings))

    @pytest.fixture
    def warehouse(self, reopen: Callable[[], ClickHouseWarehouse]):
        w = reopen()
        yield w
        w.close()


class LosesAnswers:
    """A client whose next ``fail`` calls raise a network error, after (``landed``) or before the server ran them."""

    def __init__(self, client: Client, fail: int, landed: bool):
        self.client, self.fail, self.landed, self.calls = client, fail, landed, 0

    def execute(self, *args, **kwargs):
        self.calls += 1
        if self.fail:
            self.fail -= 1
            if self.landed:
                self.client.execute(*args, **kwargs)
            raise NetworkError("connection reset by peer")
        return self.client.execute(*args, **kwargs)

    def disconnect(self):
        self.client.disconnect()


@pytest.mark.parametrize("landed", [True, False], ids=["answer-lost", "request-lost"])
def test_a_retried_insert_is_stored_once(clickhouse: ClickHouseServer, landed: bool):
    database = f"t_{uuid.uuid4().hex[:12]}"
    setup = ClickHouseWarehouse(lambda: Client(clickhouse.host, port=clickhouse.port), database)
    migrate(setup)
    assert_retried_insert_stored_once(clickhouse, setup, landed)


def test_a_table_created_by_its_ddl_alone_deduplicates_a_retried_insert(clickhouse: ClickHouseServer):
    """The deduplication window is in ``Table.create_sql``: a new table has it without migration 10."""
    database = f"t_{uuid.uuid4().hex[:12]}"
    setup = ClickHouseWarehouse(lambda: Client(clickhouse.host, port=clickhouse.port), database)
    setup.execute(events.TABLE.create_sql(database))
    assert_retried_insert_stored_once(clickhouse, setup, landed=True)


def assert_retried_insert_stored_once(clickhouse: ClickHouseServer, setup: ClickHouseWarehouse, landed: bool) -> None:
    database = setup.database
    flaky = LosesAnswers(Client(clickhouse.host, port=clickhouse.port), fail=0, landed=landed)
    warehouse = ClickHouseWarehouse(lambda: flaky, database, retries=2, backoff_seconds=0)
    warehouse.insert("events", [event_row(9)])  # warm the column cache with a different batch
    flaky.fail = 1
    warehouse.insert("events", [event_row(1), event_row(2)])
    rows = setup.query(f"SELECT position, count() AS copies FROM `{database}`.events GROUP BY position ORDER BY position")  # no FINAL: raw copies
    assert rows == [{"position": 1, "copies": 1}, {"position": 2, "copies": 1}, {"position": 9, "copies": 1}]
    assert flaky.calls == 5  # create database, column look-up, insert 9, the failed insert and its retry


def test_an_unreachable_server_is_one_clear_error(tmp_path):
    settings = WarehouseSettings(backend="clickhouse", host="127.0.0.1", port=1, retries=1, connect_timeout_seconds=1)
    with pytest.raises(WarehouseUnavailable, match="unreachable after 2 attempts"):
        open_warehouse(Settings(data_dir=tmp_path, warehouse=settings))


@pytest.mark.parametrize("compression", ["lz4", "zstd", "none"])
def test_every_compression_setting_works(clickhouse: ClickHouseServer, tmp_path, compression: str):
    warehouse = open_warehouse(Settings(data_dir=tmp_path, warehouse=server_settings(clickhouse, compression=compression)))
    migrate(warehouse)
    warehouse.insert("events", [event_row(p) for p in range(1, 2001)])
    assert warehouse.query(f"SELECT count() AS n FROM `{warehouse.database}`.events") == [{"n": 2000}]
    warehouse.close()
