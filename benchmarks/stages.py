"""One benchmark stage per function; each runs in its own process and returns its figures.

    python -m benchmarks.stages STAGE WORKDIR   → prints the stage's figures as one JSON object
"""

import multiprocessing
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

import orjson

from cdp.config import Settings, load_settings
from cdp.eventstore import open_event_store
from cdp.platform import Platform
from cdp.warehouse import Warehouse
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.managed import ManagedServer
from cdp.warehouse.migrations import migrate
from benchmarks.proc_cpu import cpu_seconds, machine_busy_seconds
from cdp.workload import generate_events
from ingestion.jsonl import import_lines
from projections.tables import events as events_table
from projections.touchpoint import Touchpoint

WORKLOAD = "events.jsonl"
QUERIES = {
    "segment count (at_risk, revenue > 500, social)": "SELECT count() FROM cdp.profiles FINAL WHERE lifecycle_stage = 'at_risk' AND revenue > 500 AND has(channels, 'social')",
    "profiles per stage": "SELECT lifecycle_stage, count(), avg(revenue) FROM cdp.profiles FINAL GROUP BY lifecycle_stage",
    "funnel view → product → cart → order (7 days)": (
        "SELECT level, count() FROM (SELECT customer_id, windowFunnel(604800)(toDateTime(occurred_at), event_type = 'page_viewed', "
        "event_type = 'product_viewed', event_type = 'product_added_to_cart', event_type = 'order_placed') AS level "
        "FROM cdp.events FINAL GROUP BY customer_id) GROUP BY level ORDER BY level"
    ),
    "monthly retention by first-seen cohort": (
        "SELECT toStartOfMonth(first_seen) AS cohort, dateDiff('month', cohort, toStartOfMonth(e.occurred_at)) AS month, uniqExact(e.customer_id) "
        "FROM cdp.events AS e FINAL INNER JOIN (SELECT customer_id, first_seen FROM cdp.profiles FINAL) AS p USING (customer_id) GROUP BY cohort, month"
    ),
    "lifecycle flow in October": (
        "SELECT from_stage, to_stage, count() FROM cdp.lifecycle_transitions FINAL "
        "WHERE at >= '2025-10-01' AND at < '2025-11-01' GROUP BY from_stage, to_stage"
    ),
    "NPS by month": (
        "SELECT toStartOfMonth(occurred_at) AS month, countIf(s >= 9) / count() - countIf(s <= 6) / count() AS nps "
        "FROM (SELECT occurred_at, JSONExtractInt(properties, 'score') AS s FROM cdp.events FINAL WHERE event_type = 'nps_answered') GROUP BY month"
    ),
    "revenue by source per day": "SELECT toDate(occurred_at) AS day, source_name, sum(JSONExtractFloat(properties, 'amount')) FROM cdp.events FINAL WHERE source_kind = 'sales' GROUP BY day, source_name",
}


def workload(workdir: Path, events: int, seed: int = 7) -> dict:
    with (workdir / WORKLOAD).open("wb") as handle:
        for event in generate_events(events, seed=seed):
            handle.write(orjson.dumps(event) + b"\n")
    return {"bytes": (workdir / WORKLOAD).stat().st_size}


def floor(workdir: Path) -> dict:
    """The same events straight into ClickHouse's engine (chDB in this process): one JSONEachRow insert
    from the file, no validation, no projections, no network."""
    from chdb import session

    target = workdir / "floor"
    shutil.rmtree(target, ignore_errors=True)
    engine = session.Session(str(target))
    engine.query(
        "CREATE DATABASE floor; CREATE TABLE floor.events (message_id String, event_type LowCardinality(String), source_kind LowCardinality(String), "
        "source_name LowCardinality(String), occurred_at DateTime64(3, 'UTC'), identifiers String, traits String, properties String, context String) "
        "ENGINE = MergeTree PARTITION BY toYYYYMM(occurred_at) ORDER BY (event_type, occurred_at)"
    )
    started = time.perf_counter()
    engine.query(
        f"INSERT INTO floor.events FROM INFILE '{workdir / WORKLOAD}' SETTINGS input_format_json_read_objects_as_strings = 1, "
        "date_time_input_format = 'best_effort' FORMAT JSONEachRow"
    )
    seconds = time.perf_counter() - started
    rows = int(engine.query("SELECT count() FROM floor.events", "CSV").bytes())
    engine.close()
    return {"events": rows, "seconds": seconds}


def ingest(workdir: Path) -> dict:
    """`cdp ingest`: parse, validate, durable append to the SQLite event store."""
    with Platform(_settings(workdir / "data")) as platform, (workdir / WORKLOAD).open("rb") as handle:
        started = time.perf_counter()
        report = import_lines(handle, platform, WORKLOAD, platform.settings.batch_size)
        seconds = time.perf_counter() - started
    return {"events": report.stored, "rejected": len(report.rejected), "seconds": seconds}


def read(workdir: Path) -> dict:
    """Reading the whole log as the runner does, in ``batch_size`` batches: the event store's part of
    a batch's CPU, before opening and projecting."""
    settings = _settings(workdir / "data")
    store = open_event_store(settings)
    started, cpu, position, events = time.perf_counter(), time.process_time(), 0, 0
    while batch := store.read(position, settings.batch_size):
        events, position = events + len(batch), batch[-1].id
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    store.close()
    return {"events": events, "seconds": seconds, "cpu_seconds": cpu}


def process(workdir: Path) -> dict:
    """`cdp run`: identity, profile and lifecycle projections into chDB, state tracked durably."""
    figures = _run_projections(workdir / "data")
    if not figures["events"]:
        raise SystemExit(f"process: no event left to project in {workdir / 'data'}: the ingest stage stores the workload there, for one process stage (the rebuild stage projects a processed log again)")
    return figures


def rebuild(workdir: Path) -> dict:
    """Rebuild from the first event: the same log, empty projection state and warehouse."""
    target = workdir / "rebuild"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    for pattern in ("events.sqlite*", "keys.sqlite*", "master.key"):  # the log and the keys that open its personal fields
        for part in (workdir / "data").glob(pattern):
            shutil.copy(part, target / part.name)
    return _run_projections(target)


def warehouse_load(workdir: Path, batch: int = 10_000) -> dict:
    """Rows/s the warehouse accepts through its interface (the `events` table's rows, prebuilt): the
    managed server of a fresh data directory, over the native protocol."""
    target = workdir / "load"
    shutil.rmtree(target, ignore_errors=True)
    settings = Settings(data_dir=target)
    warehouse = open_warehouse(settings)
    migrate(warehouse)
    rows, seconds = 0, 0.0
    with (workdir / WORKLOAD).open("rb") as handle:
        chunk = []
        for position, line in enumerate(handle, start=1):
            event = orjson.loads(line)
            event["received_at"] = event["occurred_at"]
            chunk.append(events_table.row(Touchpoint(position, event), "c"))
            if len(chunk) == batch:
                seconds += _timed(warehouse.insert, events_table.TABLE.name, chunk)
                rows, chunk = rows + len(chunk), []
        if chunk:
            seconds += _timed(warehouse.insert, events_table.TABLE.name, chunk)
            rows += len(chunk)
    warehouse.close()
    ManagedServer.of(settings).stop()
    return {"rows": rows, "seconds": seconds}


def freshness(workdir: Path, rate: int = 200, seconds: float = 10.0) -> dict:
    """Accepted (durably appended) → visible in a ClickHouse query, with the runner following the log."""
    accepted: dict[int, float] = {}
    latencies: list[float] = []
    with Platform(_settings(workdir / "data")) as platform:
        runner, warehouse, store = platform.runner, platform.warehouse, platform.events
        runner.run()  # start caught up
        base = store.last_position()
        stop = threading.Event()

        def send() -> None:
            events = generate_events(int(rate * seconds), seed=99)
            for n, event in enumerate(events, start=1):
                import_lines([orjson.dumps(event)], platform, "freshness")  # validated and durably stored
                accepted[base + n] = time.perf_counter()
                time.sleep(max(0.0, n / rate - (time.perf_counter() - started)))
            stop.set()

        started = time.perf_counter()
        sender = threading.Thread(target=send)
        sender.start()
        seen = base
        while not (stop.is_set() and seen >= store.last_position()):
            if runner.run_batch() == 0:
                time.sleep(0.005)
                continue
            visible = warehouse.query("SELECT max(position) AS p FROM cdp.events")[0]["p"]
            now = time.perf_counter()
            latencies.extend(now - accepted[p] for p in range(seen + 1, visible + 1) if p in accepted)
            seen = visible
        sender.join()
    latencies.sort()
    return {"events": len(latencies), "p50_ms": 1000 * statistics.median(latencies), "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))]}


def queries(workdir: Path, repeat: int = 5) -> dict:
    """Median latency of marketer-style queries on the processed warehouse."""
    with Platform(_settings(workdir / "data")) as platform:
        warehouse = platform.warehouse
        result = {}
        for name, sql in QUERIES.items():
            warehouse.query(sql)  # warm
            result[name] = 1000 * statistics.median(_timed(warehouse.query, sql) for _ in range(repeat))
        result["profiles"] = warehouse.query("SELECT count() AS n FROM cdp.profiles FINAL")[0]["n"]
    return result


def _run_projections(data_dir: Path) -> dict:
    """``runner.processes`` (``CDP_RUNNER__PROCESSES``) above 1: the projection processes' CPU too, each
    (from their start, imports included: they start with the runner)."""
    settings = _settings(data_dir)
    with Platform(settings) as platform:
        platform.warehouse  # opened and migrated before timing
        server = ManagedServer.of(settings).pid
        counted = server_counters(platform.warehouse)
        started, cpu, server_cpu, busy = time.perf_counter(), time.process_time(), cpu_seconds(server), machine_busy_seconds()
        processed = platform.runner.run()
        seconds, cpu, server_cpu = time.perf_counter() - started, time.process_time() - cpu, cpu_seconds(server) - server_cpu
        busy = machine_busy_seconds() - busy
        server_work = {name: value - counted[name] for name, value in server_counters(platform.warehouse).items()}
        children = [cpu_seconds(child.pid) for child in multiprocessing.active_children() if child.name.startswith("cdp-projection")]
    return {
        "events": processed, "seconds": seconds, "cpu_seconds": cpu, "processes_cpu_seconds": children, "server_cpu_seconds": server_cpu,
        "machine_busy_seconds": busy, "server_work": server_work,
    }


# what the warehouse server did, from its own counters (system.events, since it started)
SERVER_COUNTERS = {
    "InsertQuery": "inserts",
    "InsertedRows": "rows inserted",
    "Merge": "merges",
    "MergedRows": "rows merged",
    "MergeMutateBackgroundExecutorTaskExecuteStepMicroseconds": "merge thread µs",
}


def server_counters(warehouse: Warehouse) -> dict[str, int]:
    """Each counter by its label; one the server has not counted yet (system.events lists none) is 0."""
    rows = warehouse.query("SELECT event, value FROM system.events WHERE event IN {names:Array(String)}", {"names": list(SERVER_COUNTERS)})
    values = {row["event"]: int(row["value"]) for row in rows}
    return {label: values.get(event, 0) for event, label in SERVER_COUNTERS.items()}


def _settings(data_dir: Path):
    return load_settings(config_file=None, data_dir=data_dir)


def _timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


STAGES = {f.__name__: f for f in (floor, ingest, read, process, rebuild, warehouse_load, freshness, queries)}

if __name__ == "__main__":
    stage, workdir = sys.argv[1], Path(sys.argv[2])
    figures = workload(workdir, int(sys.argv[3])) if stage == "workload" else STAGES[stage](workdir)
    sys.stdout.write(orjson.dumps(figures).decode() + "\n")
