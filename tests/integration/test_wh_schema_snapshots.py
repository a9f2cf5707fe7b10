"""Every statement every migration runs, compared with the committed snapshot files.

A change to a table's DDL shows up here as a diff to review. After an intended change, rewrite the
snapshots with ``CDP_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/integration/test_wh_schema_snapshots.py``
and commit them with the change (and, once released, add a migration instead of editing one).
"""

import os
from pathlib import Path

import pytest

from cdp.warehouse.migrations import MIGRATIONS

SNAPSHOTS = Path(__file__).parent / "snapshots"


def rendered(steps) -> str:
    return "".join(f"{sql};\n\n" for sql in steps("cdp"))


@pytest.mark.parametrize("number, steps", [(m.number, m.steps) for m in MIGRATIONS], ids=[f"migration-{m.number}" for m in MIGRATIONS])
def test_migration_ddl_matches_its_snapshot(number: int, steps):
    snapshot = SNAPSHOTS / f"migration_{number:04d}.sql"
    text = rendered(steps)
    if os.environ.get("CDP_UPDATE_SNAPSHOTS"):
        snapshot.write_text(text)
    assert snapshot.exists(), f"no snapshot {snapshot.name}: run with CDP_UPDATE_SNAPSHOTS=1 and commit it"
    assert text == snapshot.read_text(), f"{snapshot.name} differs from the DDL: review, then CDP_UPDATE_SNAPSHOTS=1 to accept"


def test_no_snapshot_without_a_migration():
    numbers = {f"migration_{m.number:04d}.sql" for m in MIGRATIONS}
    assert sorted(p.name for p in SNAPSHOTS.glob("migration_*.sql") if p.name not in numbers) == []
