"""`cdp serve` with `collector.workers = 2`: two collector processes on one port, the runner in the supervisor."""

import os
import signal
import subprocess
import sys
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.cli import cdp, serve
from tests.waiting import TLS, wait_until


def test_two_workers_store_every_acknowledged_event_and_the_supervisor_runs_the_runner(tmp_path):
    data = tmp_path / "data"
    key = cdp("sources", "add", "web", "--kind", "website", data_dir=data).stdout.decode().strip().splitlines()[-1]
    admin = {"Authorization": "Bearer " + cdp("keys", "create", "ops", "--scope", "admin", data_dir=data).stdout.decode().strip().splitlines()[-1]}
    server, url = serve(data, {"CDP_COLLECTOR__WORKERS": "2"})
    try:
        wait_until(lambda: httpx.get(url + "/health", verify=TLS).status_code == 200)

        def send(n: int) -> int:
            batch = [{"type": "identify", "userId": f"u-{n}-{i}", "messageId": f"m-{n}-{i}", "traits": {"email": f"u{n}.{i}@example.com"}} for i in range(50)]
            with httpx.Client(base_url=url, auth=(key, ""), timeout=60) as client:
                assert client.post("/v1/batch", json={"batch": batch}).json() == {"success": True}
            return len(batch)

        with ThreadPoolExecutor(8) as pool:
            acknowledged = sum(pool.map(send, range(40)))
        wait_until(lambda: httpx.get(url + "/health", headers=admin, verify=TLS).json()["runner"].get("position", 0) >= acknowledged)
        health = httpx.get(url + "/health", headers=admin).json()
        assert health["runner"]["state"] == "following" and health["runner"]["last_position"] == acknowledged
    finally:
        server.send_signal(signal.SIGINT)
        stdout, stderr = server.communicate(timeout=90)
        print(stderr.decode()[-4000:], file=sys.stderr)  # pytest shows it when the test fails
    assert server.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr
    assert acknowledged == 2000
    profile = cdp("profile", "u39.49@example.com", "--json", data_dir=data)  # processed by the supervisor's runner
    assert profile.returncode == 0, profile.stderr



def test_a_worker_that_dies_stops_the_collector_with_an_error(tmp_path):
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDP_")} | {"CDP_DATA_DIR": str(data), "CDP_COLLECTOR__WORKERS": "2"}
    server = subprocess.Popen([sys.executable, "-m", "cdp", "serve", "--no-follow", "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: len(_workers(server.pid)) == 2)
        os.kill(_workers(server.pid)[0], signal.SIGKILL)
        stdout, stderr = server.communicate(timeout=90)
    finally:
        server.kill()
    assert server.returncode != 0
    assert b"collector worker cdp-collector-" in stderr and b"exited with code -9" in stderr, stderr.decode()


def _workers(pid: int) -> list[int]:
    """The collector worker processes of a supervisor (spawned interpreters, not its resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes() and b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()]
