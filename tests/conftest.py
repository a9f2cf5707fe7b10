"""Shared fixtures: real stores in a temporary data directory, and event builders."""

import compileall
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdp.config import Settings, load_settings
from cdp.platform import Platform
from cdp.warehouse.managed import ManagedServer
from tests.services.clickhouse import ClickHouseServer, clickhouse_server
from tests.services.postgres import PostgresServer, postgres_server


# The longest modules, longest first (seconds of pytest --durations on 2 cores, each module run alone on
# a busy machine). `make test` runs modules whole on two xdist workers (--dist loadscope) in the order collected here
# (--no-loadscope-reorder): started first, a long module runs beside the many short ones instead
# of last, alone, while the other worker idles (xdist's own order, most tests first, put these
# one- to three-test modules at the very end).
LONGEST_MODULES = (
    "tests/integration/test_scaleout.py",  # ~215 (~175 of setup: 100,000 events, the embedded runner, relay + two workers)
    "tests/e2e/test_kill_and_resume.py",  # ~105
    "tests/integration/test_scaleout_activation.py",  # ~80 (~70 of setup: relay + two workers)
    "tests/console/test_browser.py",  # ~60
    "tests/e2e/test_activation_cli.py",  # ~45
    "tests/e2e/test_forget.py",  # ~40
    "tests/integration/test_access_cli.py",  # ~37
    "tests/test_connector_imports.py",
    "tests/e2e/test_churn_and_analytics_cli.py",  # ~33
    "tests/unit/test_proj_replay_properties.py",
    "tests/e2e/test_consent_cli.py",
    "tests/integration/test_backup_restore.py",
)


PACKAGES = ("cdp", "projections", "schemas", "ingestion")  # what every `cdp` process the tests start imports


def pytest_configure(config: pytest.Config) -> None:
    """Compiles the platform's packages to bytecode once, before the test processes start: the suite
    starts some hundreds of `cdp` processes, and where PYTHONDONTWRITEBYTECODE is set (or the checkout
    is fresh) each would compile every module it imports from source again (~0.35 s of CPU of the ~2 s
    a process takes to start)."""
    if not hasattr(config, "workerinput"):  # the xdist controller, or a run without xdist: once per run
        root = Path(__file__).parents[1]
        for package in PACKAGES:
            compileall.compile_dir(root / package, quiet=1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first, every other module after them in the order collected."""
    rank = {module: n for n, module in enumerate(LONGEST_MODULES)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))


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
