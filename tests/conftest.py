"""Shared fixtures: real stores in a temporary data directory, and event builders."""

import compileall
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdp.config import Settings, load_settings
from cdp.platform import Platform
from cdp.warehouse.managed import ManagedServer
from tests.services import clickhouse as test_clickhouse
from tests.services.clickhouse import ClickHouseServer, clickhouse_server
from tests.services.postgres import PostgresServer, postgres_server


# The longest modules, longest first (seconds of pytest, setup to teardown, and of CPU of the test process and
# every process it started, in a full `make test` run on 2 cores shared with other work, load ~6; 2026-12-06).
# `make test` runs modules whole on two xdist workers (--dist loadscope) in the order collected here
# (--no-loadscope-reorder): started first, a long module runs beside the many short ones instead
# of last, alone, while the other worker idles (xdist's own order, most tests first, put these
# one- to three-test modules at the very end). In that run both workers ended within a second of each other.
LONGEST_MODULES = (
    "tests/integration/test_scaleout.py",  # 510 s, 336 s CPU (setup: 100,000 events, the embedded runner, relay + two workers)
    "tests/e2e/test_kill_and_resume.py",  # 182 s, 135 s CPU
    "tests/integration/test_scaleout_activation.py",  # 163 s, 77 s CPU (setup: relay + two workers)
    "tests/console/test_browser.py",  # 158 s, 133 s CPU
    "tests/e2e/test_front_door.py",  # 151 s, 45 s CPU
    "tests/e2e/test_every_door_at_once.py",  # 140 s, 69 s CPU
    "tests/integration/test_quarantine.py",  # 133 s, 73 s CPU
    "tests/integration/test_segments_http.py",  # 129 s, 80 s CPU
    "tests/integration/test_backup_restore.py",  # 128 s, 70 s CPU
    "tests/integration/test_sql_sandbox.py",  # 105 s, 70 s CPU
    "tests/integration/test_access_http.py",  # 94 s, 63 s CPU
    "tests/integration/test_managed_warehouse.py",  # 91 s, 50 s CPU
    "tests/e2e/test_forget.py",  # 88 s, 63 s CPU
    "tests/console/test_activation_browser.py",  # 87 s, 68 s CPU
    "tests/console/test_console_http.py",  # 86 s, 43 s CPU
    "tests/e2e/test_activation_cli.py",  # 82 s, 66 s CPU
    "tests/integration/test_runner_processes.py",  # 82 s, 52 s CPU
    "tests/integration/test_value_predictions.py",  # 76 s, 54 s CPU
    "tests/unit/test_segmentation_cache.py",  # 66 s, 27 s CPU (the last module of a worker when left in collected order)
)


PACKAGES = ("cdp", "projections", "schemas", "ingestion")  # what every `cdp` process the tests start imports


def pytest_configure(config: pytest.Config) -> None:
    """Compiles the platform's packages to bytecode once, before the test processes start: the suite
    starts ~350 `cdp` commands besides the managed warehouse servers, and where PYTHONDONTWRITEBYTECODE
    is set each would compile every module it imports from source again (~0.35 s of the ~2 s of CPU a
    command takes to start)."""
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


@pytest.fixture(scope="module", autouse=True)
def drop_test_databases() -> Iterator[None]:
    """When a module ends, the databases its tests made on the session's ClickHouse server are dropped
    (set up before, so torn down after, the module's own fixtures: --dist loadscope runs a module whole
    on one test process, so nothing else uses that server meanwhile)."""
    yield
    for server in test_clickhouse.RUNNING:
        server.drop_databases()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("CDP_DATA_DIR", "CDP_CONFIG", "CDP_BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    with Platform(settings) as p:
        yield p


@pytest.fixture(scope="module")
def module_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform on a data directory of the module's own, for the tests that only read what the
    module loads into it once (a platform start and the migrations per test would cost more than
    their reads); its warehouse server stopped when the module ends."""
    settings = load_settings(data_dir=tmp_path_factory.mktemp("module") / "data")
    with Platform(settings) as platform:
        yield platform
    ManagedServer.of(settings).stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def clickhouse() -> Iterator[ClickHouseServer]:
    with clickhouse_server() as server:
        yield server
