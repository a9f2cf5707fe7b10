"""The managed warehouse server's own process: ClickHouse from the chdb-core wheel, serving one data directory.

chDB embeds clickhouse-local, whose full main (the private ``chdb._chdb.query``, so chdb-core is
pinned) reads ``config.xml`` from the current directory and can open native TCP and HTTP
listeners. This process runs one blocking multi-statement query in the server's directory: open
the listeners, tell the platform the ports (the ``listening`` file), then sleep row by row until
the query is killed (``ManagedServer.stop`` or the idle watcher below), and exit. The blocking
query runs as ``default``, which is why that user stays passwordless with only the grants it
needs and one session, this one (docs/bi.md, "Who can connect").

The idle watcher (a thread, a client of its own server) stops the server after
``idle_stop_seconds`` with no other connection, unless the server is pinned (``cdp warehouse start``).
"""

import os
import sys
import threading
import time
from pathlib import Path

from cdp.warehouse import confinement
from cdp.warehouse.managed import BLOCKER, ManagedServer
from cdp.warehouse.statements import quote_string

POLL_SECONDS = 0.5
# the idle watcher looks at the server's connections this often at most (a quarter of idle_stop_seconds
# when that is shorter): each look is a query, some 5 ms of the server's CPU
MAX_LOOK_SECONDS = 2.0
READABLE = [Path("/usr/share/zoneinfo"), Path("/etc/localtime"), Path("/proc/self"), Path("/proc/meminfo"), Path("/proc/stat"), Path("/proc/loadavg"), Path("/proc/cpuinfo"), Path("/sys/fs/cgroup"), Path("/sys/devices/system/cpu")]


def serve(root: Path, data_path: Path, idle_stop_seconds: float, allow_unconfined: bool) -> None:
    server = ManagedServer.at(root)
    os.chdir(server.run_dir)
    from chdb import _chdb

    "localhost".encode("idna")  # the codec every connection's name lookup loads, with its C extension, now: the watcher's first connection loading it while ClickHouse's threads ran deadlocked in dlopen (seen in CI)
    threading.Thread(target=_watch_idle, args=(server, idle_stop_seconds), daemon=True).start()  # before the confinement: it reads the credentials
    endpoint = server.endpoint
    try:
        confinement.confine(read=READABLE, write=[server.run_dir, data_path], ports=[endpoint.tcp_port, endpoint.http_port])
    except confinement.ConfinementUnavailable as error:
        if not allow_unconfined:
            sys.exit(f"{error}: the warehouse server will not run unconfined, where any query could read any file this user can "
                     "(set warehouse.embedded.allow_unconfined = true on a machine only you use, or use your own ClickHouse server)")
        print(f"warning: {error}; running unconfined (warehouse.embedded.allow_unconfined)", file=sys.stderr)
    try:
        _chdb.query(
            "SYSTEM START LISTEN TCP; SYSTEM START LISTEN HTTP; "
            f"SELECT getServerPort('tcp_port'), getServerPort('http_port') INTO OUTFILE {quote_string(str(server.run_dir / 'listening'))} TRUNCATE FORMAT CSV; "
            f"{BLOCKER} SETTINGS max_block_size = 1",
            "TabSeparated",  # also the HTTP interface's default format, which clients such as clickhouse-connect expect
            path=str(data_path),
        )
    except RuntimeError as error:  # the blocker killed: the way this server stops
        if "QUERY_WAS_CANCELLED" not in str(error):
            print(f"the warehouse server stopped: {error}", file=sys.stderr)
            sys.exit(1)


def _watch_idle(server: ManagedServer, idle_stop_seconds: float) -> None:
    while not (server.run_dir / "listening").exists():
        time.sleep(POLL_SECONDS)
    idle_since = time.monotonic()
    client = server.writer_client()
    look_every = min(MAX_LOOK_SECONDS, idle_stop_seconds / 4)
    while True:
        time.sleep(look_every)
        try:
            others = server.client_connections(client) - 1  # this watcher is one of them
        except Exception:  # a transient failure of its own connection: look again
            client.disconnect()
            continue
        if others > 0 or server.pinned:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= idle_stop_seconds:
            print(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} no client for {idle_stop_seconds:g} s: stopping", flush=True)
            server.kill_blocker(client)
            return


if __name__ == "__main__":
    serve(Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "unconfined")
