"""A hand-made scenario of four customers, each answer worked out by hand (docs/domain.md §7 defaults).

The log ends on 2025-11-25, so stages are as of then (the latest event time seen).

- Pat, a prospect: browses, signs up with an email, never buys → prospect.
- Fay, a first-time buyer: one order on 2025-11-20 (within 90 days) → new.
- Rob, a repeat buyer: orders on 2025-10-01 and 2025-11-01 (31-day interval, at risk only after
  62 days, i.e. from 2026-01-02) → repeat. His anonymous web visit joins his email on identify.
- Cat, churned and back: an in-store purchase on 2025-01-10 with her phone; at risk 90 days later
  (2025-04-10); churned 180 days after her last interaction (2025-07-09); a WeChat message naming
  her handle and phone; an online order on 2025-11-15 with email and phone → won_back. Her three
  identifiers (phone, WeChat handle, email) arrive on three channels and unify into one customer.
"""

import orjson
import pytest

from cdp import queries
from cdp.customers import Customers
from cdp.platform import Platform
from ingestion.jsonl import import_lines
from tests.events import event, order

SCENARIO = [
    event("page_viewed", "2025-06-01T09:00:00Z", anonymous_id="pat-device", properties={"url": "https://shop.example/"}),
    event("identified", "2025-06-01T09:05:00Z", anonymous_id="pat-device", email="pat@example.com", traits={"name": "Pat", "city": "Hangzhou"}),
    event("store_purchase_made", "2025-01-10T15:00:00Z", phone="+8613900000003", properties={"order_id": "s-1", "amount": 300, "currency": "CNY"}),
    event("page_viewed", "2025-10-01T08:00:00Z", anonymous_id="rob-device"),
    order("2025-10-01T08:10:00Z", 30, "o-r1", email="rob@example.com"),
    event("identified", "2025-10-01T08:11:00Z", anonymous_id="rob-device", email="rob@example.com", traits={"name": "Rob"}),
    order("2025-11-01T08:00:00Z", 70, "o-r2", email="rob@example.com"),
    event("message_sent", "2025-11-14T20:00:00Z", wechat="cat_w", phone="+8613900000003", properties={"platform": "wechat", "text": "是否有新款?"}),
    order("2025-11-15T10:00:00Z", 120, "o-c1", email="cat@example.com", phone="+8613900000003"),
    order("2025-11-20T10:00:00Z", 50, "o-f1", email="fay@example.com"),
    event("page_viewed", "2025-11-25T09:00:00Z", anonymous_id="pat-device"),
]


@pytest.fixture
def processed(platform: Platform) -> Platform:
    report = import_lines((orjson.dumps(e) for e in SCENARIO), platform, "scenario")
    assert (report.stored, report.rejected) == (len(SCENARIO), [])
    assert platform.runner.run() == len(SCENARIO)
    return platform


def profile_of(platform: Platform, identifier: str) -> dict:
    (customer,) = Customers(platform.warehouse).resolve_all(identifier)
    return queries.profile(platform.warehouse, customer)


def test_four_customers(processed: Platform):
    rows = processed.warehouse.query("SELECT count() AS n FROM cdp.profiles FINAL")
    assert rows == [{"n": 4}]


def test_prospect(processed: Platform):
    pat = profile_of(processed, "pat@example.com")
    assert pat["lifecycle_stage"] == "prospect"
    assert pat["anonymous_ids"] == ["pat-device"] and pat["emails"] == ["pat@example.com"]
    assert orjson.loads(pat["traits"]) == {"city": "杭州", "name": "Pat"}  # Hangzhou, canonical (projections.trait_values)
    assert (pat["events_total"], pat["orders"], pat["first_seen"], pat["last_seen"]) == (3, 0, "2025-06-01 09:00:00.000", "2025-11-25 09:00:00.000")
    assert profile_of(processed, "pat-device")["customer_id"] == pat["customer_id"]


def test_first_time_buyer(processed: Platform):
    fay = profile_of(processed, "FAY@example.com")
    assert (fay["lifecycle_stage"], fay["lifecycle_cause"], fay["orders"], fay["revenue"]) == ("new", "first purchase", 1, 50)


def test_repeat_buyer(processed: Platform):
    rob = profile_of(processed, "rob-device")
    assert rob["lifecycle_stage"] == "repeat"
    assert (rob["orders"], rob["revenue"], rob["events_website"], rob["events_sales"]) == (2, 100, 2, 2)
    assert [(t["at"][:10], t["to_stage"]) for t in rob["lifecycle_history"]] == [("2025-10-01", "prospect"), ("2025-10-01", "new"), ("2025-11-01", "repeat")]


def test_churned_customer_who_came_back(processed: Platform):
    cat = profile_of(processed, "wechat:cat_w")
    assert (cat["phones"], cat["emails"], cat["social_handles"]) == (["+8613900000003"], ["cat@example.com"], ["wechat:cat_w"])
    assert cat["channels"] == ["social", "sales"] and cat["sources"] == ["pos", "shop", "wechat"]
    assert (cat["orders"], cat["revenue"], cat["first_purchase_at"], cat["last_purchase_at"]) == (2, 420, "2025-01-10 15:00:00.000", "2025-11-15 10:00:00.000")
    assert [(t["at"][:10], t["from_stage"], t["to_stage"]) for t in cat["lifecycle_history"]] == [
        ("2025-01-10", "", "new"),
        ("2025-04-10", "new", "at_risk"),
        ("2025-07-09", "at_risk", "churned"),
        ("2025-11-14", "churned", "at_risk"),
        ("2025-11-15", "at_risk", "won_back"),
    ]
    assert (cat["lifecycle_stage"], cat["lifecycle_cause"]) == ("won_back", "purchase after churn")
    assert profile_of(processed, "+8613900000003")["customer_id"] == cat["customer_id"] == profile_of(processed, "cat@example.com")["customer_id"]


def test_events_table_holds_every_event_once(processed: Platform):
    assert processed.runner.run() == 0
    rows = processed.warehouse.query("SELECT source_kind, count() AS n FROM cdp.events FINAL GROUP BY source_kind ORDER BY source_kind")
    assert rows == [{"source_kind": "sales", "n": 5}, {"source_kind": "social", "n": 1}, {"source_kind": "website", "n": 5}]
