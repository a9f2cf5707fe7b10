"""A real ClickHouse 26.9 server for the tests, from the installed ``chdb-core`` wheel.

chDB embeds clickhouse-local, whose full main (reached through the private ``chdb._chdb.query``)
reads ``config.xml`` from the current directory and can open a native TCP listener. A dedicated
subprocess (this module run as a script) does that in a work directory and blocks on a FIFO until
told to stop. One server per test session; a failure to start fails the test with how to fix it.
Users: ``default`` (passwordless, every right) and ``QUERY_USER`` (readonly profile, SELECT on
``cdp.*`` only), for the tests of ``warehouse.query_user``.
"""

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "cannot start the test ClickHouse server from chdb-core: install the pinned wheel "
    "(`.venv/bin/pip install -e '.[test]'`, which brings chdb-core 26.9.0 and clickhouse-driver)"
)
CONFIG = (
    "<clickhouse><tcp_port>0</tcp_port><listen_host>127.0.0.1</listen_host><users_config>users.xml</users_config>"
    "<access_control_improvements><select_from_system_db_requires_grant>true</select_from_system_db_requires_grant></access_control_improvements>"
    "</clickhouse>\n"
)
# ``default`` (passwordless, all rights: the blocking query runs as it) and QUERY_USER, who may only read the database ``cdp``.
QUERY_USER, QUERY_PASSWORD = "cdp_query", "query-secret-1"
USERS = f"""<clickhouse>
<profiles><default/><readonly><readonly>1</readonly></readonly></profiles>
<quotas><default/></quotas>
<users>
  <default><password></password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota><access_management>1</access_management></default>
  <{QUERY_USER}><password>{QUERY_PASSWORD}</password><networks><ip>127.0.0.1</ip></networks><profile>readonly</profile><quota>default</quota>
    <grants><query>GRANT SELECT ON cdp.*</query></grants></{QUERY_USER}>
</users>
</clickhouse>
"""


@dataclass(frozen=True)
class ClickHouseServer:
    host: str
    port: int

    def drop_databases(self) -> None:
        """Drops every database the tests made: a migrated database keeps its ~30 tables' background
        tasks and a refreshable view running, so twenty of them left behind cost an idle server 12 % of
        a core (BENCHMARKS.md, "The suite's CPU")."""
        from clickhouse_driver import Client

        client = Client(self.host, port=self.port)
        try:
            for (name,) in client.execute("SELECT name FROM system.databases WHERE name NOT IN ('system', 'default', 'INFORMATION_SCHEMA', 'information_schema')"):
                client.execute(f"DROP DATABASE IF EXISTS `{name}` SYNC")
        finally:
            client.disconnect()


RUNNING: list[ClickHouseServer] = []  # the servers this test process started and has not stopped


@contextmanager
def clickhouse_server(start_timeout: float = 60) -> Iterator[ClickHouseServer]:
    root = Path(tempfile.mkdtemp(prefix="cdp-ch-"))
    (root / "config.xml").write_text(CONFIG)
    (root / "users.xml").write_text(USERS)
    os.mkfifo(root / "stop")
    log = (root / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, __file__, str(root)], cwd=root, stdout=log, stderr=subprocess.STDOUT)
    server = None
    try:
        server = ClickHouseServer("127.0.0.1", _wait_for_port(root, process, start_timeout))
        RUNNING.append(server)
        yield server
    finally:
        if server in RUNNING:
            RUNNING.remove(server)
        _stop(root, process)
        log.close()
        subprocess.run(["rm", "-rf", str(root)], check=False)


def _wait_for_port(root: Path, process: subprocess.Popen, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    port_file = root / "port"
    while time.monotonic() < deadline:
        text = port_file.read_text() if port_file.exists() else ""
        if text.endswith("\n") and text.strip().isdigit():  # written in full
            return int(text)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    process.wait()
    log = (root / "server.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"{INSTALL_HINT}; server log:\n{log}")


def _stop(root: Path, process: subprocess.Popen) -> None:
    try:
        fd = os.open(root / "stop", os.O_WRONLY | os.O_NONBLOCK)  # fails at once when nobody reads
        os.write(fd, b"stop\n")
        os.close(fd)
        process.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        process.kill()
        process.wait()


def serve(root: Path) -> None:
    """Runs in the subprocess: listen, publish the port, block until the FIFO is written."""
    from chdb import _chdb

    os.chdir(root)
    _chdb.query(
        "SYSTEM START LISTEN TCP; "
        f"SELECT getServerPort('tcp_port') INTO OUTFILE '{root / 'port'}' FORMAT TSV; "
        f"SELECT * FROM file('{root / 'stop'}', 'LineAsString') SETTINGS storage_file_read_method = 'read'",
        "CSV",
        path=str(root / "data"),
    )


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
