"""`runner.processes = 2` gives exactly what one process gives (issue 23): the same log (workload
events with merges across the children, a poison event, a trigger enabled) projected with one
process and with two, into two data directories: every warehouse table, every stored profile
state, the actions and the quarantine are equal."""

import multiprocessing
import os
import shutil
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cdp.config import load_settings
from cdp.platform import Platform
from cdp.runner_processes import RunnerProcessStopped
from cdp.scaleout.relay import partition_of
from cdp.workload import generate_events
from ingestion.validation import validate
from projections.actions import Action
from projections.tables import WAREHOUSE_TABLES
from tests.integration.scaleout_harness import table_rows
from tests.integration.test_quarantine import kept_errors, poison

EVENTS = 3000
BATCH = 400  # several batches: states go to the children and come back between them
TRIGGERS = """
[triggers.rules.viewed]
when = { kind = "event", event_type = "product_viewed" }
then = { destination = "mail", channel = "email", template = "viewed", purpose = "email_marketing" }
"""


def store_log(data_dir: Path, count: int = EVENTS) -> None:
    """``count`` workload events and a poison event after the first thousand, and the trigger enabled."""
    with Platform(load_settings(data_dir=data_dir)) as platform:
        received = datetime.now(UTC)
        envelopes = [validate(e, received) for e in generate_events(count, seed=11)]
        platform.append(envelopes[:1000] + [poison()] + envelopes[1000:])
        platform.triggers.enable("viewed", 0, 0)


def projected(data_dir: Path, processes: int) -> dict:
    """Runs the log through a runner with ``processes``; returns every table, state, action and quarantined position."""
    actions: list[Action] = []
    with Platform(load_settings(data_dir=data_dir, batch_size=BATCH, runner={"processes": processes})) as platform:
        platform.action_sink = lambda batch: actions.extend(batch) or len(batch)
        assert platform.runner.run() == EVENTS + 1
        state = platform.state
        merges = platform.warehouse.query("SELECT absorbed, survivor FROM cdp.customer_merges FINAL")
        return {
            "tables": {t.name: table_rows(platform.warehouse, t.name) for t in WAREHOUSE_TABLES},
            "states": state.load_states(state.profile_ids()),
            "checks": state.due_checks(1 << 62),
            "identity": state.identifiers_of(state.profile_ids()),
            "actions": actions,
            "quarantined": kept_errors(platform),
            "merges": sorted((m["absorbed"], m["survivor"]) for m in merges),
        }


def test_two_processes_give_what_one_gives(tmp_path: Path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    (one / "cdp.toml").write_text(TRIGGERS)
    store_log(one)
    shutil.copytree(one, two)  # the same log, keys and enabled trigger

    expected, actual = projected(one, 1), projected(two, 2)

    child = lambda customer: partition_of(customer.encode(), tuple(range(8))) % 2  # noqa: E731
    assert any(child(absorbed) != child(survivor) for absorbed, survivor in expected["merges"]), "no merge crossed the children"
    assert len(expected["quarantined"]) == 1 and expected["actions"] and expected["tables"]["tag_changes"]
    for table, rows in expected["tables"].items():
        assert actual["tables"][table] == rows, table
    for part in ("states", "checks", "identity", "actions", "quarantined", "merges"):
        assert actual[part] == expected[part], part


def test_a_projection_process_that_dies_fails_its_batch_and_the_next_run_does_it_again(tmp_path: Path):
    (tmp_path / "cdp.toml").write_text(TRIGGERS)
    store_log(tmp_path, 1200)
    with Platform(load_settings(data_dir=tmp_path, batch_size=BATCH, runner={"processes": 2})) as platform:
        runner = platform.runner
        assert runner.run_batch() == BATCH
        [victim, _] = [p for p in multiprocessing.active_children() if p.name.startswith("cdp-projection")]
        os.kill(victim.pid, signal.SIGKILL)
        victim.join()
        with pytest.raises(RunnerProcessStopped, match=victim.name):
            runner.run_batch()
        assert runner.pending()[0] == BATCH  # nothing of the failed batch committed
        assert runner.run() == 1200 + 1 - BATCH  # new processes do it again, and the rest
        assert platform.warehouse.query("SELECT count() AS n FROM cdp.events FINAL")[0]["n"] == 1200
