"""Shared fixtures: real stores in a temporary data directory, and event builders."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from cdp.config import Settings, load_settings
from cdp.platform import Platform
from cdp.warehouse.managed import ManagedServer
from tests.services.clickhouse import ClickHouseServer, clickhouse_server
from tests.services.postgres import PostgresServer, postgres_server


@pytest.fixture(autouse=True)
def stop_warehouse_servers(tmp_path: Path) -> Iterator[None]:
    """Stops the managed warehouse servers of the test's data directories, instead of leaving them
    to stop by themselves when idle (each holds ~300 MB)."""
    yield
    for pid_file in [*tmp_path.glob("warehouse-server/pid"), *tmp_path.glob("*/warehouse-server/pid"), *tmp_path.glob("*/*/warehouse-server/pid")]:
        ManagedServer.at(pid_file.parent).stop(wait=False)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("CDP_DATA_DIR", "CDP_CONFIG", "CDP_BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    with Platform(settings) as p:
        yield p


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def clickhouse() -> Iterator[ClickHouseServer]:
    with clickhouse_server() as server:
        yield server
