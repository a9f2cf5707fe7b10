"""`cdp serve` on a PostgreSQL event store (the scale-out deployment's collector), over real HTTP."""

import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx

from cdp.config import load_settings
from cdp.eventstore import open_event_store
from tests.cli import cdp, serve
from tests.integration.scaleout_harness import fresh_database
from tests.waiting import wait_until


def test_a_request_of_megabytes_is_stored_and_does_not_stall_the_others(tmp_path, postgres):
    """One request of 3,000 events of 1.5 kB (~4.6 MB, under the 5 MiB a request may hold) beside
    small ones: eventsourcing's insert hung for ever on such a write, with the table lock every other
    write waits for, so no request was answered again. Each must be answered, and its events stored."""
    data, database = tmp_path / "data", fresh_database(postgres, "collector")
    store = database.event_store_environment()
    key = cdp("sources", "add", "web", "--kind", "website", data_dir=data, env=store).stdout.decode().strip().splitlines()[-1]
    server, url = serve(data, store | {"CDP_COLLECTOR__WORKERS": "1"})
    try:
        wait_until(lambda: httpx.get(url + "/health").status_code == 200)

        def send(name: str, events: int, note_bytes: int) -> int:
            batch = [
                {"type": "identify", "userId": f"{name}-{i}", "messageId": f"{name}-{i}", "traits": {"email": f"{name}.{i}@example.com", "note": "n" * note_bytes}}
                for i in range(events)
            ]
            with httpx.Client(base_url=url, auth=(key, ""), timeout=60) as client:
                response = client.post("/v1/batch", json={"batch": batch})
            assert response.json() == {"success": True}, response.text
            return events

        with ThreadPoolExecutor(4) as pool:
            sent = [pool.submit(send, "large", 3000, 1500), *(pool.submit(send, f"small{n}", 20, 10) for n in range(12))]
            acknowledged = sum(future.result(timeout=90) for future in sent)
        assert acknowledged == 3240
        events = open_event_store(load_settings(data_dir=data, event_store={"backend": "postgres", "postgres": database.__dict__}))
        try:
            assert events.last_position() == 3240
        finally:
            events.close()
    finally:
        server.send_signal(signal.SIGINT)
        try:
            stdout, stderr = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # a writer stuck in the store does not stop: the test fails, it does not hang
            server.kill()
            stdout, stderr = server.communicate()
        print(stderr.decode()[-4000:], file=sys.stderr)
    assert server.returncode in (0, 130) and b"Traceback" not in stderr, stderr.decode()[-2000:]  # 130: stopped by SIGINT, as uvicorn reports it
