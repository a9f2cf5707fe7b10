"""The scale-out deployment on real engines gives what the embedded runner gives (issue #8).

One scenario, 100,000 workload events in the PostgreSQL event store: the embedded runner (`cdp run`, at the same time) projects
them into one ClickHouse database; ``cdp relay`` and two ``cdp worker`` processes (faust, on the
Tansu broker) into another. Mid-stream the relay is SIGKILLed and restarted, then a worker is
SIGKILLed and restarted (its partitions move after the session timeout, 10 s here), then both
workers are SIGKILLed at a moment a batch is written to ClickHouse but not committed. Then:
(a) every projection table holds the same rows; (b) nothing was lost and nothing counted twice;
(c) the relay resumed without a gap; (d) the batch written but never committed was set right.
"""

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cdp.platform import Platform
from cdp.scaleout.state import connect
from cdp.warehouse import Warehouse
from cdp.workload import generate_events
from tests.cli import CDP, cdp
from tests.cli import environment as cli_environment
from tests.integration.scaleout_harness import PARTITIONS, PROJECTED, Processes, append, environment, fresh_database, kill_while_writing, partition_positions, relay_position, settings_from, table_rows, unconfirmed, wait_for_quiet, wait_until
from tests.services.clickhouse import ClickHouseServer
from tests.services.kafka import KafkaBroker
from tests.services.postgres import PostgresServer

EVENTS = 100_000
BATCH = 5000  # the embedded runner's and the relay's batch: identity assigns per batch, so both use the same
# the workers' batches: up to a relay batch, or what came within 2 s (the harness's 0.5 s gives batches of a few
# hundred messages here, each an insert into every table: most of the warehouse server's work)
WORKER_BATCH = {"CDP_KAFKA__WORKER_BATCH": str(BATCH), "CDP_KAFKA__WORKER_BATCH_SECONDS": "2"}


@dataclass
class Outcome:
    embedded: Warehouse
    scaleout: Warehouse
    last: int
    relay_killed_at: int
    worker_killed_at: list[int]
    unconfirmed_after_kill: int  # records of batches written but not committed, right after killing both workers
    unconfirmed_at_end: int
    seconds: dict[str, float]
    env: dict[str, str]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer, clickhouse: ClickHouseServer, kafka: KafkaBroker) -> Iterator[Outcome]:
    root = tmp_path_factory.mktemp("scaleout")
    postgres = fresh_database(postgres, "scaleout")  # the session's server, not the other tests' event log
    # one data directory, as the compose file's shared volume: the relay and the workers open the events with its key store
    embedded_env = environment(root / "data", postgres, clickhouse, kafka, "embedded", BATCH)
    scaleout_env = environment(root / "data", postgres, clickhouse, kafka, "scaleout", BATCH) | WORKER_BATCH
    seconds: dict[str, float] = {}
    with Platform(settings_from(embedded_env)) as embedded, Platform(settings_from(scaleout_env)) as scaleout:
        assert append(embedded, generate_events(EVENTS, seed=11)) == EVENTS
        last = embedded.events.last_position()
        embedded.warehouse  # noqa: B018 (migrated once, before `cdp run` starts)
        scaleout.warehouse  # noqa: B018 (migrated once, before the processes start)
        db = connect(scaleout.settings.event_store.postgres)
        processes = Processes(scaleout_env, root)
        # the embedded runner (`cdp run`, its own process, its own database) beside the scale-out processes: it
        # reads the same log and writes nothing they read, and it fills their waits for a killed worker's session
        embedded_run = subprocess.Popen([*CDP, "run"], env=cli_environment(root / "data", embedded_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            started = time.monotonic()
            processes.start_worker(1)
            processes.start_worker(2)
            processes.start_relay()
            wait_until(lambda: relay_position(db) >= last // 4, 300, processes, "the relay to pass a quarter of the log", poll=0.05)
            processes.kill_relay()
            relay_killed_at = relay_position(db)
            processes.start_relay()
            wait_until(lambda: min(partition_positions(db) or [0]) >= last // 3, 600, processes, "the workers to pass a third of the log", poll=0.2)
            processes.kill_worker(1)
            worker_killed_at = partition_positions(db)
            seconds["until the worker kill"] = time.monotonic() - started
            processes.start_worker(1)
            wait_until(lambda: min(partition_positions(db)) >= last // 2, 600, processes, "the workers to pass half of the log", poll=0.2)
            unconfirmed_after_kill = kill_while_writing(db, processes, [1, 2])
            processes.start_worker(1)
            processes.start_worker(2)
            wait_for_quiet(db, scaleout.warehouse, last, processes, timeout=900)
            seconds["scaleout"] = time.monotonic() - started
            unconfirmed_at_end = unconfirmed(db)
            ran, errors = embedded_run.communicate(timeout=900)
            assert embedded_run.returncode == 0 and f"processed {EVENTS:,} events" in ran.decode(), errors.decode()[-3000:]
            seconds["both"] = time.monotonic() - started
        finally:
            embedded_run.kill()
            processes.stop()
            db.close()
        print(f"\n{EVENTS:,} events: relay + 2 workers with kills {seconds['scaleout']:.0f} s ({seconds['until the worker kill']:.0f} s until the worker kill); with the embedded runner beside them {seconds['both']:.0f} s")
        yield Outcome(embedded.warehouse, scaleout.warehouse, last, relay_killed_at, worker_killed_at, unconfirmed_after_kill, unconfirmed_at_end, seconds, scaleout_env)


@pytest.mark.parametrize("table", PROJECTED)
def test_a_two_workers_give_the_embedded_runners_rows(outcome: Outcome, table: str):
    embedded, scaleout = table_rows(outcome.embedded, table), table_rows(outcome.scaleout, table)
    assert embedded, f"{table} is empty: the comparison would prove nothing"
    missing, extra = sorted(set(embedded) - set(scaleout))[:3], sorted(set(scaleout) - set(embedded))[:3]
    assert scaleout == embedded, f"{table}: {len(embedded)} rows embedded, {len(scaleout)} scale-out; only embedded {missing}; only scale-out {extra}"


def test_b_a_killed_worker_loses_nothing_and_counts_nothing_twice(outcome: Outcome):
    assert min(outcome.worker_killed_at) < outcome.last, "the worker was killed after the work was done"
    db = outcome.scaleout.database
    events = outcome.scaleout.query(f"SELECT count() AS n, uniqExact(position) AS positions FROM `{db}`.events FINAL")[0]
    assert events == {"n": EVENTS, "positions": EVENTS}
    profiles = outcome.scaleout.query(f"SELECT sum(events_total) AS events, sum(orders) AS orders, sum(revenue) AS revenue FROM `{db}`.profiles FINAL WHERE is_deleted = 0")[0]
    ground = outcome.scaleout.query(
        f"SELECT countIf(event_type IN ('order_placed', 'store_purchase_made')) AS orders, "
        f"sumIf(JSONExtractFloat(properties, 'amount'), event_type IN ('order_placed', 'store_purchase_made')) AS revenue FROM `{db}`.events FINAL"
    )[0]
    assert profiles["events"] == EVENTS
    assert profiles["orders"] == ground["orders"]
    assert profiles["revenue"] == pytest.approx(ground["revenue"])


def test_c_a_restarted_relay_resumes_without_a_gap(outcome: Outcome):
    assert 0 < outcome.relay_killed_at < outcome.last, "the relay was not killed mid-stream"
    db = outcome.scaleout.database
    positions = outcome.scaleout.query(f"SELECT min(position) AS first, max(position) AS last, uniqExact(position) AS n FROM `{db}`.events FINAL")[0]
    assert positions == {"first": outcome.last - EVENTS + 1, "last": outcome.last, "n": EVENTS}
    identities = lambda warehouse: warehouse.query(f"SELECT count() AS n FROM `{warehouse.database}`.identities FINAL")[0]["n"]  # noqa: E731
    assert identities(outcome.scaleout) == identities(outcome.embedded)


def test_d_a_batch_written_but_never_committed_is_set_right(outcome: Outcome):
    """Its rows are among those test (a) compared; here: it was left behind, and set right in the end."""
    assert outcome.unconfirmed_after_kill > 0
    assert outcome.unconfirmed_at_end == 0


def test_lag_shows_the_relay_and_every_partition_caught_up(outcome: Outcome):
    result = cdp("lag", data_dir=Path(outcome.env["CDP_DATA_DIR"]), env=outcome.env)
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    assert f"event log: {outcome.last:,} events" in text
    lines = [line for line in text.splitlines() if "relay" in line or "partition" in line]
    assert len(lines) == 1 + PARTITIONS and all(f"{outcome.last}" in line for line in lines), text
