"""Integration fixtures: a migrated, empty warehouse on each backend (for tests written once for both), and a Kafka-protocol broker.

Module-scoped (migrating costs a second or two): a test module fills it once and only reads.
"""

import uuid
from collections.abc import Iterator

import pytest

from cdp.config import WarehouseSettings
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.migrations import migrate
from tests.services.kafka import KafkaBroker, kafka_broker


@pytest.fixture(scope="module", params=["chdb", "clickhouse"])
def any_warehouse(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "clickhouse":
        server = request.getfixturevalue("clickhouse")
        settings = WarehouseSettings(backend="clickhouse", host=server.host, port=server.port, database=f"t_{uuid.uuid4().hex[:12]}")
    else:
        settings = WarehouseSettings(database="cdp")
    warehouse = open_warehouse(settings, tmp_path_factory.mktemp("warehouse"))
    migrate(warehouse)
    yield warehouse
    warehouse.close()


@pytest.fixture(scope="module")
def kafka() -> Iterator[KafkaBroker]:
    """A fresh broker per test module (topics and consumer groups start empty)."""
    with kafka_broker() as broker:
        yield broker
