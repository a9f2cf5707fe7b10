"""The warehouse contract on chDB (embedded), in a fresh data directory per test."""

from collections.abc import Callable

import pytest

from cdp.config import Settings
from cdp.warehouse.chdb_backend import ChdbWarehouse
from tests.integration.wh_contract import WarehouseContract


class TestChdbWarehouse(WarehouseContract):
    @pytest.fixture
    def reopen(self, settings: Settings) -> Callable[[], ChdbWarehouse]:
        return lambda: ChdbWarehouse(settings.warehouse_path, "cdp")

    @pytest.fixture
    def warehouse(self, reopen: Callable[[], ChdbWarehouse]):
        w = reopen()
        yield w
        w.close()
