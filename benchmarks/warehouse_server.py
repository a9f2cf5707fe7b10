"""The managed warehouse server: start-up, connect, memory, and load against ClickHouse's engine in-process.

    python -m benchmarks.warehouse_server [--events 200000] [--starts 5]

Prints: a cold start (first process to need the warehouse: start the server, migrate a new
database), a start of a stopped server with its data, a connect to a running one (what every CLI
command pays); the server's RSS idle and after the load; and the rows/s of the `events` table's
rows loaded through the warehouse interface (native protocol, columnar, lz4) against the same rows
as JSONEachRow into chDB in this process (what the embedded default did before: the measurement
that decides whether in-process chDB earns a second code path).
"""

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import orjson

from cdp.config import Settings
from cdp.platform import Platform
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.managed import ManagedServer
from cdp.warehouse.migrations import migrate
from cdp.workload import generate_events
from projections.tables import events as events_table
from projections.touchpoint import Touchpoint

BATCH = 10_000


def rows(count: int) -> list[list[dict]]:
    batches, chunk = [], []
    for position, event in enumerate(generate_events(count, seed=3), start=1):
        event["received_at"] = event["occurred_at"]
        chunk.append(events_table.row(Touchpoint(position, event), "c"))
        if len(chunk) == BATCH:
            batches.append(chunk)
            chunk = []
    return batches + ([chunk] if chunk else [])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def open_and_query(settings: Settings) -> None:
    with Platform(settings) as platform:
        platform.warehouse.query("SELECT 1 AS one")


def starts(root: Path, count: int) -> None:
    cold, warm, connect = [], [], []
    for n in range(count):
        settings = Settings(data_dir=root / f"start{n}")
        server = ManagedServer.of(settings)
        cold.append(timed(lambda: open_and_query(settings)))
        connect.append(timed(lambda: open_and_query(settings)))
        server.stop()
        warm.append(timed(lambda: open_and_query(settings)))
        server.stop()
    for name, figures in (("cold start (new data directory, migrated)", cold), ("start with its data", warm), ("connect to a running server", connect)):
        print(f"{name}: median {1000 * statistics.median(figures):,.0f} ms (min {1000 * min(figures):,.0f}, max {1000 * max(figures):,.0f}; {count} runs)")


def load(root: Path, batches: list[list[dict]]) -> None:
    total = sum(len(b) for b in batches)
    for name, migrated in (("bare events table", False), ("migrated: with the events table's rollups and index", True)):
        settings = Settings(data_dir=root / f"load-{migrated}")
        server = ManagedServer.of(settings)
        warehouse = open_warehouse(settings)
        if migrated:
            migrate(warehouse)
            print(f"server RSS idle: {rss_mib(server.pid):,.0f} MiB")
        else:
            warehouse.execute(events_table.TABLE.create_sql(warehouse.database))
        seconds = sum(timed(lambda b=b: warehouse.insert(events_table.TABLE.name, b)) for b in batches)
        print(f"load through the managed server (native, columnar), {name}: {total / seconds:,.0f} rows/s ({total:,} rows)")
        print(f"server RSS after the load: {rss_mib(server.pid):,.0f} MiB")
        warehouse.close()
        server.stop()

    from chdb import session  # the old embedded path, in this process

    engine = session.Session(str(root / "chdb"))
    engine.query("CREATE DATABASE cdp")
    engine.query(events_table.TABLE.create_sql("cdp"))
    seconds = 0.0
    for batch in batches:
        body = b"\n".join(orjson.dumps(r, option=orjson.OPT_UTC_Z) for r in batch).decode()
        seconds += timed(lambda body=body: engine.query(f"INSERT INTO cdp.events SETTINGS date_time_input_format='best_effort' FORMAT JSONEachRow\n{body}"))
    print(f"load into chDB in this process (JSONEachRow), bare events table: {total / seconds:,.0f} rows/s")
    engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cdp-bench-server-"))
    try:
        starts(root, args.starts)
        load(root, rows(args.events))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
