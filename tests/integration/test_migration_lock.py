"""Processes sharing a data directory migrate the warehouse one at a time (issue 24: the relay,
the workers and the collector start together): ``migrate`` holds the directory's migrations lock
through every statement, so a second process waits until the first has recorded its migrations."""

import fcntl
import uuid
from pathlib import Path

from clickhouse_driver import Client

from cdp.warehouse.clickhouse_backend import ClickHouseWarehouse
from cdp.warehouse.migrations import LOCK_FILE, MIGRATIONS, migrate
from tests.services.clickhouse import ClickHouseServer


class Probe:
    """A warehouse that, at each statement, checks whether another process could take the lock now."""

    def __init__(self, warehouse: ClickHouseWarehouse, lock: Path):
        self.warehouse, self.database, self.lock, self.free_at = warehouse, warehouse.database, lock, []

    def _probe(self) -> None:
        with self.lock.open("a") as other:  # another open file: what another process holds
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.free_at.append(True)
                fcntl.flock(other, fcntl.LOCK_UN)
            except BlockingIOError:
                self.free_at.append(False)

    def execute(self, sql):
        self._probe()
        self.warehouse.execute(sql)

    def query(self, sql, params=None):
        self._probe()
        return self.warehouse.query(sql, params)

    def insert(self, table, rows):
        self._probe()
        self.warehouse.insert(table, rows)


def test_migrating_holds_the_data_directorys_lock_throughout(clickhouse: ClickHouseServer, tmp_path: Path):
    warehouse = ClickHouseWarehouse(lambda: Client(clickhouse.host, port=clickhouse.port), f"t_{uuid.uuid4().hex[:12]}")
    probe = Probe(warehouse, tmp_path / LOCK_FILE)
    assert migrate(probe, tmp_path) == [m.number for m in MIGRATIONS]
    assert len(probe.free_at) > len(MIGRATIONS) and not any(probe.free_at)
    with (tmp_path / LOCK_FILE).open("a") as other:  # released at the end
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert migrate(probe, tmp_path) == []
