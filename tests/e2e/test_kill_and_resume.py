"""Killing `cdp run` part-way and running it again gives the warehouse one uninterrupted run gives,
also when the killed runner projects in two processes (``runner.processes``, issue 23)."""

import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest

from cdp.config import load_settings
from cdp.platform import Platform
from cdp.warehouse.managed import ManagedServer
from cdp.workload import generate
from tests.cli import CDP, cdp, environment

# ~19,000 events (generate(1500) makes 1,500 customers' events) in 20 batches: the kill lands after the
# seventh or later. Both runs of a case take the same size: `events.customer_id` is the identity as resolved
# at the event's batch. Smaller batches cost more per event in the runner and the warehouse server (250:
# 28 s of CPU per run, 1000: 15 s).
BATCH = {"CDP_BATCH_SIZE": "1000"}
TABLES = {
    "events": "position",
    "profiles": "customer_id",
    "identities": "identifier",
    "customer_merges": "absorbed, position",
    "lifecycle_transitions": "customer_id, at, from_stage, to_stage",
}


def dump(data_dir: Path) -> dict[str, list]:
    """Every table's rows, read in this process: what is compared is what ``cdp run`` wrote (the
    command line's ``cdp sql`` would cost a process start for each table, ten in all)."""
    with Platform(load_settings(data_dir=data_dir)) as platform:
        return {table: platform.warehouse.query(f"SELECT * FROM cdp.{table} FINAL ORDER BY {key}") for table, key in TABLES.items()}


def tracked_position(data_dir: Path) -> int:
    try:
        with sqlite3.connect(data_dir / "projections.sqlite", timeout=5) as db:
            row = db.execute("SELECT position FROM tracking").fetchone()
    except sqlite3.OperationalError:  # not created yet
        return 0
    return row[0] if row else 0


@dataclass
class Uninterrupted:
    """One uninterrupted ``cdp run`` over the log, the same for every case (the same events and batch
    size, one process): started once, beside the first case's killed run, and its tables read once."""

    log: Path  # the event log as ingested, before any run, and the keys that open it
    total: int
    data_dir: Path
    run: subprocess.Popen
    dumped: dict[str, list] = field(default_factory=dict)

    def tables(self) -> dict[str, list]:
        if not self.dumped:
            _, stderr = self.run.communicate(timeout=300)
            assert self.run.returncode == 0, stderr.decode()
            self.dumped.update(dump(self.data_dir))
        return self.dumped


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Uninterrupted]:
    root = tmp_path_factory.mktemp("uninterrupted")
    source = root / "events.jsonl"
    source.write_bytes(b"\n".join(orjson.dumps(e) for e in generate(1500, seed=11)) + b"\n")
    whole, log = root / "whole", root / "log"
    assert cdp("ingest", str(source), data_dir=whole).returncode == 0
    log.mkdir()
    for pattern in ("events.sqlite*", "keys.sqlite*", "master.key"):  # the same log, byte for byte, and the keys that open it
        for part in whole.glob(pattern):
            shutil.copy(part, log / part.name)
    total = sum(1 for _ in source.open("rb"))
    run = subprocess.Popen([*CDP, "run"], env=environment(whole, BATCH), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # beside a killed one: the two share nothing
    yield Uninterrupted(log, total, whole, run)
    run.kill()
    run.wait()
    ManagedServer.of(load_settings(data_dir=whole)).stop(wait=False)


@pytest.mark.parametrize("processes", ["1", "2"])
def test_kill_and_resume_matches_one_uninterrupted_run(tmp_path: Path, uninterrupted: Uninterrupted, processes: str):
    killed_env = {**BATCH, "CDP_RUNNER__PROCESSES": processes}  # the uninterrupted run keeps one process
    killed = tmp_path / "killed"
    shutil.copytree(uninterrupted.log, killed)
    total = uninterrupted.total

    runner = subprocess.Popen([*CDP, "run"], env=environment(killed, killed_env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while tracked_position(killed) < total // 3 and time.monotonic() < deadline and runner.poll() is None:
        time.sleep(0.01)
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    at_kill = tracked_position(killed)
    assert 0 < at_kill < total, f"the kill should land part-way, it landed at {at_kill} of {total}"

    resumed = cdp("run", data_dir=killed, env=killed_env)
    assert resumed.returncode == 0, resumed.stderr
    assert f"processed {total - at_kill:,} events" in resumed.stdout.decode()

    expected, actual = uninterrupted.tables(), dump(killed)
    assert len(expected["events"]) == total
    for table in TABLES:
        assert actual[table] == expected[table], table
