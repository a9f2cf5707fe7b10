"""The activation routes over HTTP: the CLI's rules and messages, secrets never answered."""

import pytest
from projections.triggers import TriggerRules

from cdp.platform import Platform
from cdp.services import Caller
from cdp.services.triggers import TriggerService
from tests.integration.access_app import AccessApp, access_app

SECRET = "an-http-secret-0123456789abcdef"


@pytest.fixture
def app(platform: Platform):
    with access_app(platform) as app:
        yield app


def test_destinations_over_http_refuse_bad_input_by_field_and_never_answer_the_secret(app: AccessApp):
    admin, client = app.bearer("admin"), app.client
    metadata = {"name": "meta", "kind": "webhook", "settings": {"url": "http://169.254.169.254/latest/meta-data/", "allow_private": True}, "secret": SECRET}
    refused = client.post("/v1/destinations", json=metadata, headers=admin)
    assert refused.status_code == 422 and refused.json()["message"].startswith("settings.url: 169.254.169.254 is a link-local")
    assert client.post("/v1/destinations", json={"kind": "file"}, headers=admin).json()["message"] == "name: required"
    assert client.post("/v1/destinations", json={"name": "x", "kind": "pigeon"}, headers=admin).json()["message"].startswith("kind: unknown destination kind 'pigeon'")
    hook = {"name": "hook", "kind": "webhook", "settings": {"url": "http://127.0.0.1:9/hook", "allow_private": True}, "secret": SECRET}
    assert client.post("/v1/destinations", json=hook, headers=admin).status_code == 201
    assert client.post("/v1/destinations", json=hook, headers=admin).status_code == 409
    listed = client.get("/v1/destinations", headers=admin)
    assert SECRET not in listed.text and {d["name"]: d["secret"] for d in listed.json()} == {"big": "none", "hook": "set"}
    failed = client.post("/v1/destinations/hook/test", headers=admin)  # nothing listens on port 9
    assert failed.status_code == 422 and failed.json()["message"].startswith("destination 'hook': the test message failed: connection failed") and SECRET not in failed.text


def test_audiences_and_the_delivery_log_over_http(app: AccessApp):
    admin, client = app.bearer("admin"), app.client
    bad = client.post("/v1/audiences", json={"name": "mail", "segment": "big", "destination": "big", "purpose": "email_marketing", "fields": ["emails", "shoe_size"]}, headers=admin)
    assert bad.status_code == 422 and bad.json()["message"].startswith("fields: no profile column 'shoe_size'")
    contact = client.post("/v1/audiences", json={"name": "mail", "segment": "big", "destination": "big", "purpose": "none", "fields": ["emails"]}, headers=admin)
    assert contact.status_code == 422 and contact.json()["message"].startswith("purpose: required to export contact data (emails)")
    dry = client.get("/v1/audiences/big/dry-run", headers=admin).json()
    assert [(a["change"], a["would_send"]) for a in dry["actions"]] == [("entered", True)]  # c1: revenue 600, purpose none: no consent needed
    assert client.post("/v1/audiences/big/sync", headers=admin).json()["actions_added"] == 1
    assert client.post("/v1/audiences/big/sync", headers=admin).json()["actions_added"] == 0
    [pending] = client.get("/v1/deliveries", params={"status": "pending"}, headers=admin).json()
    assert pending["customer_id"] == "c1" and pending["rule"] == "audience:big"
    assert client.get("/v1/deliveries", params={"status": "lost"}, headers=admin).json()["message"].startswith("status: 'lost' is not one of")
    assert client.post("/v1/deliveries/replay", json={"action_ids": "x"}, headers=admin).json()["message"] == "action_ids: expected an array"
    assert client.post("/v1/deliveries/replay", json={"action_ids": ["nope"]}, headers=admin).json()["message"].startswith("action_id: 'nope' is not an action id")
    assert client.post("/v1/deliveries/replay", json={"all": True}, headers=admin).json() == {"replayed": 0}


def test_removing_destinations_and_audiences_over_http(app: AccessApp):
    admin, client, platform = app.bearer("admin"), app.client, app.platform
    assert client.delete("/v1/destinations/big", headers=app.bearer("profiles:read")).status_code == 403
    bound = client.delete("/v1/destinations/big", headers=admin)
    assert bound.status_code == 409 and bound.json()["message"] == "destination: 'big' is bound to the audience(s) big; unbind them first (`cdp audiences unbind NAME`)"
    assert client.delete("/v1/audiences/nope", headers=admin).json()["message"] == "audience: no binding is named 'nope' (see `cdp audiences list`)"
    assert client.delete("/v1/audiences/nope", headers=admin).status_code == 404
    assert client.delete("/v1/audiences/big", headers=admin).status_code == 204
    assert client.get("/v1/audiences", headers=admin).json() == []

    rule = {"when": {"kind": "birthday"}, "then": {"destination": "big", "channel": "email", "purpose": "email_marketing"}}
    platform.settings.triggers = TriggerRules.model_validate({"rules": {"greet": rule}})
    triggers = TriggerService(platform, Caller("operator", frozenset({"admin"})))
    triggers.enable("greet")
    firing = client.delete("/v1/destinations/big", headers=admin)
    assert firing.status_code == 409 and firing.json()["message"] == "destination: 'big' is used by the enabled trigger(s) greet; disable them first (`cdp triggers disable NAME`)"
    triggers.disable("greet")
    assert client.delete("/v1/destinations/big", headers=admin).status_code == 204
    assert client.get("/v1/destinations", headers=admin).json() == []
    missing = client.delete("/v1/destinations/big", headers=admin)
    assert missing.status_code == 404 and missing.json()["message"] == "destination: none is named 'big' (see `cdp destinations list`)"
    assert [r.outcome for r in platform.audit.query(action="destination.remove")][-4:] == ["conflict", "conflict", "ok", "not_found"]
