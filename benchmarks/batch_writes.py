"""A projection batch's rows into the warehouse: one table after another, or over several connections.

    python -m benchmarks.batch_writes [--customers 400] [--repeat 7]

Builds the rows of one runner batch (every table the projections write, in memory), then writes
them to the managed server of a fresh data directory, into emptied tables, with
``warehouse.insert_connections`` = 1 and = 4, in turn, ``--repeat`` times each. Prints the median seconds of each and their ratio per pair,
which holds on a shared machine better than either figure alone; then the CPU of the inserts' own
Python work (the rows as columns, their conversions, the deduplication tokens) per event.
"""

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.projections import touchpoints
from cdp.config import Settings, WarehouseSettings
from cdp.warehouse import Warehouse
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.managed import ManagedServer
from cdp.warehouse.migrations import migrate
from projections.pipeline import Pipeline
from projections.identity import IdentityGraph, resolve
from projections.rules import ProjectionRules


def batch_rows(customers: int) -> tuple[int, dict[str, list[dict]]]:
    """The rows one batch of all these customers' events writes (the first batch of a rebuild)."""
    tps = touchpoints(customers)
    rules = ProjectionRules()
    resolution = resolve(IdentityGraph({}, {}), tps, rules.identity)
    output = Pipeline(rules).project({}, resolution, tps, set(), max(tp.occurred_ms for tp in tps), tps[-1].position)
    return len(tps), dict(output.rows)


def prepared_cpu(warehouse: Warehouse, rows: dict[str, list[dict]], repeat: int) -> float:
    """The median thread CPU seconds of one batch's inserts up to the driver, the driver's own call
    left out (its encoding and the server's answer are timed by the writes above)."""
    driver = warehouse._call
    warehouse._call = lambda *args, **kwargs: None  # type: ignore[method-assign]
    try:
        times = []
        for _ in range(repeat):
            started = time.thread_time()
            for table, table_rows in rows.items():
                warehouse.insert(table, table_rows)
            times.append(time.thread_time() - started)
    finally:
        warehouse._call = driver  # type: ignore[method-assign]
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    events, rows = batch_rows(args.customers)
    print(f"one batch: {events:,} events, {sum(map(len, rows.values())):,} rows in {sum(1 for r in rows.values() if r)} tables")
    workdir = Path(tempfile.mkdtemp(prefix="cdp-bench-writes-"))
    warehouses = {n: open_warehouse(Settings(data_dir=workdir, warehouse=WarehouseSettings(insert_connections=n))) for n in (1, 4)}
    seconds: dict[int, list[float]] = {n: [] for n in warehouses}
    try:
        migrate(warehouses[1])
        for _ in range(args.repeat):
            for n, warehouse in warehouses.items():
                seconds[n].append(timed_write(warehouse, rows))
        for n, times in seconds.items():
            print(f"insert_connections = {n}: median {1000 * statistics.median(times):,.0f} ms a batch ({events / statistics.median(times):,.0f} events/s of writes)")
        ratios = [one / four for one, four in zip(seconds[1], seconds[4], strict=True)]
        print(f"1 ÷ 4 connections, pair by pair: median {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})")
        print(f"the inserts' Python work up to the driver (columns, conversions, deduplication tokens): {1e6 * prepared_cpu(warehouses[1], rows, args.repeat) / events:.1f} µs CPU per event")
    finally:
        for warehouse in warehouses.values():
            warehouse.close()
        ManagedServer.of(Settings(data_dir=workdir)).stop()
        shutil.rmtree(workdir, ignore_errors=True)


def timed_write(warehouse: Warehouse, rows: dict[str, list[dict]]) -> float:
    """Seconds to write ``rows`` into emptied tables (emptied, or the server would drop a second copy
    of the same rows by their deduplication tokens)."""
    for table in rows:
        warehouse.execute(f"TRUNCATE TABLE `{warehouse.database}`.`{table}`")
    started = time.perf_counter()
    warehouse.insert_tables(rows)
    return time.perf_counter() - started

if __name__ == "__main__":
    main()
