"""How the event store's append cost grows with the number of events stored.

Appends ``--events`` events (bodies of a sealed collector event's size, ids as the collector makes
them) through ``open_event_store`` in writes of ``--write`` events, as the collector's group writer
does, and prints CPU and wall time per event for each slice of the store's growth:

    .venv/bin/python -m benchmarks.eventstore_insert [--events 600000] [--write 1000] [--backend postgres]

Event ids are hashes, so every insert lands on a random page of the primary-key index: the cost per
event rises as the index outgrows the page cache and each commit rewrites more pages.
``--backend postgres`` appends to a throwaway PostgreSQL server (Debian's package, as the tests'),
the scale-out deployment's store; the CPU is this process's, the server's is not counted.
"""

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cdp.config import Settings, load_settings
from cdp.eventstore import open_event_store
from tests.services.postgres import postgres_server

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
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    writes = args.events // args.write
    per_slice = max(1, writes // args.slices)
    with store_settings(args.backend) as (settings, _):
        store = open_event_store(settings)
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


@contextmanager
def store_settings(backend: str) -> Iterator[tuple[Settings, dict[str, str]]]:
    """Settings of a fresh data directory whose event store is ``backend`` (PostgreSQL: a throwaway
    server), and the environment variables that select that store for a ``cdp`` command."""
    with tempfile.TemporaryDirectory(prefix="cdp-insert-", dir=Path.cwd()) as tmp:  # the project's disk, not a tmpfs
        data_dir = Path(tmp) / "data"
        if backend == "sqlite":
            yield load_settings(data_dir=data_dir), {}
            return
        with postgres_server() as pg:
            yield load_settings(data_dir=data_dir, event_store={"backend": "postgres", "postgres": pg.__dict__}), pg.event_store_environment()


if __name__ == "__main__":
    main()
