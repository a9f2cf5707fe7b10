"""The console's server time per page, and the segment builder's count refresh, on a loaded data directory.

    cdp demo --customers 85000 --data-dir /tmp/bench1m      # ~1M events through the real pipeline, once
    python -m benchmarks.console --data-dir /tmp/bench1m [--repeat 5]

The console runs in this process as ``cdp serve`` builds it (the server app, the console mounted
at ``/``), driven through ASGI without a socket, so a figure is the server's own time for the
request: the services' queries, rendering and the audit records, not the network nor the browser.
Each page is asked once to warm up, then ``--repeat`` times; the median and the slowest are
printed against the issue's targets (a page < 300 ms, a count refresh < 500 ms). The benchmark
signs in with its own admin read key (``bench-console``, created once) and saves one segment
(``bench_console``) for the saved-segment page.
"""

import argparse
import os
import re
import statistics
import time
from urllib.parse import quote

from fastapi.testclient import TestClient

from cdp.api.app import create_app
from cdp.api.server import build_collector
from cdp.config import load_settings
from cdp.console.dashboards import DASHBOARDS
from cdp.platform import Platform
from cdp.segments.model import parse_segment

KEY = "bench-console"
SEGMENT = parse_segment({"name": "bench_console", "where": {"all": [{"field": "lifecycle_stage", "op": "=", "value": "at_risk"}, {"field": "revenue", "op": ">", "value": 500}]}})
BUILDER = {"rows": "2", "combine": "all", "field-0": "lifecycle_stage", "op-0": "=", "value-0": "at_risk", "field-1": "revenue", "op-1": ">", "value-1": "500"}
PAGE_TARGET_MS, COUNT_TARGET_MS = 300, 500


def signed_in(client: TestClient, token: str) -> str:
    form = client.get("/signin").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form).group(1)
    client.post("/signin", data={"csrf": csrf, "key": token})
    return re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/segments/new").text).group(1)


def timed(ask, repeat: int) -> tuple[float, float]:
    """Median and slowest wall time in ms, after one warm-up; every answer must be a 200."""
    ask()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        status = ask().status_code
        times.append((time.perf_counter() - start) * 1000)
        assert status == 200, status
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with Platform(load_settings(data_dir=args.data_dir)) as platform:
        if platform.read_keys.by_name(KEY) is not None:
            platform.read_keys.revoke(KEY)
        token = platform.read_keys.create(f"{KEY}-{int(time.time())}", ["admin"])[1]
        if SEGMENT.name not in {s["name"] for s in platform.segments.list()}:
            platform.segments.create(SEGMENT, "benchmark")
        events = platform.events.last_position()
        db = platform.warehouse.database
        customers = platform.warehouse.query(f"SELECT count() AS n FROM `{db}`.profiles FINAL")[0]["n"]
        # the customer with the median number of events among those with an email, and the one with the most
        found = platform.warehouse.query(f"SELECT emails[1] AS e, events_total AS n FROM `{db}`.profiles FINAL WHERE length(emails) > 0 ORDER BY events_total, customer_id")
        typical, busiest = found[len(found) // 2], found[-1]
        client = TestClient(create_app(build_collector(platform), platform), base_url="http://127.0.0.1")
        csrf = signed_in(client, token)
        customer_pages = [f"/customer{part}?id={quote(c['e'])}" for c in (typical, busiest) for part in ("", "/identity", "/timeline")]
        pages = ["/customers", "/customers?stage=at_risk&tier=vip", "/customers?segment=bench_console", *customer_pages, "/segments", "/segments/new",
                 f"/segments/{SEGMENT.name}", "/tags", *(f"/dashboards/{d}" for d in DASHBOARDS), "/operations", "/operations/audit",
                 "/activation/destinations", "/activation/audiences", "/activation/triggers", "/activation/deliveries", f"/customer/messages?id={quote(typical['e'])}"]
        print(f"console on {events:,} events, {customers:,} customers; ms, median and slowest of {args.repeat} after a warm-up")
        print(f"customer pages: a typical customer ({typical['n']} events), then the busiest ({busiest['n']} events)")
        slow = []
        for page in pages:
            median, slowest = timed(lambda: client.get(page), args.repeat)
            slow += [page] if median >= PAGE_TARGET_MS else []
            print(f"  {page[:60]:<60} {median:8.1f} {slowest:8.1f}{'  over 300 ms' if median >= PAGE_TARGET_MS else ''}")
        median, slowest = timed(lambda: client.post("/segments/count", data=BUILDER, headers={"X-CSRF-Token": csrf, "HX-Request": "true"}), args.repeat)
        print(f"  {'segment count refresh (2 conditions, htmx)':<60} {median:8.1f} {slowest:8.1f}{'  over 500 ms' if median >= COUNT_TARGET_MS else ''}")
        print(f"pages over {PAGE_TARGET_MS} ms: {', '.join(slow) or 'none'}")
        print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{load:.1f}' for load in os.getloadavg())}; the machine's other work slows every figure")


if __name__ == "__main__":
    main()
