"""Triggers on a real platform (event store, state store, the managed warehouse): the runner hands
each batch's actions to the sink, a full rebuild derives the same ids, a trigger enabled today
ignores older causes unless backfilled, and a dry-run lists who would receive what without
sending (docs/triggers.md)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cdp.api.app import create_app
from cdp.api.server import build_collector
from cdp.config import load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.rebuild import rebuild
from cdp.segments.model import parse_segment
from cdp.services import Caller, Forbidden, NotFound, operator
from cdp.services.triggers import TriggerService
from schemas import parse_envelope
from tests.events import event

CONFIG = """
[triggers.rules.greeting]
description = "A birthday greeting three days ahead"
when = { kind = "birthday", days_before = 3 }
then = { destination = "mail", channel = "email", template = "birthday", purpose = "email_marketing" }

[triggers.rules.viewed]
when = { kind = "event", event_type = "product_viewed" }
then = { destination = "mail", channel = "email", template = "viewed", purpose = "email_marketing" }
"""
MARKETER = Caller("key:marketing", frozenset({"triggers:read"}))
ADMIN = Caller("key:ops", frozenset({"admin"}))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in ("CDP_DATA_DIR", "CDP_CONFIG", "CDP_BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    data.mkdir()
    (data / "cdp.toml").write_text(CONFIG)
    with Platform(load_settings(data_dir=data)) as p:
        p.sunk = []
        p.action_sink = lambda actions: p.sunk.extend(actions) or len(actions)
        yield p


def append(platform: Platform, *envelopes: dict) -> None:
    platform.append([parse_envelope(e) for e in envelopes])


LOG = [
    event("identified", "2026-03-01", traits={"birthday": "1990-03-10", "timezone": "Asia/Shanghai"}, email="alice@example.com"),
    event("product_viewed", "2026-03-02", properties={"product_id": "p1"}, email="alice@example.com"),
    event("page_viewed", "2026-03-08", properties={"url": "https://shop.example.com/"}, email="bob@example.com"),
]


def test_the_runner_hands_actions_to_the_sink_and_a_rebuild_derives_the_same_ids(platform: Platform):
    TriggerService(platform, operator()).enable("greeting", now=at("2026-02-01"))
    append(platform, *LOG)
    platform.runner.run()
    assert [(a.rule, a.cause, a.not_before) for a in platform.sunk] == [("trigger:greeting", "d:2026-03-07:birthday", at("2026-03-07T01:00:00"))]
    first = [a.action_id for a in platform.sunk]
    platform.sunk.clear()
    rebuild(platform, [])
    assert [a.action_id for a in platform.sunk] == first  # derived again, same id: the outbox keeps one


def test_a_trigger_enabled_today_ignores_older_causes_and_a_backfill_derives_them(platform: Platform):
    append(platform, *LOG)
    platform.runner.run()
    service = TriggerService(platform, operator())
    enabled = service.enable("viewed", now=at("2026-03-05"))
    append(platform, event("page_viewed", "2026-03-09", properties={"url": "https://shop.example.com/"}, email="alice@example.com"))
    platform.runner.run()
    assert (enabled["start"], platform.sunk) == ("2026-03-05T00:00:00+00:00", [])  # the view of 2026-03-02 is older than the trigger
    service.disable("viewed")
    backfilled = service.enable("viewed", backfill_since=at("2026-03-01"), now=at("2026-03-10"))
    assert (backfilled["backfilled"], backfilled["backfill"], [a.cause for a in platform.sunk]) == (1, True, ["p:2"])
    assert service.list()[1] == {"name": "viewed", "when": "event", "destination": "mail", "channel": "email", "enabled": True, "start": "2026-03-01T00:00:00+00:00", "backfill": True}


def test_a_dry_run_lists_who_would_receive_what_without_sending(platform: Platform):
    append(platform, *LOG)
    platform.runner.run()
    rules = {"rules": {"greeting": {"when": {"kind": "birthday", "days_before": 3}, "then": {"destination": "mail", "channel": "email", "purpose": "email_marketing"}}}}
    result = TriggerService(platform, ADMIN).dry_run(rules, at("2026-03-01"), at("2026-03-31"))
    assert (result["actions"], result["rules"]) == (1, [{"name": "greeting", "actions": 1, "customers": 1}])
    sample = result["sample"][0]
    assert (sample["to"], sample["cause"], sample["not_before"]) == ("***", "d:2026-03-07:birthday", "2026-03-07T01:00:00+00:00")
    assert TriggerService(platform, operator()).dry_run(rules, at("2026-03-08"), at("2026-03-31"))["actions"] == 0  # the period starts after the cause
    assert platform.sunk == []  # nothing sent
    assert platform.triggers.all() == {}  # nothing enabled


def test_dry_run_refusals_name_the_field_and_the_scope(platform: Platform):
    service = TriggerService(platform, operator())
    with pytest.raises(CdpError, match=r"^rules.x.when.revisit.days_after: Input should be greater than 0"):
        service.dry_run({"rules": {"x": {"when": {"kind": "revisit", "days_after": 0}, "then": {"destination": "d", "channel": "sms", "purpose": "sms_marketing"}}}}, at("2026-01-01"), at("2026-02-01"))
    with pytest.raises(CdpError, match="since: must be before until"):
        service.dry_run({"rules": {}}, at("2026-02-01"), at("2026-01-01"))
    with pytest.raises(Forbidden, match="admin"):
        TriggerService(platform, MARKETER).dry_run({"rules": {}}, at("2026-01-01"), at("2026-02-01"))
    assert [r["name"] for r in TriggerService(platform, MARKETER).list()] == ["greeting", "viewed"]
    assert [(r.action, r.outcome) for r in platform.audit.query(action=None)][-2:] == [("trigger.dry_run", "refused"), ("trigger.list", "ok")]


def test_the_http_doors_answer_as_the_service(platform: Platform):
    append(platform, *LOG)
    platform.runner.run()
    client = TestClient(create_app(build_collector(platform), platform))
    admin = {"Authorization": f"Bearer {platform.read_keys.create('ops', ['admin'])[1]}"}
    reader = {"Authorization": f"Bearer {platform.read_keys.create('marketing', ['triggers:read'])[1]}"}
    assert [t["name"] for t in client.get("/v1/triggers", headers=reader).json()] == ["greeting", "viewed"]
    assert client.get("/v1/triggers/greeting", headers=reader).json()["when"] == {"kind": "birthday", "days_before": 3}
    assert client.get("/v1/triggers/nope", headers=reader).status_code == 404
    period = {"since": "2026-03-01T00:00:00Z", "until": "2026-03-31T00:00:00Z"}
    rules = {"rules": {"greeting": {"when": {"kind": "birthday", "days_before": 3}, "then": {"destination": "mail", "channel": "email", "purpose": "email_marketing"}}}}
    assert client.post("/v1/triggers/dry-run", params=period, json=rules, headers=reader).status_code == 403
    answer = client.post("/v1/triggers/dry-run", params=period, json=rules, headers=admin)
    assert (answer.status_code, answer.json()["rules"], answer.json()["sample"][0]["cause"]) == (200, [{"name": "greeting", "actions": 1, "customers": 1}], "d:2026-03-07:birthday")
    rules["rules"]["greeting"]["then"]["purpose"] = "newsletters"
    refused = client.post("/v1/triggers/dry-run", params=period, json=rules, headers=admin)
    assert refused.status_code == 422 and refused.json()["message"].startswith("rules.greeting.then.purpose: Input should be 'email_marketing'")
    assert platform.sunk == []


def test_a_dry_run_keeps_a_rules_segment_members_only(platform: Platform):
    append(platform, *LOG, event("order_placed", "2026-03-02", properties={"order_id": "o1", "amount": 30.0, "currency": "CNY"}, email="bob@example.com"))
    platform.runner.run()
    platform.segments.create(parse_segment({"name": "buyers", "where": {"field": "revenue", "op": ">", "value": 0}}), "test")
    viewed = {"when": {"kind": "event", "event_type": "page_viewed"}, "then": {"destination": "mail", "channel": "email", "purpose": "email_marketing"}}
    everyone = TriggerService(platform, operator()).dry_run({"rules": {"viewed": viewed}}, at("2026-03-01"), at("2026-03-31"))
    buyers = TriggerService(platform, operator()).dry_run({"rules": {"viewed": viewed | {"where": {"segment": "buyers"}}}}, at("2026-03-01"), at("2026-03-31"))
    assert (everyone["actions"], buyers["actions"]) == (1, 1)  # Bob viewed a page and bought
    alice_only = {"when": {"kind": "event", "event_type": "product_viewed"}, "then": viewed["then"], "where": {"segment": "buyers"}}
    assert TriggerService(platform, operator()).dry_run({"rules": {"x": alice_only}}, at("2026-03-01"), at("2026-03-31"))["actions"] == 0  # Alice bought nothing
    with pytest.raises(NotFound, match="where.segment: no segment named 'nobody'"):
        TriggerService(platform, operator()).dry_run({"rules": {"x": alice_only | {"where": {"segment": "nobody"}}}}, at("2026-03-01"), at("2026-03-31"))
