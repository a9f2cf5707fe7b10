"""Killing `cdp run` part-way and running it again gives the warehouse one uninterrupted run gives,
also when the killed runner projects in two processes (``runner.processes``, issue 23)."""

import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import orjson
import pytest

from cdp.config import load_settings
from cdp.platform import Platform
from cdp.workload import generate
from tests.cli import CDP, cdp, environment

BATCH = {"CDP_BATCH_SIZE": "250"}
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


@pytest.mark.parametrize("processes", ["1", "2"])
def test_kill_and_resume_matches_one_uninterrupted_run(tmp_path: Path, processes: str):
    killed_env = {**BATCH, "CDP_RUNNER__PROCESSES": processes}  # the uninterrupted run keeps one process
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\n".join(orjson.dumps(e) for e in generate(1500, seed=11)) + b"\n")
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert cdp("ingest", str(source), data_dir=whole).returncode == 0
    killed.mkdir()
    for pattern in ("events.sqlite*", "keys.sqlite*", "master.key"):  # the same log, byte for byte, and the keys that open it
        for part in whole.glob(pattern):
            shutil.copy(part, killed / part.name)
    total = sum(1 for _ in source.open("rb"))

    uninterrupted = subprocess.Popen([*CDP, "run"], env=environment(whole, BATCH), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # beside the killed one: the two share nothing
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
    _, stderr = uninterrupted.communicate(timeout=300)
    assert uninterrupted.returncode == 0, stderr.decode()

    expected, actual = dump(whole), dump(killed)
    assert len(expected["events"]) == total
    for table in TABLES:
        assert actual[table] == expected[table], table
