"""A backup taken while the collector accepts events and the runner follows them, restored and
rebuilt, gives the warehouse the source platform gives when rebuilt from the same events (those up
to the backup's last position): every table, FINAL, every column (no table has a write-time column).
"""

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import orjson

from cdp.workload import generate
from tests.cli import cdp, serve

DUMP = """
import sys, orjson
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.rebuild import rebuild
from projections.tables import PROJECTION_TABLES, TABLES

class UpTo:  # the event store as it stood at one position
    def __init__(self, events, last):
        self._events, self._last, self.close = events, last, events.close
    def read(self, after, limit, until=None):
        return self._events.read(after, limit, self._last if until is None else min(until, self._last))
    def read_readable(self, after, limit, until=None):
        return self._events.read_readable(after, limit, self._last if until is None else min(until, self._last))
    def last_position(self):
        return min(self._events.last_position(), self._last)

data_dir, up_to = sys.argv[1], int(sys.argv[2])
with Platform(load_settings(data_dir=data_dir)) as platform:
    if up_to:
        platform.events = UpTo(platform.events, up_to)
        rebuild(platform, [])
    tables = {t.name: platform.warehouse.query(f"SELECT * FROM cdp.`{t.name}` FINAL ORDER BY ALL") for t in (*TABLES, *PROJECTION_TABLES)}
sys.stdout.buffer.write(orjson.dumps(tables))
"""


def warehouse(data_dir: Path, rebuilt_up_to: int = 0) -> dict[str, list]:
    """Every warehouse table; with ``rebuilt_up_to``, after rebuilding from the events up to that position."""
    done = cdp_python(DUMP, str(data_dir), str(rebuilt_up_to))
    return orjson.loads(done)


def cdp_python(script: str, *args: str) -> bytes:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout



def segment_batches(stop: threading.Event):
    n = 0
    while not stop.is_set():
        batch = []
        for _ in range(20):
            n += 1
            user = f"user-{n % 97}"
            batch.append({"type": "identify", "userId": user, "messageId": f"id-{n}", "traits": {"email": f"{user}@example.com"}})
            batch.append({"type": "track", "userId": user, "event": "Product Viewed", "messageId": f"tr-{n}", "properties": {"sku": f"sku-{n % 13}"}})
        yield {"batch": batch}


def stored_events(data_dir: Path) -> int:
    with sqlite3.connect(f"file:{data_dir / 'events.sqlite'}?mode=ro", uri=True, timeout=30) as db:
        return db.execute("SELECT COALESCE(MAX(rowid), 0) FROM stored_events").fetchone()[0]


def test_a_backup_taken_under_load_restores_and_rebuilds_to_the_same_warehouse(tmp_path: Path):
    source, backup, restored = tmp_path / "source", tmp_path / "backup", tmp_path / "restored"
    workload = tmp_path / "workload.jsonl"
    workload.write_bytes(b"\n".join(orjson.dumps(e) for e in generate(400, seed=5)) + b"\n")
    assert cdp("ingest", str(workload), data_dir=source).returncode == 0
    added = cdp("sources", "add", "web", "--kind", "website", data_dir=source)
    assert added.returncode == 0, added.stderr
    key = added.stdout.decode().strip().splitlines()[-1]

    server, url = serve(source, {"CDP_BATCH_SIZE": "500"}, stdout=subprocess.DEVNULL)
    stop, statuses = threading.Event(), []
    try:
        with httpx.Client(base_url=url, auth=(key, ""), timeout=30) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if http.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and server.poll() is None, "the collector did not start"
                time.sleep(0.1)

            def send() -> None:
                for body in segment_batches(stop):
                    statuses.append(http.post("/v1/batch", json=body).status_code)

            sender = threading.Thread(target=send)
            sender.start()
            while stored_events(source) < 6000:
                time.sleep(0.05)
            before = stored_events(source)
            took = cdp("backup", str(backup), data_dir=source)
            after = stored_events(source)
            time.sleep(0.5)  # and a little more after it
            stop.set()
            sender.join(30)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)
    assert took.returncode == 0, took.stderr
    assert statuses and set(statuses) == {200}, "the collector kept accepting every batch during the backup"

    manifest = json.loads((backup / "manifest.json").read_text())
    last = manifest["event_store"]["last_position"]
    assert before < last < after, f"the snapshot was taken mid-stream: {before} < {last} < {after}"
    assert stored_events(source) > last

    done = cdp("restore", str(backup), "--rebuild", data_dir=restored)
    assert done.returncode == 0, done.stderr
    assert stored_events(restored) == last

    expected, actual = warehouse(source, rebuilt_up_to=last), warehouse(restored)
    assert all(expected.values()), "every table has rows to compare"
    assert len(expected["events"]) == last
    assert {t: len(rows) for t, rows in actual.items()} == {t: len(rows) for t, rows in expected.items()}
    for table, rows in expected.items():
        assert actual[table] == rows, table
