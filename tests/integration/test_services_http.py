"""The HTTP door over the services: what a service refuses is answered with its status and
message, and audited with its outcome, exactly as through the CLI."""

import pytest

from cdp.platform import Platform
from tests.integration.access_app import EMAIL, AccessApp, access_app


@pytest.fixture
def app(platform: Platform):
    with access_app(platform) as served:
        yield served


def outcomes(app: AccessApp, action: str) -> list[tuple[str, str, str]]:
    return [(r.actor, r.target, r.outcome) for r in app.platform.audit.query(action=action)]


def test_an_analysis_refused_by_the_service_is_422_naming_the_field_and_audited(app: AccessApp):
    long_step = "x" * 300
    refused = app.client.get("/v1/analytics/funnel", params={"steps": f"a,{long_step}"}, headers=app.bearer("analytics:read"))
    assert refused.status_code == 422 and refused.json()["message"] == "steps: an event type has at most 200 characters"
    ok = app.client.get("/v1/analytics/funnel", params={"steps": "page_viewed,order_placed", "start": "2025-01-01"}, headers=app.bearer("analytics:read"))
    assert ok.status_code == 200 and [row["step"] for row in ok.json()] == [1, 2]
    assert outcomes(app, "analytics.read") == [("key:analytics-read", "funnel", "invalid"), ("key:analytics-read", "funnel", "ok")]
    assert long_step not in str(app.platform.audit.query(action="analytics.read")[0].detail)  # parameters are kept cut short


def test_forgetting_over_http_is_the_privacy_service_with_the_keys_actor(app: AccessApp):
    assert app.client.post(f"/v1/customers/{EMAIL}/forget", headers=app.bearer("analytics:read")).status_code == 403
    missing = app.client.post("/v1/customers/nobody@x.cn/forget", headers=app.bearer("admin"))
    assert missing.status_code == 404 and "no customer has the identifier 'nobody@x.cn'" in missing.json()["message"]
    [(actor, target, outcome)] = outcomes(app, "customer.forget")
    assert (actor, outcome) == ("key:admin", "not_found") and target.startswith("sha256:")
