"""How the key store's cost grows with the number of subjects it holds.

Grows a key store (``cdp.privacy.keystore``) through ``keys_for``, as sealing a batch of events
does: each call brings ``--new`` subjects seen for the first time and ``--seen`` subjects met
before (drawn from all earlier ones, most beyond the store's memory of recent subjects); prints the
CPU and wall time per call's new subject for each slice of the store's growth:

    .venv/bin/python -m benchmarks.keystore_insert [--subjects 1500000] [--new 16000] [--seen 44000] [--ids time|random]

A new subject adds its key to ``data_keys`` and its blind index to ``subjects`` (and ``subjects_key``,
by key id). ``--ids random`` makes key ids as the store did before they were put in time order
(32 random hex digits), for the comparison in BENCHMARKS.md. The defaults are a 60,000-event batch
of ``benchmarks.suite``'s workload, where 0.27 of an event's subjects are new.
"""

import argparse
import random
import secrets
import tempfile
import time
from pathlib import Path

from cdp.privacy import keystore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=1_500_000)
    parser.add_argument("--new", type=int, default=16_000, help="new subjects per call")
    parser.add_argument("--seen", type=int, default=44_000, help="subjects met before, per call")
    parser.add_argument("--slices", type=int, default=5)
    parser.add_argument("--ids", choices=("time", "random"), default="time")
    args = parser.parse_args()
    if args.ids == "random":
        keystore._new_key_id = lambda: secrets.token_hex(16)
    calls = args.subjects // args.new
    per_slice = max(1, calls // args.slices)
    draw = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="cdp-keys-", dir=Path.cwd()) as tmp:  # the project's disk, not a tmpfs
        store = keystore.KeyStore(Path(tmp) / "keys.sqlite", b"k" * 32)
        cpu = wall = 0.0
        for number in range(calls):
            made = number * args.new
            subjects = [f"email:s{n}@example.com" for n in range(made, made + args.new)]
            subjects += [f"email:s{draw.randrange(made)}@example.com" for _ in range(args.seen if made else 0)]
            started, started_cpu = time.perf_counter(), time.process_time()
            store.keys_for(subjects)
            wall += time.perf_counter() - started
            cpu += time.process_time() - started_cpu
            if (number + 1) % per_slice == 0:
                new = per_slice * args.new
                held = (number + 1) * args.new
                print(f"{args.ids} ids, subjects {held - new:>9,} – {held:>9,}: {cpu / new * 1e6:6.1f} µs CPU, {wall / new * 1e6:6.1f} µs wall per new subject")
                cpu = wall = 0.0
        store.close()


if __name__ == "__main__":
    main()
