"""Collector throughput: durable events/s and request latency over loopback.

Starts `cdp serve --no-follow` in its own process on a fresh data directory, then drives it from
this process with keep-alive HTTP/1.1 connections (plain asyncio streams, so the client costs
little CPU): first /v1/batch requests of 100 events, then single-event /v1/track requests.
Every acknowledged event is durable (the collector answers after its write commits); the event
store is counted at the end to prove it.

    .venv/bin/python -m benchmarks.collector [--seconds 10] [--connections 16] [--batch 100] [--workers 1] [--prefill 0] [--backend postgres]

``--backend postgres``: the event store is a throwaway PostgreSQL server (Debian's package, as the
tests'), the scale-out deployment's; the server CPU figure is the collector's alone, not PostgreSQL's.
"""

import argparse
import asyncio
import base64
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from benchmarks.eventstore_insert import rows, store_settings
from cdp.config import Settings
from cdp.eventstore import open_event_store
from tests.cli import CDP, environment
from tests.services.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
EVENT = (
    b'{"type":"track","event":"Product Viewed","anonymousId":"anon-%d","messageId":"%s-%d",'
    b'"timestamp":"2025-11-20T09:00:00.000Z","properties":{"product_id":"p-%d","name":"Walking shoe","price":59.9,"currency":"CNY","category":"shoes"},'
    b'"context":{"library":{"name":"analytics-python","version":"2.4.0"},"ip":"10.0.0.1","userAgent":"Mozilla/5.0"},"integrations":{}}'
)


def start_collector(env: dict[str, str], port: int, workers: int) -> tuple[subprocess.Popen, str]:
    env = dict(env)
    if workers != 1:
        env["CDP_COLLECTOR__WORKERS"] = str(workers)
    added = subprocess.run([*CDP, "sources", "add", "bench", "--kind", "website"], capture_output=True, env=env, check=True, cwd=ROOT)
    key = added.stdout.decode().strip().splitlines()[-1]
    server = subprocess.Popen([*CDP, "serve", "--no-follow", "--port", str(port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if listeners(port) >= workers:  # connections made before a worker listens all go to the others, for good (keep-alive)
            return server, key
        time.sleep(0.1)
    server.kill()
    raise SystemExit(f"the collector did not start {workers} listening worker(s)")


def listeners(port: int) -> int:
    """Sockets listening on ``port`` (``/proc/net/tcp``, Linux): one per collector worker."""
    suffix = f":{port:04X}"
    with open("/proc/net/tcp") as table:
        sockets = [line.split() for line in table][1:]
    return sum(1 for socket in sockets if socket[1].endswith(suffix) and socket[3] == "0A")


class Load:
    def __init__(self, port: int, key: str, path: str, per_request: int, tag: str):
        self.port, self.path, self.per_request, self.tag = port, path, per_request, tag.encode()
        self.auth = base64.b64encode(f"{key}:".encode())
        self.sequence = 0
        self.latencies: list[float] = []
        self.acknowledged = 0
        self.refused: dict[int, int] = {}

    def body(self) -> bytes:
        events = []
        for _ in range(self.per_request):
            self.sequence += 1
            n = self.sequence
            events.append(EVENT % (n % 5000, self.tag, n, n % 300))
        if self.path == "/v1/track":
            return events[0]
        return b'{"batch":[' + b",".join(events) + b'],"sentAt":"2025-11-20T09:00:01.000Z"}'

    def request(self) -> bytes:
        body = self.body()
        head = f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
        return head + b"Authorization: Basic " + self.auth + b"\r\n\r\n" + body

    async def connection(self, until: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            while time.perf_counter() < until:
                payload = self.request()
                started = time.perf_counter()
                writer.write(payload)
                status, length = await read_head(reader)
                await reader.readexactly(length)
                self.latencies.append(time.perf_counter() - started)
                if status == 200:
                    self.acknowledged += self.per_request
                else:
                    self.refused[status] = self.refused.get(status, 0) + 1
        finally:
            writer.close()

    async def run(self, seconds: float, connections: int) -> float:
        started = time.perf_counter()
        await asyncio.gather(*(self.connection(started + seconds) for _ in range(connections)))
        return time.perf_counter() - started


async def read_head(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
    return status, length


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and all its live descendants, from /proc (Linux)."""
    parents, used = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # it exited meanwhile
            parents[int(entry.name)] = int(fields[1])
            used[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime, stime
    tree, frontier = {pid}, [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier and child not in tree]
        tree.update(frontier)
    return sum(used.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


def phase(name: str, load: Load, seconds: float, connections: int, server_pid: int) -> None:
    """Runs one load phase and prints throughput, latency and the CPU each side spent per event.

    The CPU figures do not depend on how busy the machine is: on an otherwise idle machine the
    server and this client together could not go faster than ``cores / (server + client µs)``.
    """
    server_before, client_before = cpu_seconds(server_pid), time.process_time()
    elapsed = asyncio.run(load.run(seconds, connections))
    server_cpu, client_cpu = cpu_seconds(server_pid) - server_before, time.process_time() - client_before
    ms = sorted(x * 1000 for x in load.latencies)
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    refused = f", refused {load.refused}" if load.refused else ""
    events = max(load.acknowledged, 1)
    server_us, client_us = server_cpu / events * 1e6, client_cpu / events * 1e6
    print(
        f"{name:<16} {load.acknowledged / elapsed:>8,.0f} durable events/s  {len(ms) / elapsed:>7,.0f} requests/s  "
        f"p50 {p(0.50):6.1f} ms  p99 {p(0.99):6.1f} ms  ({load.acknowledged:,} events in {elapsed:.1f}s{refused})\n"
        f"{'':<16} CPU per event: server {server_us:5.1f} µs, client {client_us:5.1f} µs; "
        f"CPU-bound ceiling on {os.cpu_count()} idle cores: {os.cpu_count() * 1e6 / (server_us + client_us):,.0f} events/s "
        f"(server alone: {os.cpu_count() * 1e6 / server_us:,.0f})"
    )


def admin_key(env: dict[str, str]) -> str:
    """An admin read key: ``/health`` shows its numbers only to one."""
    created = subprocess.run([*CDP, "keys", "create", "bench-admin", "--scope", "admin"], capture_output=True, env=env, check=True, cwd=ROOT)
    return created.stdout.decode().strip().splitlines()[-1]


async def health(port: int, key: str) -> dict:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n".encode())
    _, length = await read_head(reader)
    body = await reader.readexactly(length)
    writer.close()
    return json.loads(body)


def prefill(settings: Settings, events: int) -> None:
    """Stores ``events`` events first: appending costs more as the store grows (benchmarks.eventstore_insert)."""
    store = open_event_store(settings)
    try:
        for first in range(0, events, 5000):
            store.append(rows(first, min(5000, events - first)))
    finally:
        store.close()


def stored_events(settings: Settings) -> int:
    """The last position: every store's positions run 1, 2, ... with no gap while nothing fails."""
    store = open_event_store(settings)
    try:
        return store.last_position()
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1, help="collector processes (collector.workers)")
    parser.add_argument("--prefill", type=int, default=0, help="events stored before the collector starts (a store in use)")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite", help="the event store")
    args = parser.parse_args()
    with store_settings(args.backend) as (settings, store_environment):
        env, port = environment(settings.data_dir, store_environment), free_port()
        if args.prefill:
            started = time.perf_counter()
            prefill(settings, args.prefill)
            print(f"prefilled the event store with {args.prefill:,} events in {time.perf_counter() - started:.0f}s")
        server, key = start_collector(env, port, args.workers)
        try:
            load = " ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"collector pid {server.pid} on 127.0.0.1:{port}; {os.cpu_count()} cores, load average {load}; {args.workers} worker(s); {args.connections} connections; {args.seconds:.0f}s per phase; event store: {args.backend}")
            batch = Load(port, key, "/v1/batch", args.batch, "b")
            phase(f"/v1/batch x{args.batch}", batch, args.seconds, args.connections, server.pid)
            track = Load(port, key, "/v1/track", 1, "t")
            phase("/v1/track x1", track, args.seconds, args.connections, server.pid)
            writes = asyncio.run(health(port, admin_key(env)))["writes"]
            print(f"{len(batch.latencies) + len(track.latencies):,} requests; the worker that answered /health wrote its share in {writes:,} shared transactions (group commit)")
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)
        in_store = stored_events(settings) - args.prefill
        acknowledged = batch.acknowledged + track.acknowledged
        print(f"event store holds {in_store:,} events besides the prefill; {acknowledged:,} were acknowledged: {'OK' if in_store == acknowledged else 'MISMATCH'}")


if __name__ == "__main__":
    main()
