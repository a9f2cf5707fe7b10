"""What the query sandbox adds to a `cdp sql` query: its first check (which also reads the function
catalogue, once per sandbox) and every later check, on the embedded warehouse.

    python -m benchmarks.sql_sandbox [--data-dir DIR] [--repeat 200] [--server]

Prints the median time of the check alone (``QuerySandbox.check``: one ``parseQueryToJSON`` round
trip and the walk of the syntax tree) per query shape, and the first check's time. ``--server``
measures the same on a ClickHouse 26.9 server started from chdb-core (the test fixture).
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from cdp.config import WarehouseSettings
from cdp.warehouse.backends import open_warehouse
from cdp.warehouse.migrations import migrate
from cdp.warehouse.sandbox import QuerySandbox

QUERIES = {
    "short": "SELECT count() FROM cdp.events",
    "README example": "SELECT lifecycle_stage, count() AS customers, round(avg(revenue), 2) AS avg_revenue FROM cdp.profiles FINAL GROUP BY lifecycle_stage ORDER BY customers DESC",
    "join + window + CTE": (
        "WITH buyers AS (SELECT customer_id FROM cdp.profiles FINAL WHERE orders > 0) "
        "SELECT e.event_type, count() AS n, rank() OVER (ORDER BY count() DESC) AS r FROM cdp.events AS e "
        "JOIN (SELECT * FROM cdp.consent_changes FINAL WHERE purpose = 'email_marketing') AS c ON c.customer_id = e.customer_id "
        "WHERE e.customer_id IN buyers GROUP BY e.event_type UNION ALL SELECT 'all', count(), 0 FROM cdp.events"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a data directory (default: a new, empty warehouse)")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--server", action="store_true", help="also measure on a ClickHouse server (started from chdb-core)")
    args = parser.parse_args()
    path = args.data_dir / "warehouse" if args.data_dir else Path(tempfile.mkdtemp(prefix="cdp-sandbox-")) / "warehouse"
    measure("chdb", WarehouseSettings(), path, args.repeat)
    if args.server:
        from tests.services.clickhouse import clickhouse_server

        with clickhouse_server() as server:
            measure("clickhouse server", WarehouseSettings(backend="clickhouse", host=server.host, port=server.port), path, args.repeat)


def measure(backend: str, settings: WarehouseSettings, path: Path, repeat: int) -> None:
    warehouse = open_warehouse(settings, path)
    migrate(warehouse)
    warehouse.make_read_only()
    sandbox = QuerySandbox(warehouse)
    started = time.perf_counter()
    sandbox.check(QUERIES["short"])
    print(f"[{backend}] first check (reads the function catalogue): {1000 * (time.perf_counter() - started):.1f} ms")
    for name, sql in QUERIES.items():
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            sandbox.check(sql)
            times.append(time.perf_counter() - started)
        print(f"[{backend}] check, {name} ({len(sql)} chars): {1000 * statistics.median(times):.2f} ms median")
    warehouse.close()


if __name__ == "__main__":
    main()
