"""The collector over real HTTP: Segment's calls, auth, gzip, limits, response shapes, durability."""

import gzip
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
import orjson
import pytest

from cdp.config import Settings
from cdp.platform import Platform
from tests.collector_server import RunningCollector, basic, running_collector
from tests.waiting import TLS


@pytest.fixture
def collector(settings: Settings) -> Iterator[RunningCollector]:
    settings.collector.source_limits["tiny"] = settings.collector.limits.model_copy(update={"max_batch_bytes": 2000, "max_event_bytes": 500})
    with Platform(settings) as platform, running_collector(platform) as running:
        yield running


def stored(c: RunningCollector) -> list[dict]:
    return [orjson.loads(n.state) for n in c.platform.events.read(0, 10_000)]


def test_every_call_type_is_stored_with_segment_semantics(collector: RunningCollector):
    with collector.client() as http:
        calls = {
            "track": {"userId": "u1", "event": "Order Completed", "messageId": "t1", "properties": {"order_id": "o1", "total": 30, "currency": "eur", "products": [{"sku": "s1", "price": 10, "quantity": 3}]}},
            "identify": {"userId": "u1", "messageId": "i1", "traits": {"email": "Li.Na@Example.com", "address": {"city": "Shanghai"}}},
            "page": {"anonymousId": "a1", "messageId": "p1", "name": "Home", "properties": {"url": "https://shop.example/"}},
            "screen": {"anonymousId": "a1", "messageId": "s1", "name": "Cart"},
            "group": {"userId": "u1", "messageId": "g1", "groupId": "acme", "traits": {"name": "ACME"}},
            "alias": {"userId": "u1", "messageId": "al1", "previousId": "a1"},
        }
        for call, body in calls.items():
            response = http.post(f"/v1/{call}", json=body)
            assert (response.status_code, response.json()) == (200, {"success": True}), call
    events = {e["message_id"]: e for e in stored(collector)}
    assert events["t1"]["event_type"] == "order_placed" and events["t1"]["source_kind"] == "sales"
    assert events["t1"]["properties"]["amount"] == 30 and events["t1"]["properties"]["items"][0]["product_id"] == "s1"
    assert events["i1"]["identifiers"]["email"] == "li.na@example.com" and events["i1"]["traits"]["address.city"] == "Shanghai"
    assert events["p1"]["event_type"] == "page_viewed" and events["p1"]["properties"]["url"] == "https://shop.example/"
    assert events["s1"]["properties"]["name"] == "Cart"
    assert events["i1"]["event_type"] == "identified"
    assert events["g1"]["event_type"] == "grouped" and events["g1"]["identifiers"]["account_id"] == "acme"
    assert events["g1"]["properties"] == {"group_id": "acme", "group_traits": {"name": "ACME"}}
    assert events["al1"]["event_type"] == "aliased" and events["al1"]["properties"] == {"previous_id": "a1"}
    assert (events["al1"]["identifiers"]["anonymous_id"], events["al1"]["identifiers"]["user_id"]) == ("a1", "u1")
    assert all(e["source_name"] == "web" for e in events.values())


def test_clock_skew_is_corrected_from_sent_at(collector: RunningCollector):
    # the device clock is 1 hour fast: sentAt and the timestamp both read an hour ahead
    body = {"batch": [{"type": "track", "event": "Clicked", "userId": "u1", "messageId": "skew", "timestamp": "2030-01-01T10:00:00Z"}], "sentAt": "2030-01-01T10:00:05Z"}
    with collector.client() as http:
        assert http.post("/v1/batch", json=body).status_code == 200
    event = stored(collector)[0]
    occurred, received = (event[k] for k in ("occurred_at", "received_at"))
    gap = datetime.fromisoformat(received) - datetime.fromisoformat(occurred)
    assert 4.9 <= gap.total_seconds() <= 5.1  # receivedAt - (sentAt - originalTimestamp)
    assert event["context"]["segment"]["originalTimestamp"] == "2030-01-01T10:00:00Z"


def test_gzip_batches_and_the_write_key_in_the_body(collector: RunningCollector):
    body = {"writeKey": collector.write_key, "batch": [{"type": "track", "event": "E", "anonymousId": f"a{i}", "messageId": f"g{i}"} for i in range(50)]}
    with collector.client() as http:
        http.auth = None
        response = http.post("/v1/import", content=gzip.compress(orjson.dumps(body)), headers={"content-encoding": "gzip"})
    assert (response.status_code, response.json()) == (200, {"success": True})
    assert len(stored(collector)) == 50


def test_resending_a_batch_stores_it_once(collector: RunningCollector):
    body = {"batch": [{"type": "track", "event": "E", "anonymousId": "a", "messageId": f"d{i}"} for i in range(10)]}
    with collector.client() as http:
        for _ in range(3):
            assert http.post("/v1/batch", json=body).status_code == 200
    assert len(stored(collector)) == 10


def test_a_bad_event_in_a_batch_is_dead_lettered_and_the_rest_stored(collector: RunningCollector):
    body = {"batch": [{"type": "track", "event": "Ok", "userId": "u"}, {"type": "track", "event": "No one"}, {"type": "track", "event": "Product Viewed", "userId": "u", "properties": {"product_id": "p", "price": "cheap"}}]}
    with collector.client() as http:
        answer = http.post("/v1/batch", json=body).json()
    assert answer["success"] is True
    assert [(r["index"], r["reason"]) for r in answer["dead_lettered"]] == [
        (1, "userId: one of userId or anonymousId is required"),
        (2, "properties.price: Input should be a valid number, unable to parse string as a number"),
    ]
    assert len(stored(collector)) == 1
    letters = collector.platform.dead_letters.list()
    assert {(d.source, d.origin) for d in letters} == {("web", "segment:/v1/batch#1"), ("web", "segment:/v1/batch#2")}


@pytest.mark.parametrize(
    ("key", "status", "message"),
    [
        (None, 401, "write key: missing"),
        ("not-a-key", 401, "write key: unknown"),
    ],
)
def test_unknown_or_missing_write_keys_are_refused(collector: RunningCollector, key, status, message):
    with collector.client() as http:
        http.auth = None
        headers = {"authorization": basic(key)} if key else {}
        response = http.post("/v1/track", json={"userId": "u", "event": "E"}, headers=headers)
    assert response.status_code == status and response.json()["message"].startswith(message)
    assert response.json()["code"] == "unauthorized"


def test_oversized_bodies_and_events_follow_the_sources_limits(collector: RunningCollector):
    key = collector.add_source("tiny", "website")
    with collector.client(key) as http:
        big_event = {"type": "track", "event": "E", "userId": "u", "properties": {"x": "y" * 600}}
        answer = http.post("/v1/batch", json={"batch": [big_event, {"type": "track", "event": "E", "userId": "u"}]}).json()
        assert answer["dead_lettered"][0]["reason"].startswith("(event): ") and "limit is 500" in answer["dead_lettered"][0]["reason"]
        too_big = http.post("/v1/batch", json={"batch": [{"type": "track", "event": "E", "userId": "u", "properties": {"x": "y" * 400}}] * 6})
        assert too_big.status_code == 413 and too_big.json()["message"].startswith("body: ")
        bomb = gzip.compress(b'{"batch": [' + b" " * 100_000 + b"]}")
        assert http.post("/v1/batch", content=bomb, headers={"content-encoding": "gzip"}).status_code == 413
    assert collector.platform.dead_letters.count() == 1 and len(stored(collector)) == 1


def test_health_and_openapi(collector: RunningCollector):
    admin = collector.platform.read_keys.create("ops", ["admin"])[1]
    reader = collector.platform.read_keys.create("bi", ["analytics:read"])[1]
    with collector.client() as http:
        assert http.get("/health").json() == {"status": "ok"}  # without a read key: the status alone
        spec = http.get("/openapi.json").json()
    assert {"/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias", "/v1/batch", "/v1/import", "/v1/webhooks/{source_name}", "/health"} <= set(spec["paths"])
    health = collector.url + "/health"
    detailed = httpx.get(health, headers={"Authorization": f"Bearer {admin}"}).json()
    assert detailed == {"status": "ok", "quarantined": 0, "pending_events": 0, "body_bytes_held": 0, "writes": 0, "runner": {}}
    for other in (reader, "cdp_rk_nope"):
        assert httpx.get(health, headers={"Authorization": f"Bearer {other}"}).json() == {"status": "ok"}


def holding_writes(platform: Platform) -> threading.Event:
    """Holds the collector's writes (its writer's sink) until the event returned is set."""
    release = threading.Event()
    append = platform.append_serialised
    platform.append_serialised = lambda events: release.wait(10) and append(events)
    return release


def health(collector: RunningCollector, admin: str) -> dict:
    """``/health`` with its details (``admin``: an admin read key)."""
    return httpx.get(collector.url + "/health", headers={"Authorization": f"Bearer {admin}"}, verify=TLS).json()


def wait_for_a_pending_write(collector: RunningCollector, admin: str) -> None:
    while health(collector, admin)["pending_events"] == 0:
        time.sleep(0.01)


def test_overload_is_answered_429_with_retry_after(settings: Settings):
    settings.collector.max_pending_events = 1
    with Platform(settings) as platform, running_collector(platform) as collector:
        admin, release = platform.read_keys.create("ops", ["admin"])[1], holding_writes(platform)
        with ThreadPoolExecutor(1) as pool, collector.client() as http:
            first = pool.submit(http.post, "/v1/batch", json={"batch": [{"type": "track", "event": "E", "userId": "u", "messageId": f"o{i}"} for i in range(5)]})
            wait_for_a_pending_write(collector, admin)
            second = http.post("/v1/track", json={"userId": "u", "event": "E"})
            release.set()
            assert second.status_code == 429 and second.headers["retry-after"] == "1"
            assert second.json()["code"] == "overloaded"
            assert first.result().status_code == 200
        assert len(stored(collector)) == 5


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_request_bodies_held_past_the_budget_are_answered_429(settings: Settings, encoding: str):
    """Bytes, not only events, bound what a process holds: while one request's 60 kB wait for their
    write, a second that would take the bodies held past the budget (100 kB) is refused with 429
    (inflated gzip counts), and accepted once the first is answered. One request alone always goes on."""
    settings.collector.max_body_bytes_held = 100_000
    with Platform(settings) as platform, running_collector(platform) as collector:
        admin, release = platform.read_keys.create("ops", ["admin"])[1], holding_writes(platform)

        def batch(name: str, events: int) -> bytes:
            body = orjson.dumps({"batch": [{"type": "track", "event": "E", "userId": "u", "messageId": f"{name}{i}", "properties": {"note": "n" * 950}} for i in range(events)]})
            return gzip.compress(body) if encoding == "gzip" else body

        headers = {"content-type": "application/json"} | ({"content-encoding": "gzip"} if encoding == "gzip" else {})
        with ThreadPoolExecutor(1) as pool, collector.client() as http:
            first = pool.submit(http.post, "/v1/batch", content=batch("first", 60), headers=headers)
            wait_for_a_pending_write(collector, admin)
            assert health(collector, admin)["body_bytes_held"] >= 60_000
            second = http.post("/v1/batch", content=batch("second", 50), headers=headers)
            release.set()
            assert second.status_code == 429 and second.headers["retry-after"] == "1"
            assert second.json()["code"] == "overloaded" and "bytes of requests are in progress" in second.json()["message"]
            assert first.result().status_code == 200
            assert http.post("/v1/batch", content=batch("second", 50), headers=headers).status_code == 200
            assert http.post("/v1/batch", content=batch("alone", 150), headers=headers).status_code == 200  # 150 kB alone: past the budget, but nothing else held
        assert len(stored(collector)) == 260
        assert health(collector, admin)["body_bytes_held"] == 0


def test_one_address_holds_at_most_its_share_of_the_bodies_budget(settings: Settings):
    """The bytes are counted before the sender is authenticated, so one address (with a key or
    without) must not hold the whole budget: past its share (100 kB here) its next request is
    refused with 429 while another address's request of the same size goes on."""
    settings.collector.max_body_bytes_held_per_client = 100_000
    body = lambda name, events: orjson.dumps({"batch": [{"type": "track", "event": "E", "userId": "u", "messageId": f"{name}{i}", "properties": {"note": "n" * 950}} for i in range(events)]})  # noqa: E731
    with Platform(settings) as platform, running_collector(platform) as collector:
        admin, release = platform.read_keys.create("ops", ["admin"])[1], holding_writes(platform)
        with ThreadPoolExecutor(2) as pool, collector.client() as one, collector.client(address="127.0.0.2") as other, collector.client("cdp_wk_nope") as keyless:
            first = pool.submit(one.post, "/v1/batch", content=body("first", 60))
            wait_for_a_pending_write(collector, admin)
            for refused in (one.post("/v1/batch", content=body("second", 50)), keyless.post("/v1/batch", content=body("third", 50))):
                assert refused.status_code == 429 and "from this address are in progress (limit 100,000 per address)" in refused.json()["message"]
            elsewhere = pool.submit(other.post, "/v1/batch", content=body("elsewhere", 50))
            while health(collector, admin)["body_bytes_held"] < 110_000:  # both requests' bodies held, waiting for their write
                time.sleep(0.01)
            release.set()
            assert first.result().status_code == 200 and elsewhere.result().status_code == 200
        assert len(stored(collector)) == 110
        assert health(collector, admin)["body_bytes_held"] == 0


@pytest.mark.parametrize("failing", ["append_serialised", "dead_letter"])
def test_a_failed_write_is_503_and_its_retry_stores_events_and_dead_letters_once(settings: Settings, failing: str):
    """Events and dead letters are two commits: whichever fails, nothing is acknowledged, and the retry converges."""
    with Platform(settings) as platform, running_collector(platform) as collector:
        real = getattr(platform, failing)
        calls = iter(range(10**6))

        def fails_once(items):
            if next(calls) == 0:
                raise OSError("disk I/O error")
            return real(items)

        setattr(platform, failing, fails_once)
        batch = {"batch": [{"type": "track", "event": "E", "userId": "u", "messageId": "ok-1"}, {"type": "track", "userId": "u", "messageId": "bad-1"}]}
        with collector.client() as http:
            first = http.post("/v1/batch", json=batch)
            retry = http.post("/v1/batch", json=batch)
        assert first.status_code == 503 and first.headers["retry-after"] == "1" and first.json()["code"] == "store_unavailable"
        assert retry.status_code == 200 and retry.json()["dead_lettered"][0]["index"] == 1
        assert [e["message_id"] for e in stored(collector)] == ["ok-1"]
        assert platform.dead_letters.count() == 1
