"""Connector webhooks over real HTTP: the sender's signature is checked, events are stored."""

import base64
import copy
from collections.abc import Iterator

import orjson
import pytest

from cdp.api.collector import NO_SUBSCRIPTION_CHECK, WEBHOOK_REFUSED
from cdp.config import Settings, SourceLimits
from cdp.platform import Platform
from cdp.replay import replay
from ingestion.connectors.meta import MetaPageFeed
from ingestion.connectors.shopify import ShopifyOrders
from ingestion.connectors.typeform import TypeformResponses
from ingestion.connectors.zendesk import ZendeskTicketEvents
from tests.collector_server import RunningCollector, running_collector

SECRET = "whsec-test-123"


@pytest.fixture
def collector(settings: Settings) -> Iterator[RunningCollector]:
    with Platform(settings) as platform, running_collector(platform) as running:
        yield running


def events(c: RunningCollector) -> list[dict]:
    return [orjson.loads(n.state) for n in c.platform.events.read(0, 10_000)]


@pytest.mark.parametrize("connector", [ZendeskTicketEvents, ShopifyOrders, TypeformResponses, MetaPageFeed])
def test_signed_deliveries_are_stored_and_forgeries_refused(collector: RunningCollector, connector):
    collector.add_source("tool", connector.source_kind, connector.name, SECRET)
    body = orjson.dumps(connector.examples[0])
    headers = {**connector().sign(body, SECRET), "content-type": "application/json"}
    with collector.client() as http:
        http.auth = None
        ok = http.post("/v1/webhooks/tool", content=body, headers=headers)
        forged = http.post("/v1/webhooks/tool", content=body + b" ", headers=headers)
        unsigned = http.post("/v1/webhooks/tool", content=body)
        again = http.post("/v1/webhooks/tool", content=body, headers=headers)  # a re-delivery
    assert (ok.status_code, ok.json()) == (200, {"success": True})
    assert forged.status_code == 401 and forged.json()["message"] == WEBHOOK_REFUSED
    assert unsigned.status_code == 401 and again.status_code == 200
    stored = events(collector)
    assert stored and {e["source_name"] for e in stored} == {"tool"}
    assert {e["source_kind"] for e in stored} == {connector.source_kind}
    assert len({e["message_id"] for e in stored}) == len(stored)  # re-delivery stored nothing twice


def test_shopify_cancellation_is_a_refund(collector: RunningCollector):
    collector.add_source("shop", "sales", "shopify", SECRET)
    order = copy.deepcopy(ShopifyOrders.examples[0]) | {"cancelled_at": "2025-11-22T10:00:00+08:00", "cancel_reason": "customer",
                                                       "refunds": [{"id": 1, "transactions": [{"amount": "134.00", "kind": "refund"}]}]}  # fmt: skip
    body = orjson.dumps(order)
    with collector.client() as http:
        http.auth = None
        response = http.post("/v1/webhooks/shop", content=body, headers={**ShopifyOrders().sign(body, SECRET), "x-shopify-topic": "orders/cancelled"})
    assert response.status_code == 200
    (refund,) = events(collector)
    assert refund["event_type"] == "order_refunded" and refund["properties"]["amount"] == 134.0


def test_a_source_without_a_secret_takes_its_write_key(collector: RunningCollector):
    key = collector.add_source("desk", "service", "zendesk")
    with collector.client(key) as http:
        assert http.post("/v1/webhooks/desk", json=ZendeskTicketEvents.examples[0]).status_code == 200
        assert http.post("/v1/webhooks/desk?write_key=wrong", json={}, auth=None).status_code == 401
    with collector.client() as http:  # the key of another source
        refused = http.post("/v1/webhooks/desk", json=ZendeskTicketEvents.examples[0])
    assert refused.status_code == 401 and refused.json()["message"] == WEBHOOK_REFUSED
    assert len(events(collector)) == 1


def test_an_unmappable_delivery_is_dead_lettered_with_the_field(collector: RunningCollector):
    key = collector.add_source("desk", "service", "zendesk")
    bad = copy.deepcopy(ZendeskTicketEvents.examples[0])
    del bad["detail"]["requester_id"]
    with collector.client(key) as http:
        answer = http.post("/v1/webhooks/desk", json=bad).json()
        unknown = http.post("/v1/webhooks/nobody", json={})
    assert answer["dead_lettered"][0]["reason"] == "zendesk payload: detail.requester_id: Field required"
    assert unknown.status_code == 401
    (letter,) = collector.platform.dead_letters.list()
    assert (letter.source, letter.origin) == ("desk", "webhook:zendesk#0")


def comments(count: int, size: int, first: int = 0) -> bytes:
    """A Meta Page feed delivery of ``count`` comments of ``size`` characters each."""
    changes = [{"field": "feed", "value": {"item": "comment", "verb": "add", "post_id": "1047_1", "comment_id": f"1_{i}", "message": "x" * size,
                                          "created_time": 1763802000, "from": {"id": f"68{i}", "name": "Li Na"}}} for i in range(first, first + count)]  # fmt: skip
    return orjson.dumps({"object": "page", "entry": [{"id": "1047", "time": 1763802000, "changes": changes}]})


def test_a_webhook_body_is_held_to_its_sources_batch_limit_and_its_events_to_the_event_limit(settings: Settings):
    """A delivery of many events may hold more than one event may (1 MiB), up to the source's
    ``max_batch_bytes``; a replay of it holds it to the same limits."""
    settings.collector.source_limits["feed"] = SourceLimits(max_batch_bytes=2 * 1024 * 1024, max_event_bytes=16_000)
    with Platform(settings) as platform, running_collector(platform) as collector:
        key = collector.add_source("feed", "social", "meta-page-feed")
        many, too_many, one_too_big = comments(150, 10_000), comments(230, 10_000), comments(150, 10_000, first=150)
        one_too_big = one_too_big.replace(b'"message":"' + b"x" * 10_000, b'"message":"' + b"x" * 18_000, 1)
        assert 1024 * 1024 < len(many) < len(one_too_big) < 2 * 1024 * 1024 < len(too_many)
        with collector.client(key) as http:
            stored, refused, kept = (http.post("/v1/webhooks/feed", content=body) for body in (many, too_many, one_too_big))
        assert (stored.status_code, stored.json()) == (200, {"success": True})
        assert len(events(collector)) == 150
        assert refused.status_code == 413 and refused.json()["message"] == f"body: {len(too_many):,} bytes; this source's limit is 2,097,152"
        (reason,) = [r["reason"] for r in kept.json()["dead_lettered"]]
        assert reason.startswith("(event): 18,") and reason.endswith(" bytes as an event; the limit is 16,000")
        assert len(events(collector)) == 150 and [letter.payload for letter in platform.dead_letters.list()] == [one_too_big]
        settings.collector.source_limits["feed"] = SourceLimits(max_batch_bytes=2 * 1024 * 1024, max_event_bytes=32_000)
        assert (replay(platform).stored, len(events(collector))) == (150, 300)


def test_meta_verifies_the_callback_url_with_the_write_key_as_verify_token(collector: RunningCollector):
    key = collector.add_source("page", "social", "meta-page-feed", SECRET)
    other = collector.add_source("page2", "social", "meta-page-feed", SECRET)
    check = lambda token, **extra: {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": token} | extra  # noqa: E731
    with collector.client() as http:
        http.auth = None
        ok = http.get("/v1/webhooks/page", params=check(key))
        wrong = http.get("/v1/webhooks/page", params=check(other))
        missing = http.get("/v1/webhooks/page", params={"hub.mode": "subscribe", "hub.challenge": "1"})
        not_a_check = http.get("/v1/webhooks/page", params={"hub.mode": "unsubscribe"})
        no_handshake = http.get("/v1/webhooks/web", params=check(collector.write_key))  # a Segment source
    assert (ok.status_code, ok.text, ok.headers["content-type"].split(";")[0]) == (200, "1158201444", "text/plain")
    assert wrong.status_code == 404 and wrong.json()["message"] == NO_SUBSCRIPTION_CHECK
    assert missing.status_code == not_a_check.status_code == no_handshake.status_code == 404
    assert events(collector) == []


def test_source_names_cannot_be_found_by_trying_them(collector: RunningCollector):
    """Every way of not proving to be a source gets the answer an unknown name gets."""
    collector.add_source("shop", "sales", "shopify", SECRET)
    desk_key = collector.add_source("desk", "service", "zendesk")
    collector.add_source("page", "social", "meta-page-feed", SECRET)
    body = orjson.dumps(ShopifyOrders.examples[0])
    basic = lambda key: {"authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}  # noqa: E731
    attempts = {
        "unknown source": ("POST", "/v1/webhooks/nobody", {}),
        "unknown source, a valid key": ("POST", "/v1/webhooks/nobody", basic(desk_key)),
        "forged signature": ("POST", "/v1/webhooks/shop", {**ShopifyOrders().sign(b"other", SECRET)}),
        "no signature": ("POST", "/v1/webhooks/shop", {}),
        "no write key": ("POST", "/v1/webhooks/desk", {}),
        "unknown write key": ("POST", "/v1/webhooks/desk", basic("wk_nothing")),
        "another source's key": ("POST", "/v1/webhooks/desk", basic(collector.write_key)),
        "a Segment source": ("POST", "/v1/webhooks/web", {}),
    }
    checks = {
        "unknown source": "/v1/webhooks/nobody?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x",
        "wrong token": "/v1/webhooks/page?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x",
        "another source's key": f"/v1/webhooks/page?hub.mode=subscribe&hub.challenge=1&hub.verify_token={desk_key}",
        "a tool without one": f"/v1/webhooks/desk?hub.mode=subscribe&hub.challenge=1&hub.verify_token={desk_key}",
    }
    with collector.client() as http:
        http.auth = None
        answers = {name: http.request(method, path, content=body, headers=headers) for name, (method, path, headers) in attempts.items()}
        checked = {name: http.get(path) for name, path in checks.items()}
    seen = {(a.status_code, a.content, a.headers.get("www-authenticate")) for a in answers.values()}
    assert seen == {(401, orjson.dumps({"success": False, "code": "unauthorized", "message": WEBHOOK_REFUSED}), 'Basic realm="cdp"')}, seen
    assert {(a.status_code, a.content) for a in checked.values()} == {(404, orjson.dumps({"success": False, "code": "not_found", "message": NO_SUBSCRIPTION_CHECK}))}
    reasons = [r.detail["reason"] for r in collector.platform.audit.query(action="request.refused")]
    assert "'nobody': no such source" in reasons and any("signature does not match" in r for r in reasons)  # the operator is told why
    assert events(collector) == []


@pytest.mark.parametrize("credentials", ["Basic !!!", "Bearer cdp_rk_0123456789abcdef_" + "A" * 32])
def test_malformed_credentials_and_read_keys_are_refused_alike_for_every_name(collector: RunningCollector, credentials: str):
    collector.add_source("desk", "service", "zendesk")
    with collector.client() as http:
        http.auth = None
        known, unknown = (http.post(f"/v1/webhooks/{name}", json={}, headers={"authorization": credentials}) for name in ("desk", "nobody"))
    assert known.status_code in (401, 403) and (known.status_code, known.content) == (unknown.status_code, unknown.content)
