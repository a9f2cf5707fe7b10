"""The read endpoints, mounted in a small app of their own, on a real chDB warehouse."""

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cdp.analytics.http import read_router
from cdp.config import Settings
from cdp.platform import Platform
from cdp.segments.model import parse_segment
from projections.tables import profiles
from projections.tables.table import blank_row
from tests.integration.wh_contract import event_row


@pytest.fixture
def client(settings: Settings):
    with Platform(settings) as platform:
        w = platform.warehouse
        w.insert("profiles", [blank_row(profiles.TABLE) | {"customer_id": c, "version": 1, "revenue": r, "lifecycle_stage": "new", "emails": [f"{c}@x.cn"]} for c, r in [("c1", 600.0), ("c2", 50.0)]])
        w.insert("identities", [{"identifier": f"email:{c}@x.cn", "id_type": "email", "customer_id": c, "version": 1} for c in ("c1", "c2")])
        w.insert("customer_merges", [{"absorbed": "c0", "survivor": "c1", "position": 2, "occurred_at": datetime(2025, 1, 1, tzinfo=UTC), "reason": "r"}])
        w.insert("events", [event_row(1, customer="c0"), event_row(2, "page_viewed", customer="c1"), event_row(3, customer="c2")])
        platform.segments.save(parse_segment({"name": "big", "where": {"field": "revenue", "op": ">=", "value": 500}}))
        app = FastAPI()
        app.include_router(read_router(lambda: platform.warehouse, lambda: platform.segments))
        yield TestClient(app)


def test_profile_and_timeline_by_any_identifier(client: TestClient):
    assert client.get("/v1/profiles/c1@x.cn").json()["customer_id"] == "c1"
    timeline = client.get("/v1/profiles/c1@x.cn/timeline").json()
    assert [(e["position"], e["customer_id"]) for e in timeline] == [(2, "c1"), (1, "c0")]  # with the merged-in customer's events
    assert [e["position"] for e in client.get("/v1/profiles/c1/timeline", params={"before": 2}).json()] == [1]
    assert client.get("/v1/profiles/nobody@x.cn").status_code == 404


def test_segments_count_and_members(client: TestClient):
    assert client.get("/v1/segments").json()[0]["name"] == "big"
    assert client.get("/v1/segments/big/count").json() == {"segment": "big", "customers": 1}
    assert [m["customer_id"] for m in client.get("/v1/segments/big/members").json()] == ["c1"]
    assert client.post("/v1/segments/count", json={"name": "small", "where": {"field": "revenue", "op": "<", "value": 100}}).json()["customers"] == 1
    refused = client.post("/v1/segments/count", json={"name": "bad", "where": {"field": "revenue", "op": "<", "value": "x"}})
    assert refused.status_code == 422 and "where.value: revenue < takes a number" in refused.json()["detail"]
    assert client.get("/v1/segments/nope/count").status_code == 404


def test_analytics_endpoints_answer(client: TestClient):
    funnel = client.get("/v1/analytics/funnel", params={"steps": "page_viewed,order_placed"}).json()
    assert [s["customers"] for s in funnel] == [1, 1]  # c1 viewed, and ordered as c0 (merged into c1), at the same time
    for path in ("retention", "lifecycle-flow", "satisfaction", "revenue", "channels", "sla"):
        assert client.get(f"/v1/analytics/{path}").status_code == 200, path
    assert client.get("/v1/analytics/sla", params={"period": "year"}).status_code == 422
    assert "/v1/analytics/funnel" in client.get("/openapi.json").json()["paths"]
