"""Dead letters: listed, shown, and replayed through the path that refused them after a fix."""

from collections.abc import Iterator

import orjson
import pytest

from cdp.config import Settings, SourceLimits
from cdp.platform import Platform
from cdp.replay import replay
from ingestion import segment
from tests.cli import cdp
from tests.collector_server import RunningCollector, running_collector


@pytest.fixture
def collector(settings: Settings) -> Iterator[RunningCollector]:
    with Platform(settings) as platform, running_collector(platform) as running:
        yield running


REFUND = {"type": "track", "event": "Order Refunded", "userId": "u1", "messageId": "refund-1", "properties": {"order_id": "o1", "refund_amount": 30}}


def test_replay_after_a_mapping_fix_stores_the_event_once(collector: RunningCollector, monkeypatch: pytest.MonkeyPatch):
    with collector.client() as http:
        answer = http.post("/v1/batch", json={"batch": [REFUND, {"type": "track", "event": "E", "userId": "u1", "messageId": "ok-1"}]}).json()
        single = http.post("/v1/track", json={k: v for k, v in REFUND.items() if k != "type"} | {"messageId": "refund-2"})
    assert answer["dead_lettered"][0]["reason"].startswith("properties.total: required")
    assert single.status_code == 400
    platform = collector.platform

    before = replay(platform)
    assert before.replayed == [] and len(before.still_failing) == 2  # nothing fixed yet: still kept

    fixed = lambda p: ("order_refunded", {**p, "amount": p.get("total", p.get("refund_amount"))})  # noqa: E731
    monkeypatch.setitem(segment._SEMANTIC, "order refunded", fixed)  # the "mapping fix"
    after = replay(platform)
    assert (len(after.replayed), after.stored, after.still_failing) == (2, 2, [])
    refunds = [orjson.loads(n.state) for n in platform.events.read(0, 100) if orjson.loads(n.state)["event_type"] == "order_refunded"]
    assert sorted(e["message_id"] for e in refunds) == ["refund-1", "refund-2"] and refunds[0]["properties"]["amount"] == 30
    assert replay(platform).replayed == []  # replayed letters are not replayed twice
    assert all(letter.replayed_at for letter in platform.dead_letters.list())


def test_replay_holds_a_letter_to_its_sources_limits(collector: RunningCollector):
    """An event refused for its size is stored by a replay once its source's limit is raised."""
    big = {"event": "Uploaded", "userId": "u1", "messageId": "big-1", "properties": {"note": "x" * 1_500_000}}
    with collector.client() as http:
        refused = http.post("/v1/track", json=big)
    assert refused.status_code == 400 and "the limit is 1,048,576" in refused.json()["message"]
    assert len(collector.platform.dead_letters.list()[0].payload) > 1_500_000
    collector.platform.settings.collector.source_limits["web"] = SourceLimits(max_event_bytes=2 * 1024 * 1024)
    report = replay(collector.platform)
    assert (report.stored, report.still_failing) == (1, [])
    (stored,) = [orjson.loads(n.state) for n in collector.platform.events.read(0, 10)]
    assert stored["message_id"] == "big-1"


def test_deadletter_commands(tmp_path):
    data = tmp_path / "data"
    bad = b'{"message_id": "x", "event_type": "nps_answered", "source_kind": "survey", "source_name": "s", "occurred_at": "2025-01-01", "identifiers": {"email": "a@example.com"}, "properties": {"score": 11}}\n'
    (tmp_path / "e.jsonl").write_bytes(bad)
    assert cdp("ingest", str(tmp_path / "e.jsonl"), data_dir=data).returncode == 1
    listed = cdp("deadletter", "list", "--format", "json", data_dir=data)
    (letter,) = orjson.loads(listed.stdout)
    assert (letter["source"], letter["origin"], letter["replayed"]) == ("s", "e.jsonl:1", False)
    assert letter["reason"] == "properties.score: Input should be less than or equal to 10"
    shown = cdp("deadletter", "show", str(letter["id"]), data_dir=data)
    assert b'"score": 11' in shown.stdout and b"e.jsonl:1" in shown.stdout
    replayed = cdp("deadletter", "replay", data_dir=data)
    assert replayed.returncode == 1 and b"properties.score: Input should be less than or equal to 10" in replayed.stderr
    assert b"0 replayed" in replayed.stdout
    missing = cdp("deadletter", "show", "999", data_dir=data)
    assert missing.returncode == 2 and b"no dead letter has the id 999" in missing.stderr
