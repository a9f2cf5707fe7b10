"""The console's activation pages over HTTP (the server app as ``cdp serve`` builds it, on the sample
of tests/integration/access_app.py): an admin's pages under the strict policy, a key without
``admin`` refused with a 403 page and shown no link, CSRF on every form, a secret never echoed
(not even in the form refused), addresses a webhook may not reach refused, hostile settings
escaped, a bound destination kept with the service's reason, and the service's errors on the page."""

import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from cdp.console.app import POLICY
from cdp.platform import Platform
from tests.console.test_console_http import sign_in
from tests.integration.access_app import EMAIL, AccessApp, access_app

PAGES = ["/activation/destinations", "/activation/audiences", "/activation/triggers", "/activation/deliveries", "/activation/audiences/big/dry-run"]
SECRET = "console-secret-0123456789abcdef"
POSTS = ["/activation/destinations", "/activation/destinations/big/test", "/activation/destinations/big/remove", "/activation/audiences", "/activation/audiences/big/sync",
         "/activation/audiences/big/unbind", "/activation/triggers/big/enable", "/activation/triggers/big/disable", "/activation/triggers/dry-run", "/activation/deliveries/replay"]


@pytest.fixture
def app(platform: Platform) -> Iterator[AccessApp]:
    with access_app(platform) as app:
        app.client.base_url = "http://127.0.0.1"  # type: ignore[misc]
        yield app


def test_an_admin_sees_each_page_under_the_strict_policy(app: AccessApp):
    sign_in(app.client, app.tokens["admin"])
    assert 'id="nav-activation"' in app.client.get("/customers").text
    for page in PAGES:
        answer = app.client.get(page)
        assert answer.status_code == 200, (page, answer.text[-500:])
        assert answer.headers["content-security-policy"] == POLICY
        assert not re.search(r"<[^>]+\s(style|on[a-z]+)\s*=", answer.text), page
    customer = app.client.get(f"/customer?id={quote(EMAIL)}").text
    assert 'hx-get="/customer/messages?id=' in customer


def test_a_key_without_admin_gets_no_activation_page_and_no_link(app: AccessApp):
    sign_in(app.client, app.tokens["profiles+pii"])
    assert 'id="nav-activation"' not in app.client.get("/customers").text
    assert "/customer/messages" not in app.client.get(f"/customer?id={quote(EMAIL)}").text
    for page in [p for p in PAGES if "triggers" not in p] + [f"/customer/messages?id={quote(EMAIL)}"]:
        refused = app.client.get(page)
        assert refused.status_code == 403 and "admin" in refused.text, page
    assert app.client.get("/activation/triggers").status_code == 403  # listing rules needs triggers:read
    token = sign_in(app.client, app.tokens["profiles+pii"])
    assert app.client.post("/activation/destinations/big/remove", data={"csrf": token}).status_code == 403
    assert "big" in {d.name for d in app.platform.destinations.list()}


def test_every_form_needs_the_session_csrf_token(app: AccessApp):
    sign_in(app.client, app.tokens["admin"])
    for path in POSTS:
        assert app.client.post(path, data={"name": "x"}).status_code == 403, path
    assert "big" in {d.name for d in app.platform.destinations.list()} and app.platform.outbox.binding("big") is not None


def test_adding_a_destination_never_echoes_its_secret_and_refuses_metadata_and_loopback(app: AccessApp):
    token = sign_in(app.client, app.tokens["admin"])
    add = lambda name, settings, secret=SECRET: app.client.post("/activation/destinations", data={"csrf": token, "name": name, "kind": "webhook", "settings": settings, "secret": secret})  # noqa: E731
    metadata = add("meta", 'url = "http://169.254.169.254/latest/meta-data/"\nallow_private = true')
    assert metadata.status_code == 422 and "settings.url: 169.254.169.254 is a link-local" in metadata.text
    assert SECRET not in metadata.text and "169.254.169.254/latest/meta-data/" in metadata.text  # the settings typed are kept, the secret is not
    loopback = add("loop", 'url = "http://127.0.0.1:9/hook"')
    assert loopback.status_code == 422 and "settings.url: 127.0.0.1 is a loopback or private address" in loopback.text and SECRET not in loopback.text
    named = add("mine", 'url = "http://metadata.google.internal/"')
    assert named.status_code == 422 and "cloud metadata service" in named.text
    assert "not TOML" in add("bad", "url = ").text
    chat = app.client.post("/activation/destinations", data={"csrf": token, "name": "chat", "kind": "teamchat", "settings": "", "secret": f"json://169.254.169.254/{SECRET}"})
    assert chat.status_code == 422 and "secret: line 1" in chat.text and SECRET not in chat.text
    hostile = add("hostile", 'url = "http://127.0.0.1:9/hook?<script>alert(1)</script>"\nallow_private = true')
    assert hostile.status_code == 200 and SECRET not in hostile.text
    assert "<script>alert(1)" not in hostile.text and "&lt;script&gt;alert(1)" in hostile.text
    assert [d["secret"] for d in app.client.get("/v1/destinations", headers=app.bearer("admin")).json() if d["name"] == "hostile"] == ["set"]
    failed = app.client.post("/activation/destinations/hostile/test", data={"csrf": token})  # nothing listens on port 9
    assert failed.status_code == 422 and "the test message failed: connection failed" in failed.text and SECRET not in failed.text


def test_a_bound_destination_stays_and_the_binding_form_names_the_field(app: AccessApp):
    token = sign_in(app.client, app.tokens["admin"])
    kept = app.client.post("/activation/destinations/big/remove", data={"csrf": token})
    assert kept.status_code == 422 and "is bound to the audience(s) big; unbind them first" in kept.text
    bad = app.client.post("/activation/audiences", data={"csrf": token, "name": "mail", "segment": "big", "destination": "big", "purpose": "none", "fields": ["emails"], "every_minutes": "0"})
    assert bad.status_code == 422 and "purpose: required to export contact data (emails)" in bad.text and 'value="mail"' in bad.text
    assert "every_minutes: expected a whole number" in app.client.post("/activation/audiences", data={"csrf": token, "name": "m", "segment": "big", "destination": "big", "purpose": "none", "every_minutes": "soon"}).text
    dry = app.client.get("/activation/audiences/big/dry-run").text
    assert 'id="dry-run-result"' in dry and 'id="sync-now"' in dry and "1 entered and 0 left since the last sync; 1 would be sent now, 0 skipped." in dry
    synced = app.client.post("/activation/audiences/big/sync", data={"csrf": token})
    assert "big synced: 1 entered, 0 left, 1 action(s) queued." in synced.text
    log = app.client.get("/activation/deliveries", params={"status": "pending", "customer": EMAIL}).text
    assert "audience:big" in log and ">c1<" in log
    assert "status: &#39;lost&#39; is not one of" in app.client.get("/activation/deliveries", params={"status": "lost"}).text
    assert "Choose the dead letters" in app.client.post("/activation/deliveries/replay", data={"csrf": token}).text
    assert "0 dead letter(s) back to pending." in app.client.post("/activation/deliveries/replay", data={"csrf": token, "all": "dead"}).text
    messages = app.client.get(f"/customer/messages?id={quote(EMAIL)}", headers={"HX-Request": "true"})
    assert "audience:big" in messages.text and "<html" not in messages.text
    assert app.client.post("/activation/audiences/big/unbind", data={"csrf": token}).status_code == 200
    assert app.client.post("/activation/destinations/big/remove", data={"csrf": token}).text.count("Destination big removed.") == 1
