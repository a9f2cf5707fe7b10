"""The collector's memory under large requests: peak RSS while many connections send big batches.

Starts `cdp serve --no-follow` (one process) on a fresh data directory, then keeps ``--connections``
keep-alive connections each sending ``/v1/batch`` requests of ``--events`` events of
``--event-bytes`` bytes (by default five events of 1 MB: about the largest a request and an event may
be) for ``--seconds``, waiting a second after a 429 as the SDKs do, and prints the answers by
status, the megabytes stored per second and the collector's peak resident memory.
What a process may hold is bounded by ``collector.max_body_bytes_held`` (past it: 429).

    .venv/bin/python -m benchmarks.collector_memory [--connections 200] [--seconds 30] [--events 5] [--event-bytes 1000000]
"""

import argparse
import asyncio
import base64
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.collector import read_head, start_collector
from benchmarks.proc_cpu import peak_rss_mib
from tests.cli import environment
from tests.services.ports import free_port

RETRY_AFTER = 1  # seconds: collector.retry_after_seconds' default


async def connection(port: int, key: str, events: int, event_bytes: int, until: float, statuses: Counter, name: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    auth = base64.b64encode(f"{key}:".encode()).decode()
    blob = "x" * event_bytes
    sent = 0
    try:
        while time.monotonic() < until:
            sent += 1
            batch = ",".join(f'{{"type":"track","event":"Big","anonymousId":"a{name}","messageId":"{name}-{sent}-{i}","properties":{{"blob":"{blob}"}}}}' for i in range(events))
            body = f'{{"batch":[{batch}]}}'.encode()
            head = f"POST /v1/batch HTTP/1.1\r\nHost: bench\r\nAuthorization: Basic {auth}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            writer.write(head.encode() + body)
            await writer.drain()
            status, length = await read_head(reader)
            await reader.readexactly(length)
            statuses[status] += 1
            if status == 429:
                await asyncio.sleep(RETRY_AFTER)  # as the SDKs do: the answer's Retry-After
    finally:
        writer.close()


async def load(port: int, key: str, args: argparse.Namespace) -> Counter:
    statuses: Counter = Counter()
    until = time.monotonic() + args.seconds
    await asyncio.gather(*(connection(port, key, args.events, args.event_bytes, until, statuses, n) for n in range(args.connections)))
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--events", type=int, default=5, help="events per request")
    parser.add_argument("--event-bytes", type=int, default=1_000_000, help="bytes of each event's one property")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cdp-bench-") as tmp:
        port = free_port()
        server, key = start_collector(environment(Path(tmp) / "data"), port, 1)
        try:
            started = peak_rss_mib(server.pid)
            statuses = asyncio.run(load(port, key, args))
            peak = peak_rss_mib(server.pid)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(60)
    answers = ", ".join(f"{status}: {count:,}" for status, count in sorted(statuses.items()))
    stored_mb = statuses[200] * args.events * args.event_bytes / 1e6
    print(f"{args.connections} connections, {args.seconds:.0f}s of requests of {args.events} x {args.event_bytes:,} bytes: answers {answers}; {stored_mb / args.seconds:,.0f} MB/s stored")
    print(f"collector process resident memory: {started:,} MiB at the start, peak {peak:,} MiB")


if __name__ == "__main__":
    main()
