"""Segment count and analytics latency, and warehouse load rate, on a loaded data directory.

    cdp demo --customers 85000 --data-dir /tmp/bench1m     # ~1M events through the real pipeline, once (~4 min)
    python -m benchmarks.analytics --data-dir /tmp/bench1m [--scale 10] [--profiles 1000000] [--server]

Prints one line per measurement (median of --repeat runs, after one warm-up). ``--scale K`` also
builds, once, a database ``cdp_x<K>`` beside ``cdp`` in the same warehouse holding K copies of every
warehouse row (copy n > 0 of a customer is ``<id>~n``, its log positions shifted past the original
ones; times unchanged, so the same period holds K times the customers) and times everything there
too: with the 1M demo and K = 10, 10M events and 1.27M profiles. The copy is written with INSERT ...
SELECT inside the warehouse (so through the materialized views, as live inserts are); the issue
measures query latency, not projection speed. ``--profiles N`` also copies the current profiles,
tags and value rows into a scratch database until it holds about N customers, and times the
profile-based segments there. ``--server`` repeats the load rate on a ClickHouse 26.9 server started
from chdb-core (the test fixture).
"""

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from cdp.analytics import channels, funnel, lifecycle_flow, retention, revenue, satisfaction, sla
from cdp.analytics.window import window
from cdp.config import WarehouseSettings
from cdp.segments import evaluate
from cdp.segments.model import parse_segment
from cdp.warehouse import Warehouse
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.migrations import migrate
from projections.tables import PROJECTION_TABLES, TABLES

SEGMENTS = {
    "fields: at_risk, revenue > 500, social": {"all": [{"field": "lifecycle_stage", "op": "=", "value": "at_risk"}, {"field": "revenue", "op": ">", "value": 500}, {"field": "channels", "op": "contains", "value": "social"}]},
    "trait: city = Shanghai": {"trait": "city", "op": "=", "value": "Shanghai"},
    "tag + value: promoter and vip": {"all": [{"tag": "promoter"}, {"field": "tier", "op": "=", "value": "vip"}]},
    "behaviour: 2+ orders in 90 days, not churned": {"all": [{"event": "order_placed", "within_days": 90, "at_least": 2}, {"not": {"field": "lifecycle_stage", "op": "=", "value": "churned"}}]},
}
PROFILE_ONLY = [name for name in SEGMENTS if not name.startswith("behaviour")]
ANALYSES: dict[str, Callable[[Warehouse], list]] = {
    "funnel view → product → cart → order (7 days)": lambda w: funnel.funnel(w, ["page_viewed", "product_viewed", "product_added_to_cart", "order_placed"], 7, window(None, None)),
    "retention by monthly cohort": lambda w: retention.retention(w, "month", window(None, None)),
    "lifecycle flow in October": lambda w: lifecycle_flow.lifecycle_flow(w, window("2025-10-01", "2025-11-01")),
    "NPS/CSAT/CSI by month": lambda w: satisfaction.satisfaction_trend(w, "month", window(None, None)),
    "revenue by stage and tier": revenue.revenue_by_stage_and_tier,
    "channel mix by week": lambda w: channels.channel_mix(w, "week", window(None, None)),
    "SLA compliance by month": lambda w: sla.sla_compliance(w, "month", window(None, None)),
}


def timed(work: Callable[[], object], repeat: int) -> str:
    """Median wall time and median CPU time of the process (chDB runs in it: the query's own threads),
    after one warm-up. CPU time barely moves with other load on the machine; wall time does."""
    work()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return f"{statistics.median(walls) * 1000:.0f} ms (cpu {statistics.median(cpus) * 1000:.0f} ms)"


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


# columns naming a customer (or something of one customer): copy n > 0 gets "~n" appended, so copies never merge
COPIED_IDS = ("customer_id", "absorbed", "survivor", "merged_into", "other_customer", "message_id", "ticket_id", "identifier")


def scale_up(warehouse: Warehouse, target: str, copies: int) -> None:
    """Fills database ``target`` (migrated, empty) with ``copies`` copies of every row of ``warehouse``'s tables."""
    source = warehouse.database
    span = warehouse.query(f"SELECT max(position) + 1 AS n FROM `{source}`.events")[0]["n"]
    for table in (*TABLES, *PROJECTION_TABLES):
        changed = [f"if(n.number = 0 OR {c} = '', {c}, concat({c}, '~', toString(n.number))) AS {c}" for c in table.column_names if c in COPIED_IDS]
        if "position" in table.column_names:
            changed.append(f"position + n.number * {span} AS position")
        replace = f" REPLACE ({', '.join(changed)})" if changed else ""
        started = time.perf_counter()
        warehouse.execute(
            f"INSERT INTO `{target}`.`{table.name}` SELECT t.*{replace} FROM `{source}`.`{table.name}` AS t CROSS JOIN numbers({copies}) AS n "
            "SETTINGS max_insert_threads = 2"
        )
        if table.name == "events":
            rows = warehouse.query(f"SELECT count() AS n FROM `{target}`.events")[0]["n"]
            print(f"scale-up [chdb]: {rows:,} events copied at {rows / (time.perf_counter() - started):,.0f} rows/s (INSERT SELECT, through the materialized views)")


def open_scaled(args: argparse.Namespace, source: Warehouse) -> Warehouse:
    """The ``cdp_x<K>`` database, built on first use (kept: delete it with DROP DATABASE to rebuild)."""
    target = open_warehouse(WarehouseSettings(database=f"cdp_x{args.scale}"), args.data_dir / "warehouse")
    migrate(target)
    if not target.query(f"SELECT count() AS n FROM `{target.database}`.events")[0]["n"]:
        scale_up(source, target.database, args.scale)
    return target


def settle(warehouse: Warehouse, quiet_polls: int = 6, limit_seconds: float = 300) -> str:
    """Waits until the warehouse has run no merge for a few polls (migration 13 merges old parts of the
    current-state tables in the background: timing during that merge measures the merge); the profiles parts."""
    deadline, quiet = time.monotonic() + limit_seconds, 0
    while quiet < quiet_polls and time.monotonic() < deadline:
        busy = warehouse.query("SELECT count() AS n FROM system.merges WHERE database = {db:String}", {"db": warehouse.database})[0]["n"]
        quiet = 0 if busy else quiet + 1
        time.sleep(0.5)
    parts = warehouse.query("SELECT count() AS n FROM system.parts WHERE active AND database = {db:String} AND table = 'profiles'", {"db": warehouse.database})
    return f"profiles in {parts[0]['n']} part(s)"


def measure(warehouse: Warehouse, repeat: int, segments_only: bool) -> None:
    """Segment counts and (unless ``segments_only``) every analysis on one database."""
    events = warehouse.query(f"SELECT count() AS n FROM `{warehouse.database}`.events FINAL")[0]["n"]
    print(f"data [{warehouse.database}]: {events:,} events; {settle(warehouse)}; {load()}")
    segment_counts(warehouse, list(SEGMENTS), repeat, "chdb")
    if segments_only:
        return
    for name, analysis in ANALYSES.items():
        print(f"analytics [chdb, {events:,} events] {name}: {timed(lambda a=analysis: a(warehouse), repeat)}")


def segment_counts(warehouse: Warehouse, names: list[str], repeat: int, label: str) -> None:
    size = warehouse.query(f"SELECT count() AS n FROM `{warehouse.database}`.profiles FINAL")[0]["n"]
    for name in names:
        segment = parse_segment({"name": "bench", "where": SEGMENTS[name]})
        members = evaluate.count(warehouse, segment)
        print(f"segment count [{label}, {size:,} profiles] {name}: {timed(lambda s=segment: evaluate.count(warehouse, s), repeat)} ({members:,} customers)")
        print(f"segment members, first 100 [{label}, {size:,} profiles] {name}: {timed(lambda s=segment: evaluate.members(warehouse, s), repeat)}")


def inflate(warehouse: Warehouse, target: int) -> Warehouse:
    """A scratch database ``bench`` holding copies of the profiles (and their tags and value) up to ``target``."""
    copies = max(1, round(target / warehouse.query("SELECT count() AS n FROM cdp.profiles FINAL")[0]["n"]))
    for table in ("profiles", "customer_tags", "customer_value"):
        warehouse.execute(f"DROP TABLE IF EXISTS bench.{table}")
    warehouse.execute("CREATE DATABASE IF NOT EXISTS bench")
    for table in ("profiles", "customer_tags", "customer_value"):
        warehouse.execute(f"CREATE TABLE bench.{table} AS cdp.{table}")
        warehouse.execute(
            f"INSERT INTO bench.{table} SELECT * EXCEPT (number) REPLACE (concat(customer_id, '-', toString(number)) AS customer_id) "
            f"FROM (SELECT * FROM cdp.{table} FINAL) AS t CROSS JOIN numbers({copies}) AS n"
        )
        warehouse.execute(f"OPTIMIZE TABLE bench.{table} FINAL")
    return warehouse


class Scratch:
    """The same chDB session seen through another database name."""

    def __init__(self, warehouse: Warehouse, database: str):
        self._w, self.database = warehouse, database

    def query(self, sql, params=None):
        return self._w.query(sql, params)


def load_rate(source: Warehouse, target: Warehouse, rows: int, batch: int = 5000) -> float:
    """Events per second through ``Warehouse.insert`` (the runner's path), in the runner's batch size."""
    data = source.query(f"SELECT * FROM `{source.database}`.events LIMIT {rows}")
    started = time.perf_counter()
    for i in range(0, len(data), batch):
        target.insert("events", data[i : i + batch])
    return len(data) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profiles", type=int, default=0, help="also time profile segments on about this many profiles")
    parser.add_argument("--load-rows", type=int, default=200_000)
    parser.add_argument("--server", action="store_true", help="also measure a ClickHouse server (started from chdb-core)")
    parser.add_argument("--scale", type=int, default=0, help="also measure a copy of the warehouse this many times larger (built once, kept)")
    parser.add_argument("--segments-only", action="store_true", help="time the segment counts only (no analyses, no load rate)")
    args = parser.parse_args()

    warehouse = open_warehouse(WarehouseSettings(), args.data_dir / "warehouse")
    migrate(warehouse)
    measure(warehouse, args.repeat, args.segments_only)
    if args.scale > 1:
        measure(open_scaled(args, warehouse), args.repeat, args.segments_only)
    try:
        if args.segments_only:
            return
        if args.profiles:
            inflate(warehouse, args.profiles)
            segment_counts(Scratch(warehouse, "bench"), PROFILE_ONLY, args.repeat, "chdb")
        target = open_warehouse(WarehouseSettings(database="bench_load"), args.data_dir / "warehouse")  # chDB: one path per process
        migrate(target)
        print(f"warehouse load [chdb]: {load_rate(warehouse, target, args.load_rows):,.0f} events/s")
        if args.server:
            server_figures(warehouse, args)
    finally:
        for scratch in ("bench", "bench_load"):
            warehouse.execute(f"DROP DATABASE IF EXISTS {scratch}")
        warehouse.close()


def server_figures(warehouse: Warehouse, args: argparse.Namespace) -> None:
    """Load the events (and the profile-side tables) into a ClickHouse server and time the same things there."""
    from tests.services.clickhouse import clickhouse_server

    with clickhouse_server() as server:
        remote = open_warehouse(WarehouseSettings(backend="clickhouse", host=server.host, port=server.port), args.data_dir)
        migrate(remote)
        print(f"warehouse load [clickhouse server]: {load_rate(warehouse, remote, args.load_rows):,.0f} events/s")
        remote.close()


if __name__ == "__main__":
    main()
