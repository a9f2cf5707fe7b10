"""Hostile input: every bad request gets a precise 4xx naming the field, or its events are kept in
the dead-letter store; never a 500, never silent loss. A corpus, a property test, and a count
reconciliation (every event sent is in the event store or the dead-letter store)."""

import gzip
import itertools
import json
from collections.abc import Iterator

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from hypothesis import strategies as st

from cdp.config import Settings
from cdp.platform import Platform
from tests.collector_server import RunningCollector, basic, running_collector


@pytest.fixture
def collector(settings: Settings) -> Iterator[RunningCollector]:
    settings.collector.limits = settings.collector.limits.model_copy(update={"max_batch_bytes": 200_000, "max_event_bytes": 20_000})
    with Platform(settings) as platform, running_collector(platform) as running:
        yield running


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


# (name, path, body, extra headers, expected status, the error message starts with, dead letters kept)
CORPUS = [
    ("malformed JSON", "/v1/track", b'{"userId": "u", "event": ', {}, 400, "body: malformed JSON", 1),
    ("invalid UTF-8", "/v1/track", b'{"userId": "\xff\xfe", "event": "E"}', {}, 400, "body: malformed JSON", 1),
    ("NaN", "/v1/track", b'{"userId": "u", "event": "E", "properties": {"x": NaN}}', {}, 400, "body: malformed JSON", 1),
    ("Infinity", "/v1/batch", b'{"batch": [{"type": "track", "userId": "u", "event": "E", "properties": {"x": Infinity}}]}', {}, 400, "body: malformed JSON", 1),
    ("not an object", "/v1/track", b"[1, 2, 3]", {}, 400, "(message): expected a JSON object", 1),
    ("batch not a list", "/v1/batch", b'{"batch": {"type": "track"}}', {}, 400, "batch: required, an array", 1),
    ("batch missing", "/v1/batch", b"{}", {}, 400, "batch: required", 1),
    ("unknown batch field", "/v1/batch", b'{"batch": [], "evil": 1}', {}, 400, "evil: unknown field", 1),
    ("unknown message field", "/v1/track", b'{"userId": "u", "event": "E", "evil": 1}', {}, 400, "evil: unknown field", 1),
    ("a 15 kB trait name", "/v1/identify", orjson.dumps({"userId": "u", "traits": {"x" * 15_000: 1}}), {}, 400, "traits", 1),  # quoted, cut short
    ("missing identifiers", "/v1/track", b'{"event": "E"}', {}, 400, "userId: one of userId or anonymousId is required", 1),
    ("wrong type of userId", "/v1/track", b'{"userId": {"a": 1}, "event": "E"}', {}, 400, "userId: expected a string", 1),
    ("wrong type of properties", "/v1/track", b'{"userId": "u", "event": "E", "properties": "x"}', {}, 400, "properties: expected a JSON object", 1),
    ("missing event name", "/v1/track", b'{"userId": "u"}', {}, 400, "event: required", 1),
    ("wrong call type", "/v1/track", b'{"type": "identify", "userId": "u"}', {}, 400, "type: 'identify' sent to the /v1/track endpoint", 1),
    ("absurd timestamp", "/v1/track", b'{"userId": "u", "event": "E", "timestamp": "1970-01-01T00:00:00Z"}', {}, 400, "timestamp: 1970-01-01T00:00:00Z is not between", 1),
    ("far-future timestamp", "/v1/track", b'{"userId": "u", "event": "E", "timestamp": "9999-12-31T00:00:00Z"}', {}, 400, "timestamp: ", 1),
    ("not a timestamp", "/v1/track", b'{"userId": "u", "event": "E", "timestamp": "yesterday"}', {}, 400, "timestamp: 'yesterday' is not an ISO 8601", 1),
    ("numeric timestamp", "/v1/track", b'{"userId": "u", "event": "E", "timestamp": 12}', {}, 400, "timestamp: expected an ISO 8601", 1),
    ("deeply nested", "/v1/track", orjson.dumps({"userId": "u", "event": "E", "properties": nested(40)}), {}, 400, "properties: nested deeper than 32", 1),
    ("too deep to serialise", "/v1/track", b'{"userId": "u", "event": "E", "properties": ' + b'{"a": ' * 300 + b"1" + b"}" * 300 + b"}", {}, 400, "properties: nested deeper than 32", 1),
    ("too-deep batch context", "/v1/batch", orjson.dumps({"batch": [{"type": "track", "userId": "u", "event": "E"}], "context": nested(40)}), {}, 400, "context: nested deeper than 32", 1),
    ("batch context not an object", "/v1/batch", b'{"batch": [{"type": "track", "userId": "u", "event": "E"}], "context": "x"}', {}, 400, "context: expected a JSON object", 1),
    ("two batch keys", "/v1/batch", b'{"batch": [{"type": "track", "userId": "u", "event": "E"}], "batch": []}', {}, 400, "batch: given twice", 1),
    ("nesting past the parser's limit", "/v1/track", b'{"userId": "u", "event": "E", "properties": ' + b"[" * 2000 + b"]" * 2000 + b"}", {}, 400, "body: malformed JSON", 1),
    ("negative order total", "/v1/track", b'{"userId": "u", "event": "Order Completed", "properties": {"order_id": "1", "total": -5}}', {}, 400, "properties.amount: Input should be greater than or equal to 0", 1),
    ("bad email trait", "/v1/identify", b'{"userId": "u", "traits": {"email": "not-an-email"}}', {}, 400, "identifiers.email: not an email address", 1),
    ("oversized body", "/v1/batch", b'{"batch": [' + b'"x",' * 60_000 + b'"x"]}', {}, 413, "body: ", 0),
    ("gzip bomb", "/v1/batch", gzip.compress(b'{"batch": [' + b" " * 5_000_000 + b"]}"), {"content-encoding": "gzip"}, 413, "body: more than", 0),
    ("corrupt gzip", "/v1/batch", b"\x1f\x8bnot gzip at all", {"content-encoding": "gzip"}, 400, "body: not valid gzip data", 1),
    ("unknown encoding", "/v1/batch", b"{}", {"content-encoding": "br"}, 415, "Content-Encoding: 'br' is not supported", 1),
    ("missing write key", "/v1/track", b'{"userId": "u", "event": "E"}', {"authorization": None}, 401, "write key: missing", 0),
    ("unknown write key", "/v1/track", b'{"userId": "u", "event": "E"}', {"authorization": basic("nope")}, 401, "write key: unknown", 0),
    ("not Basic auth", "/v1/track", b'{"userId": "u", "event": "E"}', {"authorization": "Bearer x"}, 401, "Authorization: expected HTTP Basic", 0),
    ("garbage Basic auth", "/v1/track", b'{"userId": "u", "event": "E"}', {"authorization": "Basic %%%"}, 401, "Authorization: not valid base64", 0),
]


@pytest.mark.parametrize(("name", "path", "body", "headers", "status", "message", "kept"), CORPUS, ids=[c[0] for c in CORPUS])
def test_hostile_request(collector: RunningCollector, name, path, body, headers, status, message, kept):
    sent = {k: v for k, v in ({"authorization": basic(collector.write_key)} | headers).items() if v is not None}
    with httpx.Client(base_url=collector.url) as http:
        response = http.post(path, content=body, headers=sent)
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["success"] is False and answer["code"] and answer["message"].startswith(message), answer["message"]
    assert len(answer["message"]) < 2100 and "Traceback" not in response.text
    assert collector.platform.dead_letters.count() == kept
    assert collector.platform.events.last_position() == 0


JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
JSON = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
MESSAGES = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["track", "identify", "page", "screen", "group", "alias", "bogus"]) | JSON_SCALARS,
        "event": st.sampled_from(["Order Completed", "Order Refunded", "Product Viewed", "Product Added", "Signed Up", "Clicked"]) | JSON_SCALARS,
        "userId": st.text(max_size=8) | JSON_SCALARS,
        "anonymousId": st.text(min_size=1, max_size=8),
        "groupId": JSON_SCALARS,
        "previousId": JSON_SCALARS,
        "name": JSON_SCALARS,
        "properties": st.dictionaries(st.sampled_from(["order_id", "total", "revenue", "currency", "products", "product_id", "sku", "price", "quantity", "url", "name", "x"]), JSON, max_size=6) | JSON,
        "traits": st.dictionaries(st.sampled_from(["email", "phone", "name", "address", "age"]), JSON, max_size=4) | JSON,
        "context": JSON,
        "timestamp": st.datetimes().map(lambda d: d.isoformat()) | JSON_SCALARS,
        "sentAt": st.datetimes().map(lambda d: d.isoformat() + "Z") | JSON_SCALARS,
        "integrations": JSON,
        "surprise": JSON,
    },
)
_ids = itertools.count()


@hypothesis_settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batch=st.lists(MESSAGES, max_size=6), single=MESSAGES)
def test_any_input_is_stored_or_dead_lettered_never_a_500(collector: RunningCollector, batch: list[dict], single: dict):
    """Reconciliation: each message sent ends as exactly one stored event or one dead letter."""
    for message in [*batch, single]:
        message["messageId"] = f"prop-{next(_ids)}"  # distinct, so nothing is a duplicate
    before = collector.platform.events.last_position() + collector.platform.dead_letters.count()
    with collector.client() as http:
        batch_answer = http.post("/v1/batch", content=json.dumps({"batch": batch}))  # json: big integers too
        single_answer = http.post("/v1/track", content=json.dumps(single))
    assert batch_answer.status_code == 200, batch_answer.text
    assert single_answer.status_code in (200, 400), single_answer.text
    if single_answer.status_code == 400:
        assert single_answer.json()["message"].split(":")[0], "the message names a field"
    after = collector.platform.events.last_position() + collector.platform.dead_letters.count()
    assert after - before == len(batch) + 1


def test_nests_at_most_matches_a_walk_of_the_decoded_value():
    import random

    import orjson

    from ingestion.jsontext import nests_at_most

    def depth(value) -> int:
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        return 0 if children is None else 1 + max((depth(c) for c in children), default=0)

    rng = random.Random(1)
    text = lambda: "".join(rng.choice(["\\", '"', "{", "[", "]", "}", "a", "n", "\n", "é"]) for _ in range(rng.randint(0, 6)))  # noqa: E731

    def value(levels: int):
        if levels == 0 or rng.random() < 0.2:
            return rng.choice([1, None, text()])
        if rng.random() < 0.5:
            return {text(): value(levels - 1) for _ in range(rng.randint(0, 3))}
        return [value(levels - 1) for _ in range(rng.randint(0, 3))]

    for _ in range(5000):
        sample = value(rng.randint(0, 10))
        encoded, expected = orjson.dumps(sample), depth(sample)
        assert [nests_at_most(encoded, levels) for levels in range(12)] == [expected <= levels for levels in range(12)], encoded
