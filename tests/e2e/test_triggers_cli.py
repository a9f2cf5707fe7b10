"""`cdp triggers` as a user runs it: a dry-run of a rules file over a past period (counts per rule,
a sample without personal data, nothing sent or enabled), a bad rules file refused naming the
field, and enabling a configured rule (docs/triggers.md)."""

from pathlib import Path

import orjson

from tests.cli import cdp
from tests.events import event

RULES = """
[rules.birthday_greeting]
when = { kind = "birthday", days_before = 3 }
then = { destination = "mail", channel = "email", template = "birthday", purpose = "email_marketing" }

[rules.complaint_late]
when = { kind = "complaint_past_sla" }
then = { destination = "team_chat", channel = "staff", template = "alert", purpose = "" }
"""


def test_dry_run_list_and_enable(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "cdp.toml").write_text("[triggers]\ndefault_time_zone = 'Asia/Shanghai'\n" + RULES.replace("[rules.", "[triggers.rules."))
    log = [
        event("identified", "2026-03-01", traits={"birthday": "1990-03-10"}, email="alice@example.com"),
        event("ticket_opened", "2026-03-02T08:00:00Z", properties={"ticket_id": "T9", "is_complaint": True}, email="bob@example.com"),
        event("page_viewed", "2026-03-03", properties={"url": "https://shop.example.com/"}, email="carol@example.com"),  # the log's time passes the SLA
        event("page_viewed", "2026-03-08", properties={"url": "https://shop.example.com/"}, email="carol@example.com"),  # ... and the greeting's day
    ]
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"\n".join(orjson.dumps(e) for e in log) + b"\n")
    assert cdp("ingest", str(events), data_dir=data).returncode == 0
    assert cdp("run", data_dir=data).returncode == 0
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)

    shown = cdp("triggers", "dry-run", str(rules), "--since", "2026-03-01", "--until", "2026-03-31", "--format", "json", data_dir=data)
    assert shown.returncode == 0, shown.stderr.decode()
    result = orjson.loads(shown.stdout)
    assert result["rules"] == [{"name": "birthday_greeting", "actions": 1, "customers": 1}, {"name": "complaint_late", "actions": 1, "customers": 1}]
    assert [(s["rule"], s["cause"], s["to"], s["not_before"]) for s in result["sample"]] == [
        ("complaint_late", "d:2026-03-03:complaint:T9:response", "***", None),
        ("birthday_greeting", "d:2026-03-07:birthday", "***", "2026-03-07T01:00:00+00:00"),
    ]
    assert b"alice@example.com" not in shown.stdout

    table = cdp("triggers", "dry-run", str(rules), "--since", "2026-03-01", "--until", "2026-03-31", data_dir=data)
    assert b"2 action(s), nothing sent" in table.stdout

    rules.write_text(RULES.replace("days_before = 3", "days_before = 99"))
    refused = cdp("triggers", "dry-run", str(rules), "--since", "2026-03-01", data_dir=data)
    assert (refused.returncode, refused.stdout) == (2, b"")
    assert b"rules.birthday_greeting.when.birthday.days_before: Input should be less than or equal to 60" in refused.stderr
    assert b"Traceback" not in refused.stderr

    listed = orjson.loads(cdp("triggers", "list", "--format", "json", data_dir=data).stdout)
    assert [(t["name"], t["enabled"]) for t in listed] == [("birthday_greeting", False), ("complaint_late", False)]
    enabled = cdp("triggers", "enable", "birthday_greeting", "--backfill", "2026-03-01", data_dir=data)
    assert enabled.returncode == 0, enabled.stderr.decode()
    assert b"birthday_greeting: enabled, causes from 2026-03-01T00:00:00+00:00 fire; 1 backfilled action(s)" in enabled.stdout
    unknown = cdp("triggers", "enable", "nope", data_dir=data)
    assert unknown.returncode == 2 and b"no trigger named 'nope'; configured: birthday_greeting, complaint_late" in unknown.stderr
