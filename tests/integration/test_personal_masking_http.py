"""Personal data no schema field marks, over real HTTP: sent to the collector in a page's URL query
string and referrer and in undeclared (line-item) properties, it reads masked in ``/timeline`` for a
key without ``pii:read``, whole for one with it, and the page keeps its public part for both."""

from collections.abc import Iterator

import httpx
import orjson
import pytest

from cdp.masking import MASK
from cdp.platform import Platform
from tests.collector_server import RunningCollector, running_collector

EMAIL, NAME = "mei.tanaka@example.jp", "Mei Tanaka"
URL = f"https://shop.example.com/welcome?email={EMAIL}#{NAME}"
REFERRER = f"https://mail.example.net/u/0/{EMAIL}?q=order"
BATCH = {
    "batch": [
        {"type": "identify", "userId": "u-mei", "messageId": "m-identify", "traits": {"email": EMAIL}, "timestamp": "2025-06-01T10:00:00Z"},
        {
            "type": "page", "userId": "u-mei", "messageId": "m-page", "name": "Welcome", "timestamp": "2025-06-01T10:01:00Z",
            "properties": {"title": "Welcome", "search": f"?email={EMAIL}"}, "context": {"page": {"url": URL, "path": "/welcome", "referrer": REFERRER}},
        },
        {
            "type": "track", "userId": "u-mei", "messageId": "m-order", "event": "Order Completed", "timestamp": "2025-06-01T10:02:00Z",
            "properties": {"order_id": "o-mei", "total": 42.0, "currency": "JPY", "note": f"gift for {NAME}", "products": [{"product_id": "p1", "price": 42.0, "engraving": NAME}]},
        },
    ]
}  # fmt: skip


@pytest.fixture
def collector(platform: Platform) -> Iterator[RunningCollector]:
    with running_collector(platform) as running:
        with running.client() as client:
            assert client.post("/v1/batch", json=BATCH).status_code == 200
        platform.runner.run()
        yield running


def timeline(collector: RunningCollector, scopes: list[str]) -> dict[str, dict]:
    _, key = collector.platform.read_keys.create("reader-" + "-".join(s.replace(":", "") for s in scopes), scopes)
    with httpx.Client(base_url=collector.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        answer = client.get(f"/v1/profiles/{EMAIL}/timeline")
    assert answer.status_code == 200, answer.text
    return {row["event_type"]: orjson.loads(row["properties"]) for row in answer.json()}


def test_without_pii_read_the_personal_parts_read_masked(collector: RunningCollector):
    events = timeline(collector, ["profiles:read"])
    page, order = events["page_viewed"], events["order_placed"]
    assert page == {
        "url": f"https://shop.example.com/welcome?{MASK}", "path": "/welcome", "title": "Welcome", "referrer": f"https://mail.example.net/{MASK}",
        "name": "Welcome", "category": None, "search": MASK,
    }  # fmt: skip
    assert order["note"] == MASK and order["items"][0]["engraving"] == MASK and order["items"][0]["product_id"] == "p1"
    assert order["amount"] == 42.0 and order["order_id"] == "o-mei"
    assert EMAIL not in str(events) and "Mei" not in str(events) and "MEI" not in str(events)


def test_with_pii_read_they_read_whole(collector: RunningCollector):
    events = timeline(collector, ["profiles:read", "pii:read"])
    assert (events["page_viewed"]["url"], events["page_viewed"]["referrer"]) == (URL, REFERRER)
    assert events["order_placed"]["note"] == f"gift for {NAME}" and events["order_placed"]["items"][0]["engraving"] == NAME
