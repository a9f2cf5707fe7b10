"""The depth and size limits hold for every part of every event stored, whatever door it came
through (a batch's shared context included); a message too deep to serialise is dead-lettered,
never a 500; a reused message id, a second ``batch`` key and a shared context that is not an
object are refused with the reason, never silently dropped."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from pydantic import BaseModel, ConfigDict

from cdp.api import server
from cdp.config import Settings, SourceLimits
from cdp.platform import Platform
from ingestion.connectors.x_mentions import XMentions
from ingestion.connectors.zendesk import ZendeskTicketEvents
from ingestion.jsontext import CUT, deeper_than
from ingestion.replay import replay_envelopes
from ingestion.sdk import Connector, Touch, sort_records
from ingestion.validation import MAX_DEPTH, Invalid, validate
from tests.cli import cdp
from tests.collector_server import RunningCollector, running_collector
from tests.events import event

GOOD = {"type": "track", "event": "Clicked", "userId": "u", "messageId": "good"}


@pytest.fixture
def collector(settings: Settings) -> Iterator[RunningCollector]:
    settings.collector.source_limits["tiny"] = settings.collector.limits.model_copy(update={"max_batch_bytes": 2000, "max_event_bytes": 700})
    with Platform(settings) as platform, running_collector(platform) as running:
        yield running


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value  # ``depth`` levels of objects


def deep(depth: int) -> bytes:
    """JSON text of ``depth`` levels of objects, at any depth (orjson serialises at most 254)."""
    return b'{"a": ' * (depth - 1) + b"{}" + b"}" * (depth - 1)


def stored(c: RunningCollector) -> list[dict]:
    """The event store read back, as the runner reads it."""
    return [orjson.loads(n.state) for n in c.platform.events.read(0, 10_000)]


def post(c: RunningCollector, path: str, body: bytes, key: str | None = None):
    with c.client(key) as http:
        return http.post(path, content=body)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 253, 300, 1000])
def test_a_too_deep_shared_context_is_refused_kept_and_never_stored(collector: RunningCollector, depth: int):
    response = post(collector, "/v1/batch", b'{"batch": [' + orjson.dumps(GOOD) + b'], "context": ' + deep(depth) + b"}")
    assert response.status_code == 400, response.text
    assert response.json()["message"] == f"context: nested deeper than {MAX_DEPTH} levels (the batch's shared context) (kept in the dead-letter store)"
    assert stored(collector) == [] and collector.platform.dead_letters.count() == 1


def test_a_shared_context_at_the_limit_is_stored(collector: RunningCollector):
    assert post(collector, "/v1/batch", orjson.dumps({"batch": [GOOD], "context": nested(MAX_DEPTH)})).json() == {"success": True}
    (stored_event,) = stored(collector)
    assert not deeper_than(stored_event["context"], MAX_DEPTH)


def test_the_event_as_mapped_is_held_to_the_limits(collector: RunningCollector):
    """Parts within their limits that make an event beyond them (shared integrations copied into
    ``context.segment``, a shared context copied into every event) are refused per event."""
    mapped = post(collector, "/v1/batch", orjson.dumps({"batch": [GOOD], "integrations": nested(MAX_DEPTH)})).json()
    assert mapped["dead_lettered"] == [{"index": 0, "reason": f"context: nested deeper than {MAX_DEPTH} levels"}]
    key = collector.add_source("tiny", "website")
    body = orjson.dumps({"batch": [GOOD, {**GOOD, "messageId": "second"}], "context": {"note": "x" * 600}})
    big = post(collector, "/v1/batch", body, key).json()
    assert [(r["index"], r["reason"].split(" bytes")[0][:9]) for r in big["dead_lettered"]] == [(0, "(event): "), (1, "(event): ")]
    assert "the limit is 700" in big["dead_lettered"][0]["reason"]
    assert stored(collector) == [] and collector.platform.dead_letters.count() == 3


def test_a_shared_context_copied_beyond_the_batch_limit_is_refused(collector: RunningCollector):
    """A request cannot make many times its own size in events: what a batch shares counts once per message."""
    key = collector.add_source("tiny", "website")
    body = orjson.dumps({"batch": [{**GOOD, "messageId": str(i)} for i in range(8)], "context": {"note": "x" * 300}})
    response = post(collector, "/v1/batch", body, key)
    assert response.status_code == 400 and response.json()["message"].startswith("context: the batch's shared context (311 bytes) copied into its 8 messages makes more than the batch limit of 2,000 bytes")
    assert stored(collector) == [] and collector.platform.dead_letters.count() == 1
    assert post(collector, "/v1/batch", orjson.dumps({"batch": [GOOD], "context": {"note": "x" * 300}}), key).json() == {"success": True}


@pytest.mark.parametrize("depth", [255, 300, 1000])
def test_a_message_too_deep_to_serialise_is_dead_lettered_and_the_rest_stored(collector: RunningCollector, depth: int):
    message = b'{"type": "track", "event": "Deep", "userId": "u", "properties": ' + deep(depth) + b"}"
    response = post(collector, "/v1/batch", b'{"batch": [' + orjson.dumps(GOOD) + b", " + message + b"]}")
    assert response.status_code == 200, response.text
    reason = f"properties: nested deeper than {MAX_DEPTH} levels (kept cut at {2 * MAX_DEPTH} levels)"
    assert response.json() == {"success": True, "dead_lettered": [{"index": 1, "reason": reason}]}
    assert [e["message_id"] for e in stored(collector)] == ["good"]
    (letter,) = collector.platform.dead_letters.list()
    kept = orjson.loads(letter.payload)
    assert (letter.origin, letter.reason, kept["event"]) == ("segment:/v1/batch#1", reason, "Deep")
    assert CUT in letter.payload.decode() and deeper_than(kept, MAX_DEPTH)  # a replay refuses it again


@pytest.mark.parametrize(("field", "value"), [("options", deep(MAX_DEPTH + 1)), ("userId", b"[" + deep(MAX_DEPTH) + b"]"), ("_metadata", deep(300))])
def test_any_field_of_a_message_too_deep_is_named(collector: RunningCollector, field: str, value: bytes):
    body = b'{"batch": [' + orjson.dumps(GOOD) + b', {"type": "track", "event": "E", "userId": "u", "' + field.encode() + b'": ' + value + b"}]}"
    answer = post(collector, "/v1/batch", body).json()
    assert [r["reason"].split(" (kept")[0] for r in answer["dead_lettered"]] == [f"{field}: nested deeper than {MAX_DEPTH} levels"]
    assert [e["message_id"] for e in stored(collector)] == ["good"]


@pytest.mark.parametrize("depth", [300, 1000])
def test_a_single_call_too_deep_to_serialise_is_a_400_and_kept(collector: RunningCollector, depth: int):
    body = b'{"event": "Deep", "userId": "u", "context": {"a": ' + b"[" * depth + b"]" * depth + b"}}"
    response = post(collector, "/v1/track", body)
    assert response.status_code == 400
    assert response.json()["message"] == f"context: nested deeper than {MAX_DEPTH} levels (kept in the dead-letter store)"
    assert stored(collector) == [] and [letter.payload for letter in collector.platform.dead_letters.list()] == [body]  # as sent


@pytest.mark.parametrize("depth", [1025, 10_000, 100_000])
@pytest.mark.parametrize("path", ["/v1/track", "/v1/batch"])
def test_a_body_past_the_parsers_depth_is_a_400(collector: RunningCollector, path: str, depth: int):
    response = post(collector, path, b'{"batch": [' + b"[" * depth + b"]" * depth + b"]}")
    assert response.status_code == 400 and response.json()["message"].startswith("body: malformed JSON (depth limit exceeded")
    assert collector.platform.dead_letters.count() == 1


def test_a_different_event_under_a_used_message_id_is_dead_lettered(collector: RunningCollector):
    other = {**GOOD, "event": "Something else"}
    answer = post(collector, "/v1/batch", orjson.dumps({"batch": [GOOD, GOOD, other]})).json()
    assert answer["dead_lettered"] == [{"index": 2, "reason": "message_id: 'good' is the id of an earlier, different event in this request"}]
    assert [e["properties"]["name"] for e in stored(collector)] == ["Clicked"]  # the identical copy is the same event
    assert [letter.origin for letter in collector.platform.dead_letters.list()] == ["segment:/v1/batch#2"]


@pytest.mark.parametrize("second", [b'"batch"', b'"bat\\u0063h"', b'"\\u0062atch" '])
def test_two_batch_keys_are_refused_and_kept(collector: RunningCollector, second: bytes):
    body = b'{"batch": [' + orjson.dumps(GOOD) + b'], "sentAt": "2025-01-01T00:00:00Z", ' + second + b": []}"
    response = post(collector, "/v1/batch", body)
    assert response.status_code == 400
    assert response.json()["message"] == "batch: given twice in the batch body (only one would be read) (kept in the dead-letter store)"
    assert stored(collector) == [] and collector.platform.dead_letters.list()[0].payload == body
    assert post(collector, "/v1/batch", orjson.dumps({"batch": [GOOD, {**GOOD, "messageId": "2", "properties": {"batch": "b"}}]})).status_code == 200


@pytest.mark.parametrize("field", ["context", "integrations"])
@pytest.mark.parametrize("value", ["x", [], 0, False])
def test_a_shared_context_that_is_not_an_object_is_refused_and_kept(collector: RunningCollector, field: str, value):
    response = post(collector, "/v1/batch", orjson.dumps({"batch": [GOOD], field: value}))
    assert response.status_code == 400 and response.json()["message"].startswith(f"{field}: expected a JSON object (the batch's shared {field}), got ")
    assert stored(collector) == [] and collector.platform.dead_letters.count() == 1


def test_a_replayed_batch_goes_through_the_same_batch_checks():
    payload = orjson.dumps({"batch": [GOOD], "context": nested(MAX_DEPTH + 2)})
    with pytest.raises(Invalid, match="context: nested deeper than 32 levels"):
        replay_envelopes("segment:/v1/batch", "web", payload, datetime.now(UTC), {}, SourceLimits())


def test_a_webhook_event_bigger_than_its_sources_limit_is_dead_lettered(collector: RunningCollector):
    """The event limit, not the body limit, holds for a webhook's events."""
    key = collector.add_source("tiny", "service", "zendesk")
    delivery = ZendeskTicketEvents.examples[0] | {"detail": ZendeskTicketEvents.examples[0]["detail"] | {"subject": "s" * 1000}}
    with collector.client(key) as http:
        answer = http.post("/v1/webhooks/tiny", content=orjson.dumps(delivery)).json()
    assert "the limit is 700" in answer["dead_lettered"][0]["reason"]
    assert stored(collector) == []


class Copied(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int


class Passthrough(Connector):
    """A connector that copies a record into the event's context, as a careless one might."""

    name = "passthrough"
    tool = "tests"
    source_kind = "website"
    Record = Copied

    def map(self, record: Copied):
        yield Touch(str(record.id), "page_viewed", "2025-01-01T00:00:00Z", {"anonymous_id": "a"}, context={"record": {"id": record.id, **(record.model_extra or {})}})


def test_a_webhook_event_too_deep_is_dead_lettered_as_sent(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    installed = server.connectors()
    monkeypatch.setattr(server, "connectors", lambda: ({**installed[0], Passthrough.name: Passthrough}, installed[1]))
    with Platform(settings) as platform, running_collector(platform) as collector:
        key = collector.add_source("tool", "website", Passthrough.name)
        bodies = [orjson.dumps({"id": 1}), orjson.dumps({"id": 2, "x": nested(MAX_DEPTH)}), b'{"id": 3, "x": ' + b"[" * 600 + b"]" * 600 + b"}"]
        with collector.client(key) as http:
            answers = [http.post("/v1/webhooks/tool", content=body) for body in bodies]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.json().get("dead_lettered") for a in answers] == [None, *[[{"index": 0, "reason": f"context: nested deeper than {MAX_DEPTH} levels"}]] * 2]
        assert [e["message_id"] for e in stored(collector)] == ["passthrough:1"]
        assert sorted(letter.payload for letter in platform.dead_letters.list()) == sorted(bodies[1:])


def test_connector_events_are_held_to_the_depth_limit():
    items = [orjson.dumps({"id": 1, "x": nested(5)}), orjson.dumps({"id": 2, "x": nested(MAX_DEPTH)}), {"id": 3, "x": nested(300)}]
    result = sort_records(Passthrough(), items, "tool", datetime.now(UTC), "import:passthrough:f.jsonl", SourceLimits())
    assert [e.message_id for e in result.events] == ["passthrough:1"]
    assert [(index, letter.reason) for index, letter in result.rejected] == [
        (1, f"context: nested deeper than {MAX_DEPTH} levels"),
        (2, f"context: nested deeper than {MAX_DEPTH} levels (kept cut at {2 * MAX_DEPTH} levels)"),
    ]


def test_a_file_line_is_held_to_the_event_limit_a_webhook_body_to_the_batch_limit():
    """A webhook body may hold many events; a file line, one record, no more than an event may."""
    tweets = [{"id": str(i), "text": "t" * 300, "author_id": "a", "created_at": "2025-11-24T07:30:00Z"} for i in range(5)]
    item = orjson.dumps({"data": tweets})
    limits = SourceLimits(max_batch_bytes=4000, max_event_bytes=1000)
    as_line, as_body = (sort_records(XMentions(), [item], "x", datetime.now(UTC), origin, limits) for origin in ("import:x-mentions:f.jsonl", "webhook:x-mentions"))
    assert [letter.reason for letter in as_line.letters] == [f"(event): {len(item):,} bytes; the limit is 1,000"]
    assert (len(as_body.events), as_body.rejected) == (5, [])


def test_cdp_ingest_refuses_a_too_deep_line_naming_the_field(tmp_path: Path):
    lines = [event("page_viewed", "2025-01-03", anonymous_id=who) | {"context": nested(depth)} for who, depth in (("a", MAX_DEPTH), ("b", MAX_DEPTH + 1))]
    too_deep = orjson.dumps(event("page_viewed", "2025-01-03", anonymous_id="c")).replace(b'"identifiers"', b'"context": ' + deep(400) + b', "identifiers"')
    file = tmp_path / "events.jsonl"
    file.write_bytes(b"\n".join([*map(orjson.dumps, lines), too_deep]) + b"\n")
    result = cdp("ingest", str(file), data_dir=tmp_path / "data")
    errors = result.stderr.decode()
    assert result.returncode == 1 and "Traceback" not in errors
    for number in (2, 3):
        assert f"events.jsonl:{number}: context: nested deeper than {MAX_DEPTH} levels" in errors, errors
    assert "1 stored, 0 already stored, 2 rejected" in result.stdout.decode()


def test_an_event_orjson_cannot_serialise_is_invalid_with_the_reason():
    with pytest.raises(Invalid, match=f"^context: nested deeper than {MAX_DEPTH} levels$"):
        validate(event("page_viewed", "2025-01-03", anonymous_id="a") | {"context": orjson.loads(deep(300))}, datetime.now(UTC))
    with pytest.raises(Invalid, match=r"^\(event\): not serialisable as JSON \(Integer exceeds 64-bit range\)$"):
        validate(event("page_viewed", "2025-01-03", anonymous_id="a") | {"context": {"n": 2**70}}, datetime.now(UTC))
