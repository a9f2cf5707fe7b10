"""The read endpoints, mounted in the server app, on the real managed warehouse, with an admin read key."""

import pytest
from fastapi.testclient import TestClient

from cdp.platform import Platform
from tests.integration.access_app import EMAIL, access_app


@pytest.fixture
def client(platform: Platform):
    with access_app(platform) as app:
        app.client.headers.update(app.bearer("admin"))
        yield app.client


def test_profile_and_timeline_by_any_identifier(client: TestClient):
    assert client.get(f"/v1/profiles/{EMAIL}").json()["customer_id"] == "c1"
    timeline = client.get(f"/v1/profiles/{EMAIL}/timeline").json()
    assert [(e["position"], e["customer_id"]) for e in timeline] == [(4, "c1"), (2, "c1"), (1, "c0")]  # with the merged-in customer's events
    assert [e["position"] for e in client.get("/v1/profiles/c1/timeline", params={"before": 2}).json()] == [1]
    assert client.get("/v1/profiles/nobody@x.cn").status_code == 404


def test_segments_count_and_members(client: TestClient):
    assert client.get("/v1/segments").json()[0]["name"] == "big"
    assert client.get("/v1/segments/big/count").json() == {"segment": "big", "customers": 1}
    assert [m["customer_id"] for m in client.get("/v1/segments/big/members", params={"purpose": "none"}).json()] == ["c1"]
    assert client.post("/v1/segments/count", json={"name": "small", "where": {"field": "revenue", "op": "<", "value": 100}}).json()["customers"] == 1
    refused = client.post("/v1/segments/count", json={"name": "bad", "where": {"field": "revenue", "op": "<", "value": "x"}})
    assert refused.status_code == 422 and "where.value: revenue < takes a number" in refused.json()["message"]
    refused = client.post("/v1/segments/count", json={"name": "vip", "where": {"all": [{"field": "tier", "op": "=", "value": "VIP"}]}})
    assert refused.status_code == 422 and "where.all[0].value: tier has no value 'VIP'; did you mean 'vip'?" in refused.json()["message"]
    assert client.get("/v1/segments/nope/count").status_code == 404


def test_analytics_endpoints_answer(client: TestClient):
    funnel = client.get("/v1/analytics/funnel", params={"steps": "page_viewed,order_placed"}).json()
    assert [s["customers"] for s in funnel] == [1, 1]  # c1 viewed, and ordered as c0 (merged into c1), at the same time
    for path in ("retention", "lifecycle-flow", "satisfaction", "revenue", "channels", "sla"):
        assert client.get(f"/v1/analytics/{path}").status_code == 200, path
    assert client.get("/v1/analytics/sla", params={"period": "year"}).status_code == 400  # the server answers invalid parameters with 400
    assert "/v1/analytics/funnel" in client.get("/openapi.json").json()["paths"]


def test_analytics_take_a_saved_segment_and_a_breakdown(client: TestClient):
    everyone = client.get("/v1/analytics/funnel", params={"steps": "page_viewed,order_placed"}).json()
    big = client.get("/v1/analytics/funnel", params={"steps": "page_viewed,order_placed", "segment": "big", "breakdown": "channel"}).json()
    assert [(s["breakdown"], s["customers"]) for s in big] == [("sales", c["customers"]) for c in everyone]  # c1 is big; its page view came from a sales source
    for path in ("retention", "lifecycle-flow", "satisfaction", "revenue", "revenue-trend", "channels", "sla"):
        assert client.get(f"/v1/analytics/{path}", params={"segment": "big"}).status_code == 200, path
    assert client.get("/v1/analytics/revenue-trend", params={"breakdown": "campaign", "period": "week"}).status_code == 200
    missing = client.get("/v1/analytics/sla", params={"segment": "nope"})
    assert missing.status_code == 404 and missing.json()["message"] == "segment: no segment named 'nope'"
    refused = client.get("/v1/analytics/channels", params={"breakdown": "channel"})
    assert refused.status_code == 422 and refused.json()["message"] == "breakdown: expected one of source, campaign; got 'channel'"


def test_a_breakdown_by_a_persons_own_text_needs_pii_read(platform: Platform):
    """UTM source and campaign come from the event's context (personal data) or a property its payload
    may not declare: a value held by one customer is that person's own text, so without pii:read those
    breakdowns are refused; the channel, the source kind, is not personal."""
    with access_app(platform) as app:
        marketer = app.bearer("analytics:read")
        for path, breakdown in (("channels", "campaign"), ("channels", "source"), ("funnel", "campaign"), ("revenue-trend", "source")):
            answer = app.client.get(f"/v1/analytics/{path}", params={"breakdown": breakdown, "steps": "page_viewed,order_placed"}, headers=marketer)
            assert answer.status_code == 403 and answer.json()["message"] == f"breakdown {breakdown}: this tests personal data, which needs the pii:read scope"
        assert app.client.get("/v1/analytics/funnel", params={"steps": "page_viewed,order_placed", "breakdown": "channel"}, headers=marketer).status_code == 200
        assert app.client.get("/v1/analytics/channels", params={"breakdown": "campaign"}, headers=app.bearer("admin")).status_code == 200


def test_the_churn_backtest_over_http(client: TestClient):
    # this app's hand-written profiles carry no as_of: to the backtest its data ends on 1970-01-01
    answer = client.get("/v1/churn/backtest", params={"start": "1969-10-01", "end": "1969-11-01", "within_days": 30})
    assert answer.status_code == 200, answer.text
    (overall,) = answer.json()
    assert (overall["reason"], overall["population"], overall["warned"], overall["precision_pct"]) == ("(all)", 0, 0, None)
    refused = client.get("/v1/churn/backtest", params={"level": "low"})
    assert refused.status_code == 422 and refused.json()["message"] == "level: expected medium or high, got 'low'"
    too_late = client.get("/v1/churn/backtest", params={"end": "2025-01-01"})
    assert too_late.status_code == 422 and too_late.json()["message"] == (
        "end: the warnings up to 2025-01-01 need 90 days of outcome, but the data ends at 1970-01-01 00:00; choose an end on or before 1969-10-03, or fewer within_days")
    assert client.get("/v1/churn/backtest", params={"within_days": 0}).status_code == 400
    assert client.get("/openapi.json").json()["paths"]["/v1/churn/backtest"]["get"]["x-scope"] == "analytics:read"
