"""Refused requests in the audit log, bounded per client address: a flood of keyless requests cannot
grow the append-only log without limit, and what was not recorded is counted."""

from pathlib import Path

from cdp.api import refusal_records
from cdp.api.refusal_records import RefusalRecords
from cdp.audit import AuditLog


def test_past_the_bound_refusals_are_counted_into_the_addresses_next_record(tmp_path: Path):
    audit, now = AuditLog(tmp_path / "audit.sqlite"), [0.0]
    records = RefusalRecords(audit, per_minute=5, clock=lambda: now[0])
    for _ in range(12):
        records.record("anonymous", "GET /v1/profiles/{identifier}", "refused:401", {"client": "203.0.113.7", "reason": "no key"})
    records.record("anonymous", "POST /v1/track", "refused:401", {"client": "198.51.100.2", "reason": "no key"})  # another address keeps its records
    now[0] = 61.0
    records.record("anonymous", "POST /v1/track", "refused:401", {"client": "203.0.113.7", "reason": "no key"})
    rows = audit.query(action="request.refused", limit=1000)
    assert [r.detail["client"] for r in rows] == ["203.0.113.7"] * 5 + ["198.51.100.2", "203.0.113.7"]
    assert rows[-1].detail["unrecorded_before"] == 7 and "unrecorded_before" not in rows[-2].detail


def test_the_addresses_tracked_are_bounded_and_a_stale_count_is_recorded_when_let_go(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(refusal_records, "MAX_ADDRESSES", 3)
    audit, now = AuditLog(tmp_path / "audit.sqlite"), [0.0]
    records = RefusalRecords(audit, per_minute=1, clock=lambda: now[0])
    for client in ("a", "a", "b", "c"):  # a: one recorded, one counted
        records.record("anonymous", "GET /x", "refused:401", {"client": client})
    records.record("anonymous", "GET /x", "refused:401", {"client": "d"})  # three tracked, none stale: recorded, untracked
    now[0] = 61.0
    records.record("anonymous", "GET /x", "refused:401", {"client": "e"})  # the stale ones let go, a's count recorded
    rows = audit.query(action="request.refused", limit=1000)
    assert [(r.detail["client"], r.outcome) for r in rows] == [("a", "refused:401"), ("b", "refused:401"), ("c", "refused:401"), ("d", "refused:401"), ("a", "unrecorded"), ("e", "refused:401")]
    assert rows[4].detail["unrecorded_before"] == 1
