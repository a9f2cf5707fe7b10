"""The console's activation pages in a real Chromium against a real ``cdp serve`` (which runs the
dispatcher) over the demo data, with a real webhook receiver on loopback: a destination added (a
metadata address refused, the secret never put back in the form) and tested, a segment bound,
its dry run read before "sync now", every action received once with a valid signature, a dead
letter replayed, a trigger dry-run then enabled and disabled, the delivery log filtered and one
action's attempts, the customer's messages, 中文, and a key without ``admin`` refused. Screenshots
go where tests/console/test_browser.py writes them."""

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from cdp.config import load_settings
from cdp.platform import Platform
from cdp.segments.model import parse_segment
from tests.console.site import HOSTILE_EMAIL, Site, prepared, served
from tests.console.test_browser import choose_language, no_policy_violation, sign_in, text, wait
from tests.receivers import WebhookReceiver
from tests.services.ports import free_port
from tests.waiting import wait_until

SECRET = "a-console-webhook-secret-0123456789"
CONFIG = """
[activation]
max_attempts = 1      # a failed send is a dead letter at once (the replay to try)
poll_seconds = 0.2
breaker_failures = 10000   # every send to the dead receiver is tried (an open circuit would hold them back a minute)

[triggers.rules.thank_buyers]
description = "Thanks after each order"
when = { kind = "event", event_type = "order_placed" }
then = { destination = "hook", channel = "email", purpose = "email_marketing" }
"""
SPENDERS = {"name": "spenders", "where": {"field": "revenue", "op": ">=", "value": 100}}  # holds the hostile customer (an order of 120)


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as running:
        yield running


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data = tmp_path_factory.mktemp("activation-console") / "data"
    data.mkdir()
    (data / "cdp.toml").write_text(CONFIG)
    ready = prepared(data)
    with Platform(load_settings(data_dir=data)) as platform:
        platform.segments.create(parse_segment(SPENDERS), "test")
    with served(ready) as running:
        yield running


def refused_as_expected(browser, status: int) -> None:
    """The browser logged the refused form's status (a page with the error, as designed) and nothing else."""
    logged = [entry["message"] for entry in browser.get_log("browser")]
    assert all(message.endswith(f"the server responded with a status of {status} (Unprocessable Entity)" if status == 422 else f"status of {status} (Forbidden)") for message in logged), logged


def add_destination(browser, name: str, settings: str, secret: str) -> None:
    browser.find_element(By.ID, "destination-name").clear()
    browser.find_element(By.ID, "destination-name").send_keys(name)
    Select(browser.find_element(By.ID, "destination-kind")).select_by_value("webhook")
    browser.find_element(By.ID, "destination-settings").clear()
    browser.find_element(By.ID, "destination-settings").send_keys(settings)
    browser.find_element(By.ID, "destination-secret").send_keys(secret)
    browser.find_element(By.ID, "save-destination").click()


def bind(browser, name: str, destination: str) -> None:
    browser.find_element(By.ID, "binding-name").send_keys(name)
    Select(browser.find_element(By.ID, "binding-segment")).select_by_value("spenders")
    Select(browser.find_element(By.ID, "binding-destination")).select_by_value(destination)
    Select(browser.find_element(By.ID, "binding-purpose")).select_by_value("personalisation")  # traits are contact data: a purpose is needed
    fields = Select(browser.find_element(By.ID, "binding-fields"))
    fields.select_by_value("traits")
    fields.select_by_value("lifecycle_stage")
    browser.find_element(By.ID, "save-binding").click()
    wait(browser, lambda b: b.current_url.endswith(f"/activation/audiences/{name}/dry-run"))


def test_destinations_audiences_and_deliveries(browser, site: Site, receiver: WebhookReceiver, shots: Path):
    sign_in(browser, site, "admin", "/customers")
    browser.find_element(By.ID, "nav-activation").click()
    wait(browser, lambda b: b.current_url.endswith("/activation/destinations"))

    add_destination(browser, "meta", 'url = "http://169.254.169.254/latest/meta-data/"\nallow_private = true', SECRET)
    wait(browser, lambda b: b.find_elements(By.ID, "form-error"))
    assert "settings.url: 169.254.169.254 is a link-local" in text(browser, "form-error")
    refused_as_expected(browser, 422)
    assert browser.find_element(By.ID, "destination-secret").get_attribute("value") == "" and SECRET not in browser.page_source
    assert "169.254.169.254/latest/meta-data/" in browser.find_element(By.ID, "destination-settings").get_attribute("value")  # kept to correct
    browser.save_screenshot(str(shots / "20-destination-refused.png"))

    add_destination(browser, "hook", f'url = "{receiver.url}"\nallow_private = true', SECRET)
    wait(browser, lambda b: b.find_elements(By.ID, "destination-hook"))
    add_destination(browser, "down", f'url = "http://127.0.0.1:{free_port()}/hook"\nallow_private = true', SECRET)  # nothing listens there
    wait(browser, lambda b: b.find_elements(By.ID, "destination-down"))
    browser.find_element(By.CSS_SELECTOR, "#destination-hook .test-destination").click()
    wait(browser, lambda b: b.find_elements(By.ID, "notice"))
    assert text(browser, "notice") == "Test message sent to hook: HTTP 200"
    assert len(receiver.received.accepted) == 1 and receiver.received.bad_signatures == []
    assert SECRET not in browser.page_source and "set (never shown)" in text(browser, "destination-hook")
    browser.save_screenshot(str(shots / "21-destinations.png"))
    no_policy_violation(browser)

    browser.find_element(By.LINK_TEXT, "Audiences").click()
    bind(browser, "spenders_hook", "hook")
    summary = text(browser, "dry-run-summary")
    entered = len(browser.find_elements(By.CSS_SELECTOR, "#dry-run-actions tbody tr"))
    sending = len(browser.find_elements(By.CSS_SELECTOR, "#dry-run-actions td.yes"))
    assert entered > 10 and summary == f"{entered} entered and 0 left since the last sync; {sending} would be sent now, {entered - sending} skipped."
    assert sending > 0 and all(e.text for e in browser.find_elements(By.CSS_SELECTOR, "#dry-run-actions td.no + td"))  # each skip says why
    assert browser.execute_script("return window.pwned") is None and "window.pwned = 1" in text(browser, "dry-run-actions")  # the hostile name, as text
    assert len(receiver.received.accepted) == 1  # a dry run sends nothing
    browser.save_screenshot(str(shots / "22-audience-dry-run.png"))
    browser.find_element(By.ID, "sync-now").click()
    wait(browser, lambda b: b.find_elements(By.ID, "notice"))
    assert text(browser, "notice") == f"spenders_hook synced: {entered} entered, 0 left, {entered} action(s) queued."
    wait_until(lambda: len(receiver.received.accepted) == 1 + sending, 120)  # the dispatcher in `cdp serve`; consent checked again at send time
    assert set(receiver.received.acceptances.values()) == {1} and receiver.received.bad_signatures == []
    browser.get(site.url + "/activation/audiences")
    assert "log position" in text(browser, "binding-spenders_hook")
    browser.save_screenshot(str(shots / "23-audiences.png"))

    bind(browser, "spenders_down", "down")
    browser.find_element(By.ID, "sync-now").click()
    wait(browser, lambda b: b.get(site.url + "/activation/deliveries?status=dead") or len(b.find_elements(By.CSS_SELECTOR, "#deliveries input[name=action_id]")) == sending)
    assert {e.text for e in browser.find_elements(By.CSS_SELECTOR, "#deliveries .delivery-status")} == {"dead letter"}
    assert "connection failed" in text(browser, "deliveries")
    browser.save_screenshot(str(shots / "24-deliveries-dead.png"))
    browser.find_elements(By.CSS_SELECTOR, "#deliveries input[name=action_id]")[0].click()
    browser.find_element(By.ID, "replay-selected").click()
    wait(browser, lambda b: b.find_elements(By.ID, "notice"))
    assert text(browser, "notice") == "1 dead letter(s) back to pending."
    no_policy_violation(browser)

    reached = next(body["customer_id"] for body in receiver.received.accepted.values() if body["rule"] == "audience:spenders_hook")
    browser.get(site.url + f"/activation/deliveries?status=delivered&customer={quote(reached)}")
    rows = browser.find_elements(By.CSS_SELECTOR, "#deliveries tbody tr")
    assert len(rows) == 1 and "audience:spenders_hook" in rows[0].text
    rows[0].find_element(By.CSS_SELECTOR, "a").click()
    wait(browser, lambda b: b.find_elements(By.ID, "attempts"))
    assert "HTTP 200" in text(browser, "attempts")
    browser.save_screenshot(str(shots / "25-delivery-attempts.png"))

    browser.get(site.url + f"/customer?id={quote(reached)}")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#customer-messages tbody tr .delivery-status"))
    assert "audience:spenders_hook" in text(browser, "messages") and "audience:spenders_down" in text(browser, "messages")
    browser.save_screenshot(str(shots / "26-customer-messages.png"))

    browser.get(site.url + "/activation/destinations")
    browser.find_element(By.CSS_SELECTOR, "#destination-down .remove-destination").click()
    wait(browser, lambda b: b.find_elements(By.ID, "form-error"))
    assert "'down' is bound to the audience(s) spenders_down; unbind them first" in text(browser, "form-error")
    refused_as_expected(browser, 422)
    no_policy_violation(browser)


def test_triggers_dry_run_enable_and_disable(browser, site: Site, shots: Path):
    sign_in(browser, site, "admin", "/activation/triggers")
    assert "disabled" in text(browser, "trigger-thank_buyers") and "an event" in text(browser, "trigger-thank_buyers")
    since = browser.find_element(By.ID, "dry-run-since")
    browser.execute_script("arguments[0].value = '2020-01-01'", since)
    browser.find_element(By.ID, "run-dry-run").click()
    wait(browser, lambda b: b.find_elements(By.ID, "dry-run-result"))
    actions = int(text(browser, "dry-run-rules-result").split("\n")[1].split()[1].replace(",", ""))
    assert actions > 10 and len(browser.find_elements(By.CSS_SELECTOR, "#dry-run-sample tbody tr")) == 10
    assert "order_placed" not in text(browser, "dry-run-sample") and "p:" in text(browser, "dry-run-sample")  # causes named by log position
    browser.save_screenshot(str(shots / "27-trigger-dry-run.png"))

    bad = browser.find_element(By.ID, "dry-run-rules")
    bad.send_keys('[rules.x]\nwhen = { kind = "event", event_type = "nope" }')
    browser.find_element(By.ID, "run-dry-run").click()
    wait(browser, lambda b: b.find_elements(By.ID, "form-error"))
    assert "unknown event type 'nope'" in text(browser, "form-error")
    refused_as_expected(browser, 422)

    browser.find_element(By.CSS_SELECTOR, "#trigger-thank_buyers .enable-trigger").click()
    wait(browser, lambda b: b.find_elements(By.ID, "notice"))
    assert text(browser, "notice") == "Trigger thank_buyers enabled; 0 backfilled action(s) queued."
    assert "enabled since" in text(browser, "trigger-thank_buyers")
    browser.save_screenshot(str(shots / "28-triggers.png"))
    browser.get(site.url + "/activation/destinations")
    Select(browser.find_element(By.ID, "destination-kind")).select_by_value("file")
    browser.find_element(By.CSS_SELECTOR, "#destination-hook .remove-destination").click()
    wait(browser, lambda b: b.find_elements(By.ID, "form-error"))
    assert "'hook' is bound to the audience(s) spenders_hook" in text(browser, "form-error")
    refused_as_expected(browser, 422)
    browser.get(site.url + "/activation/triggers")
    browser.find_element(By.CSS_SELECTOR, "#trigger-thank_buyers .disable-trigger").click()
    wait(browser, lambda b: b.find_elements(By.ID, "notice"))
    assert "disabled" in text(browser, "trigger-thank_buyers")
    no_policy_violation(browser)


def test_in_chinese_and_refused_without_admin(browser, site: Site, shots: Path):
    sign_in(browser, site, "admin", "/activation/deliveries?status=delivered")
    choose_language(browser, "zh-CN")
    assert "发送记录" in text(browser, "activation-tabs") and "已送达" in text(browser, "deliveries")
    browser.save_screenshot(str(shots / "29-deliveries-zh.png"))
    browser.get(site.url + "/activation/audiences")
    assert "受众同步" in browser.find_element(By.TAG_NAME, "h1").text + text(browser, "activation-tabs")
    browser.save_screenshot(str(shots / "30-audiences-zh.png"))
    choose_language(browser, "en")
    browser.find_element(By.ID, "signout").click()
    wait(browser, lambda b: "/signin" in b.current_url)

    sign_in(browser, site, "marketer", "/customers")
    assert not browser.find_elements(By.ID, "nav-activation")
    for page in ("destinations", "audiences", "triggers", "deliveries"):
        browser.get(site.url + f"/activation/{page}")
        assert "this needs the" in browser.find_element(By.TAG_NAME, "main").text, page
    browser.save_screenshot(str(shots / "31-activation-refused.png"))
    refused_as_expected(browser, 403)
    browser.get(site.url + f"/customer?id={quote(HOSTILE_EMAIL)}")
    assert not browser.find_elements(By.ID, "messages")
    no_policy_violation(browser)
