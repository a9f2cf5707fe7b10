"""Tag definitions applied as data (`cdp tags apply`) against a full rebuild, on the demo.

    python -m benchmarks.tags [--data-dir /tmp/bench-tags] [--customers 10000]

Loads the demo (10,000 customers, ~132k events, a fixed end date so every run has the same data)
into the data directory unless it holds events already, then times, on the same data: a dry run of
a change (``active_days`` moved by a day and a new ``big_spender`` tag), applying it (the tag
projection alone, from the facts in projection state), and a full rebuild of every projection from
the log under the same rules. It checks that the tag tables read the same after the apply and after
the rebuild (every column but the version), and prints each time and the speed-up.
"""

import argparse
import time
from datetime import date
from pathlib import Path

import orjson

from cdp.config import load_settings
from cdp.platform import Platform
from cdp.rebuild import rebuild
from cdp.services import operator
from cdp.services.tags import TagService
from cdp.workload import generate
from ingestion.jsonl import import_lines

END = date(2026, 12, 1)
TAG_TABLES = (
    "SELECT customer_id, tags, toString(tags_since) FROM cdp.customer_tags FINAL ORDER BY customer_id",
    "SELECT customer_id, tag, at, change FROM cdp.tag_changes FINAL ORDER BY customer_id, tag, at",
)


def tag_rows(platform: Platform) -> list[list[dict]]:
    return [platform.warehouse.query(sql) for sql in TAG_TABLES]


def timed(work):
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/bench-tags"))
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    with Platform(load_settings(data_dir=args.data_dir)) as platform:
        if platform.events.last_position() == 0:
            _, seconds = timed(lambda: import_lines((orjson.dumps(e) for e in generate(args.customers, seed=7, end=END)), platform, "demo", platform.settings.batch_size))
            processed, run_seconds = timed(platform.runner.run)
            print(f"demo loaded: {processed:,} events, ingested in {seconds:.1f} s, projected in {run_seconds:.1f} s")
        events = platform.events.last_position()
        service = TagService(platform, operator())
        active = platform.tag_definitions.rules(platform.settings.tags).active_days
        change = {"active_days": active + 1 if active <= 90 else active - 1, "rules": [{"tag": "big_spender", "all": [{"feature": "revenue", "op": ">=", "value": 3000, "within_days": 365}]}]}
        found, dry_seconds = timed(lambda: service.dry_run(change))
        shifts = ", ".join(f"{t['tag']} +{t['now']['gain']}/-{t['now']['lose']}" for t in found["tags"])
        applied, apply_seconds = timed(lambda: service.apply(change))
        after_apply = tag_rows(platform)
        _, rebuild_seconds = timed(lambda: rebuild(platform, []))
        same = tag_rows(platform) == after_apply
    print(f"data: {events:,} events, {found['customers']:,} customers (as of {found['as_of']})")
    print(f"dry run:      {dry_seconds:6.2f} s  ({shifts})")
    print(f"apply:        {apply_seconds:6.2f} s  (version {applied['version']}, tags {', '.join(applied['tags'])}; retag itself {applied['seconds']:.2f} s)")
    print(f"full rebuild: {rebuild_seconds:6.2f} s  ({rebuild_seconds / apply_seconds:.1f}x the apply)")
    print(f"tag tables identical after apply and after the rebuild: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
