"""Consent end to end with the real ``cdp`` command: consent events in, an operator's suppression,
purpose-bound exports, and a rebuild that gives the same consent."""

import csv
from pathlib import Path

import orjson

from cdp.config import load_settings
from cdp.platform import Platform
from tests.cli import cdp
from tests.events import event

LOG = [
    event("consent_given", "2025-01-01", properties={"purpose": "email_marketing", "channel": "signup_form"}, email="ann@example.com"),
    event("consent_given", "2025-01-01", properties={"purpose": "email_marketing"}, email="bob@example.com") | {"source_kind": "sales"},
    event("consent_withdrawn", "2025-02-01", properties={"purpose": "email_marketing"}, email="bob@example.com") | {"source_kind": "survey"},
    event("consent_given", "2025-01-01", properties={"purpose": "email_marketing"}, email="cat@example.com"),
    event("page_viewed", "2025-03-01", email="dan@example.com"),
]
STATE = "SELECT * FROM cdp.{} FINAL ORDER BY ALL"
TABLES = ("customer_consent", "consent_changes", "suppressions")


def ok(*args: str, data_dir: Path) -> str:
    done = cdp(*args, data_dir=data_dir)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def state(data_dir: Path) -> dict[str, list[dict]]:
    """The consent tables' rows, read in this process: what is compared is what the commands wrote
    (``cdp sql`` would cost a process start for each table, six in all)."""
    with Platform(load_settings(data_dir=data_dir)) as platform:
        return {table: platform.warehouse.query(STATE.format(table)) for table in TABLES}


def exported(path: Path) -> list[str]:
    with path.open() as handle:
        return sorted(row["emails"] for row in csv.DictReader(handle))


def test_consent_suppression_exports_and_rebuild(tmp_path: Path):
    data, log, segment = tmp_path / "data", tmp_path / "log.jsonl", tmp_path / "everyone.yaml"
    log.write_bytes(b"\n".join(map(orjson.dumps, LOG)) + b"\n")
    segment.write_text('name: everyone\nwhere: {field: events_total, op: ">=", value: 1}\n')
    ok("ingest", str(log), data_dir=data)
    assert "cat@example.com suppressed for email_marketing" in ok("suppress", "add", "cat@example.com", "--purpose", "email_marketing", "--note", "ticket 7", data_dir=data)
    ok("run", data_dir=data)
    listed = orjson.loads(ok("suppress", "list", "--format", "json", data_dir=data))
    assert [(r["identifier"], r["purpose"], r["reason"], r["source"], r["note"]) for r in listed] == [("email:cat@example.com", "email_marketing", "operator", "operator", "ticket 7")]

    refused = cdp("segment", "export", "-f", str(segment), "--out", str(tmp_path / "x.csv"), data_dir=data)
    assert refused.returncode == 2 and "purpose: required to export contact data (emails, phones)" in refused.stderr.decode()
    assert "Traceback" not in refused.stderr.decode() and not (tmp_path / "x.csv").exists()

    out = ok("segment", "export", "-f", str(segment), "--purpose", "email_marketing", "--out", str(tmp_path / "mail.csv"), data_dir=data)
    assert "wrote 1 customers of everyone with consent to email_marketing in force and not suppressed" in " ".join(out.split())
    assert exported(tmp_path / "mail.csv") == ["ann@example.com"]
    ok("segment", "export", "-f", str(segment), "--purpose", "none", "--out", str(tmp_path / "all.csv"), data_dir=data)
    assert exported(tmp_path / "all.csv") == ["ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com"]
    assert "everyone: 1 customers" in ok("segment", "count", "-f", str(segment), "--purpose", "email_marketing", data_dir=data)

    bad = cdp("suppress", "add", "not an identifier", data_dir=data)
    assert bad.returncode == 2 and "identifier: 'not an identifier' is not email:..., phone:... or user_id:..." in bad.stderr.decode()
    bad = cdp("suppress", "add", "ann@example.com", "--purpose", "spam", data_dir=data)
    assert bad.returncode == 2 and "properties.purpose: Input should be 'email_marketing'" in bad.stderr.decode()

    before = state(data)
    assert len(before["consent_changes"]) == 4
    ok("projections", "rebuild", data_dir=data)
    assert state(data) == before
