"""How the SQLite event store's append cost grows with the number of events stored.

Appends ``--events`` events (bodies of a sealed collector event's size, ids as the collector makes
them) through ``open_event_store`` in writes of ``--write`` events, as the collector's group writer
does, and prints CPU and wall time per event for each slice of the store's growth:

    .venv/bin/python -m benchmarks.eventstore_insert [--events 600000] [--write 1000]

Event ids are hashes, so every insert lands on a random page of the primary-key index: the cost per
event rises as the index outgrows the page cache and each commit rewrites more pages.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from cdp.config import load_settings
from cdp.eventstore import open_event_store

BODY_BYTES = 700  # a sealed /v1/batch benchmark event
_BODY = os.urandom(BODY_BYTES // 2).hex().encode()


def rows(first: int, count: int) -> list[tuple[str, str, bytes]]:
    """``count`` events for ``EventStore.append``, numbered from ``first`` (ids hashed as the collector's are)."""
    return [("bench-prefill", f"m-{n}", _BODY) for n in range(first, first + count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=600_000)
    parser.add_argument("--write", type=int, default=1000, help="events per transaction")
    parser.add_argument("--slices", type=int, default=6)
    args = parser.parse_args()
    writes = args.events // args.write
    per_slice = max(1, writes // args.slices)
    with tempfile.TemporaryDirectory(prefix="cdp-insert-", dir=Path.cwd()) as tmp:  # the project's disk, not a tmpfs
        store = open_event_store(load_settings(data_dir=Path(tmp)))
        cpu = wall = 0.0
        for number in range(writes):
            write = rows(number * args.write, args.write)
            started, started_cpu = time.perf_counter(), time.process_time()
            store.append(write)
            wall += time.perf_counter() - started
            cpu += time.process_time() - started_cpu
            if (number + 1) % per_slice == 0:
                events = per_slice * args.write
                stored = (number + 1) * args.write
                print(f"stored {stored - events:>9,} – {stored:>9,}: {cpu / events * 1e6:6.2f} µs/event CPU, {wall / events * 1e6:6.2f} µs/event wall")
                cpu = wall = 0.0
        store.close()


if __name__ == "__main__":
    main()
