"""Triggers on the scale-out path (issue 21, "never twice"): a trigger enabled through the CLI, the
events through ``cdp relay`` and two ``cdp worker`` processes on PostgreSQL, Tansu and ClickHouse,
the relay SIGKILLed and restarted (it publishes its last batch again), then a worker SIGKILLed
while a batch is written but not committed, its partitions taken over by the other worker. Every
action is in the PostgreSQL outbox once, under its derived id; then two dispatchers at once
deliver each to a loopback webhook receiver once (docs/activation.md, "Scale-out").

One module-scoped run serves every assertion.
"""

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cdp.activation.outbox import DELIVERED, PENDING
from cdp.platform import Platform
from cdp.scaleout.state import connect
from cdp.services import operator
from cdp.services.activation import ActivationService
from cdp.workload import generate_events
from projections.actions import derive_action_id
from tests.cli import cdp, environment as cli_environment
from tests.integration.scaleout_harness import Processes, append, environment, fresh_database, kill_while_writing, partition_positions, relay_position, settings_from, wait_for_quiet, wait_until
from tests.receivers import Received, WebhookReceiver
from tests.services.clickhouse import ClickHouseServer
from tests.services.kafka import KafkaBroker
from tests.services.postgres import PostgresServer

EVENTS = 12_000
BATCH = 500
SEED = 21
SECRET = "a-webhook-signing-secret-for-scaleout"
CONFIG = """
[triggers]
late_days = 365  # the workload spans a year: no cause is stale, whatever batch it falls in

[triggers.rules.viewed]
when = { kind = "event", event_type = "product_viewed" }
then = { destination = "hook", channel = "staff", purpose = "" }
"""


@dataclass
class Outcome:
    env: dict[str, str]
    viewed: int  # product_viewed events in the log
    expected: dict[str, str]  # action id → its cause, from the warehouse's events
    outbox: list[tuple[str, str, str]]  # (action_id, rule, cause) in the PostgreSQL outbox, after the workers
    last: int
    relay_killed_at: int
    worker_killed_at: list[int]
    unconfirmed_at_kill: int
    received: Received
    statuses: Counter
    undelivered: list[dict]  # the delivery log of the actions not delivered in the end, with their last error
    dispatchers: list[subprocess.CompletedProcess]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer, clickhouse: ClickHouseServer, kafka: KafkaBroker) -> Iterator[Outcome]:
    root = tmp_path_factory.mktemp("scaleout-activation")
    data = root / "data"
    data.mkdir()
    (data / "cdp.toml").write_text(CONFIG)
    env = environment(data, fresh_database(postgres, "activation"), clickhouse, kafka, "activation", BATCH)
    enabled = cdp("triggers", "enable", "viewed", "--backfill", "2025-01-01", data_dir=data, env=env)
    assert enabled.returncode == 0, enabled.stderr.decode()
    events = list(generate_events(EVENTS, seed=SEED))
    with Platform(settings_from(env)) as platform:
        assert append(platform, events) == EVENTS
        last = platform.events.last_position()
        platform.warehouse  # noqa: B018 (migrated once, before the processes start)
        db = connect(platform.settings.event_store.postgres)
        processes = Processes(env, root)
        started = time.monotonic()
        try:
            processes.start_worker(1)
            processes.start_worker(2)
            processes.start_relay()
            wait_until(lambda: relay_position(db) >= last // 4, 300, processes, "the relay to pass a quarter of the log", poll=0.05)
            processes.kill_relay()
            relay_killed_at = relay_position(db)
            processes.start_relay()
            # worker 2 takes its partitions once its session times out
            unconfirmed_at_kill = kill_while_writing(db, processes, [1], ready=lambda: min(partition_positions(db) or [0]) >= last // 3)
            worker_killed_at = partition_positions(db)
            del processes.workers[1]
            wait_for_quiet(db, platform.warehouse, last, processes, timeout=600)
        finally:
            processes.stop()
        projected = time.monotonic() - started
        outbox = db.execute("SELECT action_id, rule, customer_id, cause FROM activation_actions").fetchall()
        db.commit()
        rows = platform.warehouse.query(f"SELECT position, customer_id FROM `{platform.warehouse.database}`.events FINAL WHERE event_type = 'product_viewed'")
        expected = {derive_action_id("trigger:viewed", r["customer_id"], f"p:{r['position']}"): f"p:{r['position']}" for r in rows}
        with WebhookReceiver(SECRET) as receiver:
            ActivationService(platform, operator()).add_destination("hook", "webhook", {"url": receiver.url, "allow_private": True}, SECRET)
            fast = {"CDP_ACTIVATION__RATE_PER_SECOND": "2000", "CDP_ACTIVATION__BATCH": "50", "CDP_ACTIVATION__BACKOFF_SECONDS": "0.5"}
            dispatchers = [subprocess.Popen([sys.executable, "-m", "cdp", "activation", "dispatch", "--once"], env=cli_environment(data, env | fast), stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
            finished = [subprocess.CompletedProcess(d.args, d.wait(timeout=300), *d.communicate()) for d in dispatchers]
            retried = platform.outbox.deliveries(status=PENDING, limit=len(outbox))  # by the two dispatchers, with their error
            for _ in range(5):  # a send that failed on the loaded machine is retried after its backoff, as `dispatch` without --once does
                if not platform.outbox.counts()[PENDING]:
                    break
                time.sleep(1)
                finished.append(cdp("activation", "dispatch", "--once", data_dir=data, env=env | fast))
        statuses = Counter(platform.outbox.counts())
        undelivered = [d for d in platform.outbox.deliveries(limit=len(outbox)) if d["status"] != DELIVERED]
        db.close()
    print(f"\n{EVENTS:,} events, {len(outbox):,} actions: relay + 2 workers with kills {projected:.0f} s; {statuses[DELIVERED]:,} delivered, {statuses['skipped']:,} skipped, {len(retried)} retried: {[d['last_error'] for d in retried]}")
    yield Outcome(env, Counter(e["event_type"] for e in events)["product_viewed"], expected, [(a, r, c) for a, r, _, c in outbox], last, relay_killed_at, worker_killed_at, unconfirmed_at_kill, receiver.received, statuses, undelivered, finished)


def test_the_run_killed_the_relay_and_a_worker_mid_stream(outcome: Outcome):
    assert 0 < outcome.relay_killed_at < outcome.last, "the relay was not killed mid-stream"
    assert min(outcome.worker_killed_at) < outcome.last, "the worker was killed after the work was done"
    assert outcome.unconfirmed_at_kill > 0  # a batch was between its warehouse write and its commit


def test_each_action_is_in_the_postgres_outbox_exactly_once(outcome: Outcome):
    assert outcome.viewed > 300 and len(outcome.expected) == outcome.viewed  # every product_viewed event reached the warehouse once
    causes = Counter(cause for _, _, cause in outcome.outbox)
    assert causes and max(causes.values()) == 1, "a cause fired twice (under another customer)"
    assert {a for a, _, _ in outcome.outbox} == set(outcome.expected)
    assert {rule for _, rule, _ in outcome.outbox} == {"trigger:viewed"}


def test_two_dispatchers_deliver_each_action_once(outcome: Outcome):
    for finished in outcome.dispatchers:
        assert finished.returncode == 0, finished.stderr.decode()
    received = outcome.received
    assert received.bad_signatures == [] and received.acceptances and max(received.acceptances.values()) == 1
    assert set(received.accepted) <= set(outcome.expected)
    assert outcome.statuses[DELIVERED] == len(received.accepted) > 0
    assert outcome.statuses[DELIVERED] + outcome.statuses["skipped"] == len(outcome.expected), outcome.undelivered  # skipped: merged into another customer since


def test_the_cli_reads_the_triggers_and_deliveries_of_the_scale_out_configuration(outcome: Outcome):
    data = Path(outcome.env["CDP_DATA_DIR"])
    listed = cdp("triggers", "list", data_dir=data, env=outcome.env)
    assert listed.returncode == 0 and "viewed" in listed.stdout.decode() and "2025-01-01" in listed.stdout.decode(), listed.stderr.decode()
    deliveries = cdp("deliveries", "--status", "delivered", "--limit", "5", "--format", "json", data_dir=data, env=outcome.env)
    assert deliveries.returncode == 0, deliveries.stderr.decode()
    assert deliveries.stdout.decode().count("trigger:viewed") == 5
    assert not (data / "outbox.sqlite3").exists() and not (data / "triggers.sqlite").exists()  # both live in PostgreSQL

