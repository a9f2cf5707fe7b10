"""The audit log: append-only, hash-chained, queryable, shared by several processes."""

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from cdp.audit import AuditLog, cli_actor


@pytest.fixture
def log(tmp_path):
    audit = AuditLog(tmp_path / "audit.sqlite")
    yield audit
    audit.close()


def test_records_are_queryable_by_time_actor_and_action(log: AuditLog):
    log.record("key:bi", "profile.read", "c1", "ok", {"pii": False})
    log.record("cli:ana", "key.create", "bi", "ok")
    log.record("key:bi", "segment.members", "big", "ok")
    assert [r.action for r in log.query()] == ["profile.read", "key.create", "segment.members"]
    assert [r.target for r in log.query(actor="key:bi")] == ["c1", "big"]
    assert [r.target for r in log.query(action="key.*")] == ["bi"]
    assert [r.action for r in log.query(limit=1)] == ["segment.members"]  # the latest
    assert log.query(since=datetime.now(UTC) + timedelta(minutes=1)) == []
    assert log.query(action="profile.read")[0].detail == {"pii": False}
    assert cli_actor().startswith("cli:")


def test_update_and_delete_are_refused(log: AuditLog, tmp_path):
    log.record("key:bi", "profile.read", "c1", "ok")
    db = sqlite3.connect(tmp_path / "audit.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="append-only: UPDATE refused"):
        db.execute("UPDATE audit SET actor = 'someone-else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only: DELETE refused"):
        db.execute("DELETE FROM audit")
    assert log.verify().ok


@pytest.mark.parametrize(
    "tamper, problem",
    [
        ("UPDATE audit SET target = 'c9' WHERE seq = 2", "record 2 was changed after it was written"),
        ("DELETE FROM audit WHERE seq = 2", "record 3 follows record 1"),
        ("DELETE FROM audit WHERE seq = 3", None),  # the last record removed: only the kept head hash shows it
        ("UPDATE audit SET hash = 'x' || substr(hash, 2) WHERE seq = 1", "record 1 was changed"),
    ],
)
def test_verify_names_the_first_tampered_record(log: AuditLog, tmp_path, tamper: str, problem: str | None):
    for target in ("c1", "c2", "c3"):
        log.record("key:bi", "profile.read", target, "ok")
    head = log.verify().head
    db = sqlite3.connect(tmp_path / "audit.sqlite", isolation_level=None)
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("DROP TRIGGER audit_no_delete")
    db.execute(tamper)
    result = log.verify()
    if problem is None:
        assert result.ok and result.head != head
    else:
        assert not result.ok and result.problem.startswith(problem)


def test_processes_appending_at_once_keep_one_chain(tmp_path):
    path = tmp_path / "audit.sqlite"
    AuditLog(path).close()
    script = "import sys; from pathlib import Path; from cdp.audit import AuditLog\n" "a = AuditLog(Path(sys.argv[1]))\n" "for i in range(50): a.record('p' + sys.argv[2], 'x', str(i), 'ok')\n"
    workers = [subprocess.Popen([sys.executable, "-c", script, str(path), str(n)]) for n in range(3)]
    assert [w.wait(120) for w in workers] == [0, 0, 0]
    log = AuditLog(path)
    result = log.verify()
    assert result.ok and result.records == 150
    log.close()
