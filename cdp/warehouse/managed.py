"""The embedded default's warehouse: a ClickHouse server the platform manages for one data directory.

Whichever process needs the warehouse first (``cdp serve``, ``cdp run``, any command) starts it
from the chdb-core wheel (``cdp.warehouse.server_process``) in its own session, so it outlives
that process; every process, and any BI tool, then connects to its loopback listeners. Starting is
serialised by a lock file, so two processes racing start one server. A server that stopped
answering (crashed, killed, listeners stopped) is started again by the next process that needs it;
nothing is lost, because the warehouse is a projection of the event log and inserts are idempotent.
It stops by itself after ``idle_stop_seconds`` with no client connected (unless pinned by
``cdp warehouse start``), or with ``cdp warehouse stop``.

Files, in ``DATA_DIR/warehouse-server/`` (mode 0700): ``credentials.json`` (0600: the generated
passwords and the ports, chosen once and kept so BI tools keep working across restarts), ``pid``,
``pinned``, ``server.log``, and ``server/``, the only directory the server process may use besides
the data (``confinement``): ``config.xml`` and ``users.xml`` (written at each start, password
hashes only), ``listening`` (written once it listens), its temporary files. The data itself stays
in ``DATA_DIR/warehouse``. The server process gets no secret from the environment.

Users (docs/bi.md): ``cdp`` writes the platform's database; ``cdp_query`` runs SQL a person wrote
(``cdp sql``, through ``QuerySandbox``) and ``cdp_bi`` is for BI tools: both only SELECT on the
platform's database, readonly, with time and memory limits; neither can reach a URL, another
server or a file beyond the server's own (the confinement; docs/bi.md). ``default`` stays passwordless (the server's own blocking query runs as it: a
clickhouse-local session is always ``default``, from 127.0.0.1, without a password), with only the
right to start and stop listeners and read ``system.numbers``, and one session at most, which that
query holds from before the listeners open: any other login as ``default`` is refused, so no local
user reads the data with ``file()`` or stops the listeners to take the port (docs/bi.md).
"""

import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import orjson
from clickhouse_driver import Client

from cdp.errors import WarehouseUnavailable
from cdp.process_lock import ProcessLock

if TYPE_CHECKING:  # not imported at run time: the server's own process needs no settings, and importing them (pydantic, every projection's rules) cost it ~0.5 s of CPU per start
    from cdp.config import EmbeddedServerSettings, Settings

HOST = "127.0.0.1"
WRITER, QUERY, BI = "cdp", "cdp_query", "cdp_bi"
ENGINES = ("MergeTree", "ReplacingMergeTree", "AggregatingMergeTree", "Join", "MaterializedView", "View")  # what the migrations create
BLOCKER = "SELECT sleepEachRow(1) FROM system.numbers"  # the server's blocking query (cdp.warehouse.server_process): killing it stops the server
START_TIMEOUT_SECONDS = 60
MAX_LOG_BYTES = 10 * 1024 * 1024  # then server.log becomes server.log.1
STOP_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Endpoint:
    host: str
    tcp_port: int
    http_port: int


class ManagedServer:
    def __init__(self, root: Path, data_path: Path | None = None, database: str = "cdp", embedded: "EmbeddedServerSettings | None" = None):
        """``root``: the server's own files; ``data_path``, ``database`` and ``embedded`` are needed to start it."""
        self.root = root.absolute()  # absolute: the server process runs in its own directory, so a data dir given as ".cdp" must not be read from there
        self._data_path = data_path.absolute() if data_path is not None else None
        self._database = database
        self._embedded = embedded

    @classmethod
    def of(cls, settings: "Settings") -> "ManagedServer":
        return cls(settings.data_dir / "warehouse-server", settings.warehouse_path, settings.warehouse.database, settings.warehouse.embedded)

    @classmethod
    def at(cls, root: Path) -> "ManagedServer":
        """The server whose files are in ``root``, to talk to (not to start)."""
        return cls(root)

    # --- what clients need

    def ensure_running(self) -> Endpoint:
        """The server's endpoint, starting it (or starting it again) when it does not answer."""
        with self._locked():
            if not self._answers():
                self._kill_unanswering()
                self._start()
            return self.endpoint

    @property
    def endpoint(self) -> Endpoint:
        credentials = self._credentials()
        return Endpoint(HOST, credentials["tcp_port"], credentials["http_port"])

    def password(self, user: str) -> str:
        return self._credentials()[user]

    def client(self, user: str, **options: object) -> Client:
        """A clickhouse-driver client of a running server as ``user`` (``WRITER``, ``QUERY`` or ``BI``)."""
        return Client(HOST, port=self.endpoint.tcp_port, user=user, password=self.password(user), client_name="cdp", **options)

    def writer_client(self) -> Client:
        return self.client(WRITER, connect_timeout=5, send_receive_timeout=30)

    # --- state

    def running(self) -> bool:
        return self._answers()

    @property
    def run_dir(self) -> Path:
        """The server process's own directory (its configuration, users, temporary files): all it may
        read and write besides the data (``confinement``); the credentials stay one level up."""
        return self.root / "server"

    @property
    def pid(self) -> int | None:
        try:
            return int((self.root / "pid").read_text())
        except (OSError, ValueError):
            return None

    @property
    def pinned(self) -> bool:
        return (self.root / "pinned").exists()

    def pin(self, pinned: bool) -> None:
        """A pinned server does not stop when idle (``cdp warehouse start``)."""
        if pinned:
            (self.root / "pinned").touch()
        else:
            (self.root / "pinned").unlink(missing_ok=True)

    def client_connections(self, client: Client) -> int:
        """Open native and HTTP connections to the server, ``client``'s own included."""
        rows = client.execute("SELECT sum(value) FROM system.metrics WHERE metric IN ('TCPConnection', 'HTTPConnection')")
        return int(rows[0][0])

    # --- stopping

    def stop(self, wait: bool = True) -> bool:
        """Stops a running server (and waits until it has exited); False when none was running."""
        with self._locked():
            self.pin(False)
            pid = self.pid
            if pid is None or not _alive(pid) or not _is_server(pid):
                return False
            try:
                client = self.writer_client()
                self.kill_blocker(client)
                client.disconnect()
            except Exception:  # not answering: it gets the signal below
                _kill(pid)
                return True
            if wait and not _wait_for_exit(pid, STOP_TIMEOUT_SECONDS):
                _kill(pid)
            return True

    @staticmethod
    def kill_blocker(client: Client) -> None:
        """Ends the server's blocking query, after which its process shuts down and exits."""
        client.execute(f"KILL QUERY WHERE query LIKE '{BLOCKER}%' SYNC")

    # --- internals

    def _locked(self) -> ProcessLock:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        return ProcessLock(self.root / "lock")

    def _answers(self) -> bool:
        pid = self.pid
        if pid is None or not _alive(pid) or not (self.run_dir / "listening").exists():
            return False
        try:
            socket.create_connection((HOST, self.endpoint.tcp_port), timeout=2).close()
            return True
        except OSError:
            return False

    def _kill_unanswering(self) -> None:
        pid = self.pid
        if pid is not None and _alive(pid) and _is_server(pid):
            self._log(f"server {pid} does not answer: killed")
            _kill(pid)
        (self.root / "pid").unlink(missing_ok=True)

    def _start(self) -> None:
        if self._data_path is None or self._embedded is None:
            raise WarehouseUnavailable(f"the warehouse server in {self.root} is not running")
        self._data_path.mkdir(parents=True, exist_ok=True)
        credentials = self._credentials()
        self.run_dir.mkdir(mode=0o700, exist_ok=True)
        _write_private(self.run_dir / "config.xml", self._config(credentials))
        _write_private(self.run_dir / "users.xml", self._users(credentials))
        (self.run_dir / "listening").unlink(missing_ok=True)
        log_path = self.root / "server.log"
        if log_path.exists() and log_path.stat().st_size > MAX_LOG_BYTES:
            log_path.replace(log_path.with_suffix(".log.1"))
        self._log(f"starting for {self._data_path}")
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "cdp.warehouse.server_process", str(self.root), str(self._data_path), str(self._embedded.idle_stop_seconds),
                 "unconfined" if self._embedded.allow_unconfined else "confined"],
                cwd=self.run_dir, env=_server_environment(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives this process and its Ctrl-C
            )
        threading.Thread(target=process.wait, daemon=True).start()  # reaps it if it stops while this process lives
        (self.root / "pid").write_text(str(process.pid))
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._answers():
                return
            if process.poll() is not None:
                break
            time.sleep(0.05)
        if process.poll() is None:
            _kill(process.pid)
        log_tail = (self.root / "server.log").read_text(errors="replace")[-1500:].strip()
        raise WarehouseUnavailable(f"the warehouse server for {self._data_path} did not start (its log, {self.root / 'server.log'}: {log_tail or 'empty'})")

    def _log(self, event: str) -> None:
        """A line in ``server.log`` saying what this process did to the server, and when."""
        with (self.root / "server.log").open("ab") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {event} (process {os.getpid()})\n".encode())

    def _credentials(self) -> dict:
        """The generated passwords and the ports, made on first use; ports set in the configuration win."""
        path = self.root / "credentials.json"
        try:
            credentials = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            tcp_port = self._configured_port("tcp_port") or _free_port()
            credentials = {
                WRITER: secrets.token_urlsafe(24),
                QUERY: secrets.token_urlsafe(24),
                BI: secrets.token_urlsafe(24),
                "tcp_port": tcp_port,
                "http_port": self._configured_port("http_port") or _free_port(but=tcp_port),
            }
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            _write_private(path, orjson.dumps(credentials, option=orjson.OPT_INDENT_2).decode())
        return credentials | {name: port for name in ("tcp_port", "http_port") if (port := self._configured_port(name))}

    def _configured_port(self, name: str) -> int | None:
        """A port the configuration sets (none for a server found by its files, ``at``)."""
        return getattr(self._embedded, name) if self._embedded is not None else None

    def _config(self, credentials: dict) -> str:
        return (
            "<clickhouse>"
            f"<tcp_port>{credentials['tcp_port']}</tcp_port><http_port>{credentials['http_port']}</http_port>"
            f"<listen_host>{HOST}</listen_host><users_config>users.xml</users_config>"
            f"<user_files_path>{escape(str(self.run_dir / 'user_files'))}/</user_files_path><tmp_path>{escape(str(self.run_dir / 'tmp'))}/</tmp_path>"
            "<logger><level>warning</level><console>1</console></logger>"
            "<shutdown_wait_unfinished>2</shutdown_wait_unfinished>"
            "<access_control_improvements><select_from_system_db_requires_grant>true</select_from_system_db_requires_grant></access_control_improvements>"
            "</clickhouse>\n"
        )

    def _users(self, credentials: dict) -> str:
        db, limits = self._database, self._embedded
        engines = "".join(f"<query>GRANT TABLE ENGINE ON {engine}</query>" for engine in ENGINES)
        reader = (
            "<profile>reader</profile><quota>default</quota><networks><ip>127.0.0.1</ip></networks>"
            f"<grants><query>GRANT SELECT ON {db}.*</query></grants>"
        )
        return f"""<clickhouse>
<profiles>
  <default/>
  <blocker><max_sessions_for_user>1</max_sessions_for_user></blocker>  <!-- default's: the blocking query's session, and no other -->
  <reader>
    <readonly>2</readonly>
    <max_execution_time>{limits.query_max_seconds}</max_execution_time>
    <max_memory_usage>{limits.query_max_memory_bytes}</max_memory_usage>
    <max_concurrent_queries_for_user>{limits.query_max_concurrent}</max_concurrent_queries_for_user>
    <constraints>
      <max_execution_time><max>{limits.query_max_seconds}</max></max_execution_time>
      <max_memory_usage><max>{limits.query_max_memory_bytes}</max></max_memory_usage>
      <max_concurrent_queries_for_user><max>{limits.query_max_concurrent}</max></max_concurrent_queries_for_user>
    </constraints>
  </reader>
</profiles>
<quotas><default/></quotas>
<users>
  <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>blocker</profile><quota>default</quota>
    <grants><query>GRANT SYSTEM LISTEN ON *.*</query><query>GRANT SELECT ON system.numbers</query></grants></default>
  <{WRITER}><password_sha256_hex>{_sha256(credentials[WRITER])}</password_sha256_hex><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota>
    <grants><query>GRANT ALL ON {db}.*</query><query>GRANT SELECT ON system.*</query><query>GRANT KILL QUERY ON *.*</query>{engines}</grants></{WRITER}>
  <{QUERY}><password_sha256_hex>{_sha256(credentials[QUERY])}</password_sha256_hex>{reader}</{QUERY}>
  <{BI}><password_sha256_hex>{_sha256(credentials[BI])}</password_sha256_hex>{reader}</{BI}>
</users>
</clickhouse>
"""


SERVER_ENVIRONMENT = ("PATH", "PYTHONPATH", "VIRTUAL_ENV", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")


def _server_environment() -> dict[str, str]:
    """What the server process may know of this one's environment: no secret (``CDP_PRIVACY__MASTER_KEY``, …)."""
    return {name: value for name, value in os.environ.items() if name in SERVER_ENVIRONMENT}


def _sha256(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)


def _free_port(but: int = 0) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            port = sock.getsockname()[1]
        if port != but:
            return port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or someone else's process took the number
        return False
    return not _zombie(pid)


def _is_server(pid: int) -> bool:
    """Whether ``pid`` is a warehouse server process (and not another process that reused the number)."""
    try:
        return b"cdp.warehouse.server_process" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    _wait_for_exit(pid, STOP_TIMEOUT_SECONDS)


def _wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return False
