"""Throughput of the demo's two stages on the embedded default, one figure per line.

    .venv/bin/python benchmarks/pipeline.py [--customers 10000] [--batch-size 2000]

ingest: JSON Lines → validation → durable SQLite append (what `cdp ingest` does).
process: event log → identity, profile, lifecycle → chDB (what `cdp run` does).
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

import orjson

from cdp.config import load_settings
from cdp.platform import Platform
from cdp.workload import generate
from ingestion.jsonl import import_lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        lines = [orjson.dumps(e) for e in generate(args.customers)]
        source = Path(tmp) / "events.jsonl"
        source.write_bytes(b"\n".join(lines) + b"\n")
        settings = load_settings(data_dir=Path(tmp) / "data", batch_size=args.batch_size)
        with Platform(settings) as platform:
            platform.warehouse  # open and migrate before timing
            with source.open("rb") as handle:
                started = time.perf_counter()
                report = import_lines(handle, platform, source.name, args.batch_size)
                ingest_s = time.perf_counter() - started
            started = time.perf_counter()
            processed = platform.runner.run()
            process_s = time.perf_counter() - started

    print(f"events: {report.stored:,} ({args.customers:,} customers, batch {args.batch_size:,})")
    print(f"ingest: {report.stored / ingest_s:,.0f} events/s ({ingest_s:.2f} s)")
    print(f"process: {processed / process_s:,.0f} events/s ({process_s:.2f} s)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
