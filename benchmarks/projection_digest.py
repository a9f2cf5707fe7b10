"""A digest of everything the projections produce, to show a speed change changed nothing.

    python -m benchmarks.projection_digest [--customers 4000] [--profile FILE]

Runs the demo workload (``cdp.workload.generate``, fixed end date) through the pure projections in
batches, as ``benchmarks.projections`` does, and prints one hash of every row written (in the order
written, per table) and one of every profile's stored state, with the process CPU per event. Two
commits giving the same digests wrote the same rows and saved the same states byte for byte.
"""

import argparse
import cProfile
import hashlib
import os
import time
from datetime import date

import orjson

from cdp.gc_pause import collector_paused
from cdp.workload import generate
from projections.pipeline import Pipeline
from projections.replay import Replay
from projections.rules import ProjectionRules
from projections.tables import Table
from projections.touchpoint import Touchpoint
from schemas import parse_envelope

BATCH = 5_000
END = date(2026, 1, 1)  # fixed, so the digest does not move with the calendar


class DigestReplay(Replay):
    """A replay that also hashes each batch's rows, in the order the pipeline wrote them."""

    def __init__(self, pipeline: Pipeline):
        super().__init__(pipeline)
        self.row_hash = hashlib.blake2b(digest_size=16)
        self.rows = 0

    def _write(self, table: Table, rows: list[dict]) -> None:
        self.row_hash.update(table.name.encode())
        for row in rows:
            self.row_hash.update(orjson.dumps(row, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
        self.rows += len(rows)
        super()._write(table, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=4_000)
    parser.add_argument("--profile", help="write a cProfile of the replay to this file")
    args = parser.parse_args()
    tps = []
    for position, event in enumerate(generate(args.customers, end=END), start=1):
        event["received_at"] = event["occurred_at"]
        tps.append(Touchpoint(position, parse_envelope(event).model_dump(mode="json")))
    rules = ProjectionRules()
    Replay(Pipeline(rules)).run(tps[:2_000], BATCH)  # warms what is loaded once per process (the segmentation dictionary)
    replay = DigestReplay(Pipeline(rules))
    profiler = cProfile.Profile() if args.profile else None
    started = time.process_time()
    with collector_paused():
        if profiler:
            profiler.enable()
        replay.run(tps, BATCH)
        if profiler:
            profiler.disable()
    cpu = time.process_time() - started
    if profiler:
        profiler.dump_stats(args.profile)
    states = hashlib.blake2b(digest_size=16)
    for customer in sorted(replay.profiles):
        states.update(customer.encode() + replay.profiles[customer])
    print(f"events {len(tps):,}, rows {replay.rows:,}, profiles {len(replay.profiles):,}")
    print(f"rows digest   {replay.row_hash.hexdigest()}")
    print(f"states digest {states.hexdigest()}")
    print(f"CPU {cpu:.2f} s, {1e6 * cpu / len(tps):.1f} µs/event (load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
