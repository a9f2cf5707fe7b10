"""Integration fixtures: a migrated, empty warehouse (the embedded default's managed server), and a Kafka-protocol broker.

Module-scoped (migrating costs a second or two): a test module fills it once and only reads.
"""

from collections.abc import Iterator

import pytest

from cdp.config import Settings
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.managed import ManagedServer
from cdp.warehouse.migrations import migrate
from tests.services.kafka import KafkaBroker, kafka_broker


@pytest.fixture(scope="module")
def any_warehouse(tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    warehouse = open_warehouse(settings)
    migrate(warehouse)
    yield warehouse
    warehouse.close()
    ManagedServer.of(settings).stop()


@pytest.fixture(scope="module")
def kafka() -> Iterator[KafkaBroker]:
    """A fresh broker per test module (topics and consumer groups start empty)."""
    with kafka_broker() as broker:
        yield broker
