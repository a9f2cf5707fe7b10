"""The embedded default's warehouse server: started on first need by any process, shared by all,
started again after a crash with nothing lost, stopped cleanly (by command or when idle)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from cdp.config import load_settings
from cdp.platform import Platform
from cdp.warehouse.managed import ManagedServer
from cdp.workload import generate
from tests.cli import cdp
from tests.waiting import wait_until

RACE = """
import sys
from pathlib import Path
from cdp.config import load_settings
from cdp.warehouse.managed import ManagedServer
server = ManagedServer.of(load_settings(data_dir=Path(sys.argv[1])))
server.ensure_running()
print(server.pid)
"""


def resident_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


def write_config(data: Path, text: str) -> None:
    data.mkdir(parents=True, exist_ok=True)
    (data / "cdp.toml").write_text(text)


def test_the_first_process_starts_it_and_the_others_connect(tmp_path: Path):
    data = tmp_path / "data"
    racers = [subprocess.Popen([sys.executable, "-c", RACE, str(data)], stdout=subprocess.PIPE) for _ in range(4)]
    pids = {int(racer.communicate(timeout=120)[0]) for racer in racers}
    assert len(pids) == 1  # four processes racing to start it: one server
    server = ManagedServer.of(load_settings(data_dir=data))
    assert server.running() and server.pid == pids.pop()
    before = server.pid
    with Platform(load_settings(data_dir=data)) as platform:
        platform.warehouse.query("SELECT 1 AS one")
    assert server.pid == before  # the platform reused it
    assert resident_mib(server.pid) < 1024  # ~310 MiB measured (benchmarks/warehouse_server.py); one server per data directory
    assert oct((data / "warehouse-server").stat().st_mode)[-3:] == "700"
    assert oct((data / "warehouse-server" / "credentials.json").stat().st_mode)[-3:] == "600"


def test_it_stops_when_idle_and_starts_again_when_needed(tmp_path: Path):
    data = tmp_path / "data"
    write_config(data, "[warehouse.embedded]\nidle_stop_seconds = 1\n")
    settings = load_settings(data_dir=data)
    server = ManagedServer.of(settings)
    with Platform(settings) as platform:
        platform.warehouse.query("SELECT 1 AS one")
        first = server.pid
        time.sleep(2)  # idle for longer than idle_stop_seconds, but connected: it stays
        assert server.running() and server.pid == first
    wait_until(lambda: not server.running(), seconds=30)
    with Platform(settings) as platform:
        assert platform.warehouse.query("SELECT count() AS n FROM cdp.schema_migrations")[0]["n"] > 0  # the data is still there
        assert server.pid != first


def test_warehouse_commands_start_pin_and_stop_it(tmp_path: Path):
    data = tmp_path / "it's & <data>"  # a path that is neither plain XML nor plain SQL
    write_config(data, "[warehouse.embedded]\nidle_stop_seconds = 1\n")
    assert cdp("warehouse", "status", data_dir=data).stdout.decode().startswith("not running")
    started = cdp("warehouse", "start", data_dir=data)
    assert started.returncode == 0, started.stderr.decode()
    time.sleep(3)  # pinned: idle does not stop it
    status = cdp("warehouse", "status", data_dir=data).stdout.decode()
    assert status.startswith("running (pid ") and "pinned" in status
    pid = ManagedServer.of(load_settings(data_dir=data)).pid
    assert cdp("warehouse", "stop", data_dir=data).stdout.decode().strip() == "stopped"
    assert not ManagedServer.of(load_settings(data_dir=data)).running()
    state = Path(f"/proc/{pid}/stat")
    assert not state.exists() or state.read_text().split(") ")[1].startswith("Z")  # exited (a zombie until its parent reaps it)
    assert cdp("warehouse", "stop", data_dir=data).stdout.decode().strip() == "not running"


def test_a_crashed_server_is_started_again_and_the_runner_loses_nothing(tmp_path: Path):
    data = tmp_path / "data"
    workload = tmp_path / "events.jsonl"
    events = generate(300, seed=11)
    workload.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    assert cdp("ingest", str(workload), data_dir=data).returncode == 0
    settings = load_settings(data_dir=data, batch_size=200)
    server = ManagedServer.of(settings)
    with Platform(settings) as platform:
        stored = platform.runner.pending()[1]
        killed = []

        def crash_once(progress) -> None:
            if not killed:
                killed.append(server.pid)
                os.kill(server.pid, signal.SIGKILL)  # mid-run, between two batches' writes

        platform.runner.run(on_progress=crash_once)
        assert killed and server.running() and server.pid != killed[0]  # started again by the runner's next write
        in_warehouse = platform.warehouse.query("SELECT count() AS n, max(position) AS last FROM cdp.events FINAL")[0]
        assert in_warehouse == {"n": stored, "last": stored}
    log = (data / "warehouse-server" / "server.log").read_text()
    assert "did not start" not in log


def test_a_relative_data_directory_works_as_the_readme_default_is(tmp_path: Path, monkeypatch):
    """`make start` uses `.cdp`, a relative path; the server process runs in its own directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CDP_DATA_DIR", raising=False)
    with Platform(load_settings(data_dir=Path(".cdp"))) as platform:
        assert platform.warehouse.query("SELECT 1 AS one") == [{"one": 1}]
    ManagedServer.at(tmp_path / ".cdp" / "warehouse-server").stop()
