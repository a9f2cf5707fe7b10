"""A worker's faust app with an agent that only unpacks and counts: faust's own CPU per event.

Run by ``benchmarks.scaleout --stages faust`` as a process of its own (faust's worker owns its
process), settings from ``CDP_*`` variables like ``cdp worker``. ``--count N``: the events on the
topic (in the relay's chunks); the first batch is not timed (group join, first fetch). ``--faust-consumer``: faust's own
consumer instead of ``cdp.scaleout.delivery``'s, to compare the two in one run. Prints one JSON
line: the CPU per event of the process and of each of its threads.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import faust
import orjson
from faust.transport.drivers import aiokafka

from benchmarks.proc_cpu import stat_cpu_seconds
from cdp.config import load_settings
from cdp.scaleout import batching, delivery
from cdp.scaleout.worker import faust_app


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each thread of this process (/proc/self/task/*/stat, fields 14 and 15)."""
    return {task.name: stat_cpu_seconds(task / "stat") for task in Path("/proc/self/task").iterdir()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--faust-consumer", action="store_true")
    args = parser.parse_args()
    if args.faust_consumer:
        delivery.Transport.Consumer = aiokafka.Consumer  # this process only: the comparison's other side
    settings = load_settings()
    kafka = settings.kafka
    app, topic = faust_app(settings)
    seen, start = 0, None

    @app.agent(topic)
    async def drain(stream: faust.StreamT) -> None:
        nonlocal seen, start
        async for by_partition in batching.take(stream, kafka.worker_batch, within=kafka.worker_batch_seconds):
            seen += sum(map(len, by_partition.values()))
            if start is None:
                start, first, threads = time.process_time(), seen, thread_cpu()
            elif seen >= args.count:
                timed = seen - first
                after = thread_cpu()
                per_thread = sorted((round(1e6 * (after[t] - threads.get(t, 0.0)) / timed, 1) for t in after), reverse=True)
                report = {"consumer": "faust" if args.faust_consumer else "delivery", "events": timed, "cpu_us_per_event": round(1e6 * (time.process_time() - start) / timed, 1), "threads_us_per_event": [c for c in per_thread if c], "load_average": os.getloadavg()}
                sys.__stdout__.write(orjson.dumps(report).decode() + "\n")  # faust redirects sys.stdout to its log
                sys.__stdout__.flush()
                os._exit(0)

    faust.Worker(app, loglevel="warning", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
