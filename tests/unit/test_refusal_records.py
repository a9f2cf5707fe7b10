"""Refused requests in the audit log, bounded per client address: a flood of keyless requests cannot
grow the append-only log without limit, and what was not recorded is counted."""

from pathlib import Path

from cdp import refusal_records
from cdp.audit import AuditLog
from cdp.refusal_records import RefusalRecords


def refused(records: RefusalRecords, client: str) -> None:
    records.record("anonymous", "request.refused", "GET /v1/profiles/{identifier}", "refused:401", {"client": client, "reason": "no key"})


def test_past_the_bound_refusals_are_counted_into_the_addresses_next_record(tmp_path: Path):
    audit, now = AuditLog(tmp_path / "audit.sqlite"), [0.0]
    records = RefusalRecords(audit, per_minute=5, clock=lambda: now[0])
    for _ in range(12):
        refused(records, "203.0.113.7")
    refused(records, "198.51.100.2")  # another address keeps its records
    now[0] = 61.0
    refused(records, "203.0.113.7")
    rows = audit.query(action="request.refused", limit=1000)
    assert [r.detail["client"] for r in rows] == ["203.0.113.7"] * 5 + ["198.51.100.2", "203.0.113.7"]
    assert rows[-1].detail["unrecorded_before"] == 7 and "unrecorded_before" not in rows[-2].detail


def test_addresses_past_those_tracked_share_one_allowance_and_a_stale_count_is_recorded(tmp_path: Path, monkeypatch):
    """Many addresses (or X-Forwarded-For forged from a trusted proxy's address) gain no allowance each."""
    monkeypatch.setattr(refusal_records, "MAX_ADDRESSES", 3)
    audit, now = AuditLog(tmp_path / "audit.sqlite"), [0.0]
    records = RefusalRecords(audit, per_minute=2, clock=lambda: now[0])
    for client in ("a", "a", "a", "b", "c"):  # a: two recorded, one counted; three addresses tracked
        refused(records, client)
    for i in range(10):  # untracked: two recorded between them
        refused(records, f"10.9.0.{i}")
    now[0] = 61.0
    refused(records, "e")  # the stale ones let go, a's count recorded, then e tracked
    rows = audit.query(action="request.refused", limit=1000)
    assert [(r.detail["client"], r.outcome) for r in rows] == [
        ("a", "refused:401"), ("a", "refused:401"), ("b", "refused:401"), ("c", "refused:401"),
        ("10.9.0.0", "refused:401"), ("10.9.0.1", "refused:401"), ("a", "unrecorded"), ("e", "refused:401"),
    ]  # fmt: skip
    assert rows[6].detail["unrecorded_before"] == 1
