"""A throwaway PostgreSQL server for the tests, from Debian's ``postgresql`` package.

Started in a temporary directory on a free loopback port, stopped at the end of the session.
Missing binaries fail the test with the command that installs them.
"""

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services.ports import free_port

INSTALL_HINT = "PostgreSQL is not installed: run `apt-get update && apt-get install -y postgresql` (or `make test`, which does it)"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    dbname: str
    user: str
    password: str

    def event_store_environment(self) -> dict[str, str]:
        """What selects this server's database as a platform's event store (``CDP_EVENT_STORE__*``)."""
        return {
            "CDP_EVENT_STORE__BACKEND": "postgres",
            "CDP_EVENT_STORE__POSTGRES__HOST": self.host,
            "CDP_EVENT_STORE__POSTGRES__PORT": str(self.port),
            "CDP_EVENT_STORE__POSTGRES__DBNAME": self.dbname,
            "CDP_EVENT_STORE__POSTGRES__USER": self.user,
            "CDP_EVENT_STORE__POSTGRES__PASSWORD": self.password,
        }


def _binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise RuntimeError(INSTALL_HINT)
    return found


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; drop to the ``postgres`` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="cdp-pg-"))
    data, socket_dir = root / "data", root / "socket"
    socket_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(socket_dir, "postgres")
    password = "cdp-test-password"
    pwfile = root / "pw"
    pwfile.write_text(password)
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres")
    port = free_port()
    run = lambda args: subprocess.run(_as_postgres(args), check=True, capture_output=True, timeout=120)  # noqa: E731
    run([initdb, "-D", str(data), "-U", "cdp", "--pwfile", str(pwfile), "-A", "scram-sha-256", "--no-sync"])
    options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
    run([pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "-t", "60", "start"])
    try:
        env = os.environ | {"PGPASSWORD": password}
        subprocess.run([_binary("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "cdp", "-d", "postgres", "-c", "CREATE DATABASE cdp"], check=True, capture_output=True, env=env, timeout=60)
        yield PostgresServer("127.0.0.1", port, "cdp", "cdp", password)
    finally:
        subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
