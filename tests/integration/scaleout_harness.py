"""Runs the scale-out deployment on real engines for the tests and the benchmark.

PostgreSQL (event store + runner state), the Tansu broker, a ClickHouse server; ``cdp relay`` and
``cdp worker`` as separate OS processes configured through ``CDP_*`` environment variables.
"""

import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from cdp.config import Settings, load_settings
from cdp.platform import Platform
from cdp.scaleout import messages
from cdp.scaleout.state import partition_progress
from cdp.warehouse import Warehouse
from ingestion.validation import validate
from projections.tables import WAREHOUSE_TABLES
from tests.services.clickhouse import ClickHouseServer
from tests.services.kafka import KafkaBroker
from tests.services.postgres import PostgresServer
from tests.services.ports import free_port

PARTITIONS = 4  # what Tansu gives an auto-created topic
EXCLUDED_COLUMNS = {"version", "as_of"}  # when a row was computed, not what it says


def environment(data_dir: Path, postgres: PostgresServer, clickhouse: ClickHouseServer, kafka: KafkaBroker, database: str, batch_size: int) -> dict[str, str]:
    return {
        "CDP_DATA_DIR": str(data_dir),
        "CDP_BATCH_SIZE": str(batch_size),
        **postgres.event_store_environment(),
        "CDP_WAREHOUSE__BACKEND": "clickhouse",
        "CDP_WAREHOUSE__HOST": clickhouse.host,
        "CDP_WAREHOUSE__PORT": str(clickhouse.port),
        "CDP_WAREHOUSE__DATABASE": database,
        "CDP_KAFKA__BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "CDP_KAFKA__PARTITIONS": str(PARTITIONS),
        "CDP_KAFKA__WORKER_BATCH": "2000",  # the default's tenth: the tests' kills land mid-stream, not after a few large batches
        "CDP_KAFKA__WORKER_BATCH_SECONDS": "0.5",
        "CDP_KAFKA__SESSION_TIMEOUT_SECONDS": "10",  # a SIGKILLed worker's partitions move on sooner than faust's 60 s (three of its 3 s heartbeats)
    }


def relayed(since: int, watermark: int, items: list[messages.Item]) -> list[messages.Message]:
    """Items as a worker receives them from the relay: packed into chunks, each unpacked."""
    return [m for chunk in messages.chunks(since, watermark, items) for m in messages.unpack(chunk)]


def fresh_database(server: PostgresServer, prefix: str) -> PostgresServer:
    """A new, empty database on the server (the event store and the runners' state start blank)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=server.host, port=server.port, dbname=server.dbname, user=server.user, password=server.password, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    return dataclasses.replace(server, dbname=name)


def settings_from(env: dict[str, str]) -> Settings:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return load_settings()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k)
            else:
                os.environ[k] = v


def append(platform: Platform, envelopes: Iterable[dict], chunk: int = 5000) -> int:
    """Validates and stores envelopes as the collector would; returns how many were stored."""
    stored, batch = 0, []
    received = datetime.now(UTC)
    for envelope in envelopes:
        batch.append(validate(envelope, received))
        if len(batch) == chunk:
            stored += platform.append(batch)[0]
            batch = []
    if batch:
        stored += platform.append(batch)[0]
    return stored


@dataclass
class Processes:
    """``cdp relay --follow`` and ``cdp worker`` processes; each worker gets its own faust web port."""

    env: dict[str, str]
    log_dir: Path
    relay: subprocess.Popen | None = None
    workers: dict[int, subprocess.Popen] = field(default_factory=dict)

    def start_relay(self) -> None:
        self.relay = self._spawn("relay", ["relay", "--follow"])

    def start_worker(self, n: int) -> None:
        self.workers[n] = self._spawn(f"worker{n}", ["worker", "--web-port", str(free_port())])

    def kill_relay(self) -> None:
        _kill(self.relay, signal.SIGKILL)

    def kill_worker(self, n: int) -> None:
        _kill(self.workers[n], signal.SIGKILL)

    def check_alive(self) -> None:
        for name, process in [("relay", self.relay), *((f"worker{n}", p) for n, p in self.workers.items())]:
            if process is not None and process.poll() is not None:
                log = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise AssertionError(f"{name} exited with {process.returncode}:\n{log}")

    def stop(self) -> None:
        for process in [self.relay, *self.workers.values()]:
            _kill(process, signal.SIGTERM)
        for process in [self.relay, *self.workers.values()]:
            if process is not None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = (self.log_dir / f"{name}.log").open("ab")
        return subprocess.Popen([sys.executable, "-m", "cdp", *args], env=os.environ | self.env, stdout=log, stderr=subprocess.STDOUT)


def _kill(process: subprocess.Popen | None, sig: signal.Signals) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(sig)
        if sig == signal.SIGKILL:
            process.wait()



def relay_position(db: psycopg.Connection) -> int:
    row = db.execute("SELECT position FROM scaleout_relay").fetchone()
    db.commit()
    return row[0] if row else 0


def partition_positions(db: psycopg.Connection, topic: str = "cdp.touchpoints") -> list[int]:
    return [position for _, position, _ in partition_progress(db, topic)]


def unconfirmed(db: psycopg.Connection) -> int:
    """Records of batches written to the warehouse but not committed yet."""
    count = db.execute("SELECT count(*) FROM scaleout_unconfirmed").fetchone()[0]
    db.commit()
    return count


def kill_while_writing(db: psycopg.Connection, processes: Processes, workers: list[int], ready=lambda: True, attempts: int = 10) -> int:
    """SIGKILLs ``workers`` as soon as a batch is recorded as being written (once ``ready()``); retried
    until a record is left behind (the batch committed before the kill landed). Returns how many were left."""
    for _ in range(attempts):
        wait_until(lambda: unconfirmed(db) > 0 and ready(), 300, processes, "a worker to begin writing a batch", poll=0.002)
        for n in workers:
            processes.kill_worker(n)
        left = unconfirmed(db)
        if left:
            return left
        for n in workers:
            processes.start_worker(n)
    raise AssertionError(f"no kill in {attempts} caught a batch between its warehouse write and its commit")


def wait_until(condition, timeout: float, processes: Processes, what: str, poll: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        processes.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def wait_for_quiet(db: psycopg.Connection, warehouse: Warehouse, last: int, processes: Processes, timeout: float, quiet_seconds: float = 4) -> None:
    """Every partition has applied the relay's last position, and no absorb is still travelling
    (the warehouse's profile rows stop growing: every absorb writes the survivor's row)."""
    wait_until(lambda: partition_positions(db) == [last] * PARTITIONS, timeout, processes, f"every partition to reach position {last}")
    count = lambda: warehouse.query(f"SELECT count() AS n FROM `{warehouse.database}`.profiles")[0]["n"]  # noqa: E731
    before = count()
    while True:
        time.sleep(quiet_seconds)
        processes.check_alive()
        now = count()
        if now == before:
            return
        before = now


def table_rows(warehouse: Warehouse, table: str) -> list[tuple]:
    """A table's current rows (FINAL, retracted ones dropped), without when they were computed, sorted."""
    columns = [r["name"] for r in warehouse.query("SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position", {"db": warehouse.database, "t": table})]
    kept = [c for c in columns if c not in EXCLUDED_COLUMNS and c != "is_deleted"]
    where = " WHERE is_deleted = 0" if "is_deleted" in columns else ""
    rows = warehouse.query(f"SELECT {', '.join(f'`{c}`' for c in kept)} FROM `{warehouse.database}`.`{table}` FINAL{where}")
    return sorted(tuple(repr(_number(row[c])) for c in kept) for row in rows)


def _number(value):
    """The native protocol gives 0 or 0.0 for the same Float64 depending on the block: compare numbers by value."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


PROJECTED = [t.name for t in WAREHOUSE_TABLES]
