"""The embedded runner killed between writing a batch's rows to the warehouse and committing its
state, with events appended before it resumes: the warehouse ends as if it had never been killed."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cdp.config import load_settings
from cdp.platform import Platform
from ingestion.validation import validate
from projections.tables import WAREHOUSE_TABLES
from tests.crash import Killed, killed
from tests.events import event, order
from tests.integration.scaleout_harness import table_rows


# as of June, s (one purchase, in December) is at risk, then churned
FIRST = [order("2025-12-01", 40.0, "o1", email="s@example.com"), event("page_viewed", "2026-06-01", email="other@example.com")]
LATE = [order("2026-02-01", 40.0, "o2", email="s@example.com")]  # ...but a February order arrives late


def append(platform: Platform, envelopes: list[dict]) -> None:
    platform.append([validate(e, datetime(2026, 6, 2, tzinfo=UTC)) for e in envelopes])  # received at the same time in both runs


def every_table(platform: Platform) -> dict[str, list[tuple]]:
    return {t.name: table_rows(platform.warehouse, t.name) for t in WAREHOUSE_TABLES}


def warehouse_after(data_dir: Path, first_batch: Callable[[Platform], None]) -> dict[str, list[tuple]]:
    with Platform(load_settings(data_dir=data_dir)) as platform:
        append(platform, FIRST)
        first_batch(platform)
        append(platform, LATE)
        platform.runner.run()
        return every_table(platform)


def test_a_runner_killed_while_writing_writes_the_same_batch_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def killed_before_commit(platform: Platform) -> None:
        with monkeypatch.context() as patch:
            patch.setattr(platform.runner._state, "commit", killed)  # after the warehouse inserts, before the state commit
            with pytest.raises(Killed):
                platform.runner.run()
        assert any("'at_risk'" in row for row in table_rows(platform.warehouse, "lifecycle_transitions")), "the killed batch wrote nothing to set right"

    expected = warehouse_after(tmp_path / "never-killed", lambda platform: platform.runner.run())
    assert warehouse_after(tmp_path / "killed", killed_before_commit) == expected
