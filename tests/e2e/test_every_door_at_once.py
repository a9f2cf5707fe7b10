"""Every door at once: with `cdp serve` collecting events and following them, the CLI commands and BI
clients over both protocols work concurrently on the same data directory, and nothing is lost."""

import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import clickhouse_connect
import httpx
import orjson
from clickhouse_driver import Client
from clickhouse_driver.errors import ServerException

from cdp.config import load_settings
from cdp.warehouse.managed import BI, ManagedServer
from cdp.workload import generate
from tests.cli import cdp, serve
from tests.e2e.test_backup_online import segment_batches, stored_events
from tests.waiting import wait_until


def bi_reads(server: ManagedServer, stop: threading.Event) -> list[tuple[int, int]]:
    """Counts read by a BI tool on each protocol, over and over, until told to stop."""
    native = Client("127.0.0.1", port=server.endpoint.tcp_port, user=BI, password=server.password(BI))
    http = clickhouse_connect.get_client(host="127.0.0.1", port=server.endpoint.http_port, username=BI, password=server.password(BI))
    counts = []
    while not stop.is_set():
        counts.append((native.execute("SELECT count() FROM cdp.events")[0][0], http.query("SELECT count() FROM cdp.profiles_current").result_rows[0][0]))
        time.sleep(0.2)
    return counts


def processed(server: ManagedServer) -> int:
    """Events in the warehouse once its profiles are there too (0 until the server runs and the
    runner's first batch has written both: a batch's tables are inserted in parallel, so events
    can land before profiles)."""
    try:
        if not server.running():
            return 0
        client = server.client(BI)
        return client.execute("SELECT count() FROM cdp.events")[0][0] if client.execute("SELECT count() FROM cdp.profiles_current")[0][0] else 0
    except ServerException:  # the database is not created yet
        return 0


def test_cli_commands_and_bi_clients_work_while_the_platform_serves_under_load(tmp_path: Path):
    data = tmp_path / "data"
    workload = tmp_path / "workload.jsonl"
    workload.write_bytes(b"\n".join(orjson.dumps(e) for e in generate(300, seed=21)) + b"\n")
    assert cdp("ingest", str(workload), data_dir=data).returncode == 0
    added = cdp("sources", "add", "web", "--kind", "website", data_dir=data)
    assert added.returncode == 0, added.stderr.decode()
    key = added.stdout.decode().strip().splitlines()[-1]
    segment = tmp_path / "active.yaml"
    segment.write_text('name: active\nwhere: {field: events_total, op: ">=", value: 1}\n')
    people = list(dict.fromkeys(e["identifiers"]["user_id"] for e in map(orjson.loads, workload.read_bytes().splitlines()) if e["identifiers"].get("user_id")))
    shown, forgotten = people[1], people[2]

    process, url = serve(data, {"CDP_BATCH_SIZE": "500"}, stdout=subprocess.DEVNULL)
    stop, statuses = threading.Event(), []
    try:
        with httpx.Client(base_url=url, auth=(key, ""), timeout=60) as http:
            wait_until(lambda: http.get("/health").status_code == 200)

            def send() -> None:
                for body in segment_batches(stop):
                    statuses.append(http.post("/v1/batch", json=body).status_code)

            sender = threading.Thread(target=send)
            sender.start()
            ingested = stored_events(data)
            wait_until(lambda: stored_events(data) > ingested + 2000)  # under load
            server = ManagedServer.of(load_settings(data_dir=data))
            wait_until(lambda: processed(server) > 0)  # the server `cdp serve` started, with the runner's rows
            commands = {
                "profile": ["profile", shown, "--format", "json"],
                "segment create": ["segment", "create", str(segment)],
                "analytics": ["analytics", "revenue"],
                "sql": ["sql", "SELECT count() AS n FROM cdp.events"],
                "timeline": ["timeline", shown, "--limit", "5"],
                "forget": ["forget", forgotten],
                "backup": ["backup", str(tmp_path / "backup")],
            }
            with ThreadPoolExecutor(max_workers=len(commands) + 1) as pool:
                bi = pool.submit(bi_reads, server, stop)
                done = {name: pool.submit(cdp, *args, data_dir=data) for name, args in commands.items()}
                results = {name: future.result(timeout=600) for name, future in done.items()}
                after_create = {
                    "segment count": cdp("segment", "count", "active", "--purpose", "email_marketing", data_dir=data),
                    "segment export": cdp("segment", "export", "active", "--out", str(tmp_path / "active.csv"), "--purpose", "none", data_dir=data),
                }
                stop.set()
                sender.join(60)
                reads = bi.result(timeout=60)
    finally:
        stop.set()
        process.send_signal(signal.SIGINT)
        process.wait(60)
    for name, result in {**results, **after_create}.items():
        assert result.returncode == 0, f"`cdp {name}` failed beside the serving platform: {result.stderr.decode()}"
    assert statuses and set(statuses) == {200}, "the collector answered every batch while the commands ran"
    assert len(reads) > 3 and all(events > 0 and profiles > 0 for events, profiles in reads)
    assert [events for events, _ in reads] == sorted(events for events, _ in reads), "BI saw the events grow, never shrink"
    assert (tmp_path / "active.csv").read_text().count("\n") > 1
    assert (tmp_path / "backup" / "manifest.json").exists()
    # nothing lost: every stored event is processed, once, by a runner run after the server stopped
    assert cdp("run", data_dir=data).returncode == 0
    counted = orjson.loads(cdp("sql", "SELECT count() AS n FROM cdp.events FINAL", "--format", "json", data_dir=data).stdout)
    assert counted == [{"n": stored_events(data)}]
